/**
 * Wiring shared by the operator commands (`plan`, `status`, `gc`): a client for the cluster and the
 * configured provider, from the same validated {@link Config} `run` uses, so an operator points them at
 * exactly what the controller sees.
 *
 * @module
 */
import { loadProvider } from "../../providers/index.ts";
import type { Config } from "../config.ts";
import { loadKubeConfig } from "../kube/config.ts";
import { createLogger } from "../observability/logger.ts";
import type { OperatorDeps } from "./run-plan.ts";

/**
 * Connects to the cluster and loads the provider. Provider log lines go to stderr at `warn`, so the
 * command's own output (possibly JSON) stays clean on stdout. Close with `deps.provider.close?.()`.
 */
export async function connectOperator(config: Config): Promise<OperatorDeps> {
  const kubeConfig = loadKubeConfig({ kubeconfig: config.kubeconfig });
  const logger = createLogger("warn", process.stderr);
  const provider = await loadProvider(config.provider, {
    clusterName: config.clusterName,
    logger,
    settings: config.providerSettings,
  });
  return {
    kubeConfig,
    provider,
    clusterName: config.clusterName,
    selection: { loadBalancerClass: config.loadBalancerClass },
  };
}

/**
 * Said on stderr when `--provider fake` is used from a command line: the fake cloud lives in the memory
 * of the process that runs it, so a separate command sees an empty one.
 */
export const FAKE_PROVIDER_NOTE =
  "note: the fake provider keeps its load balancers in the memory of the process running it; this command sees its own, empty fake cloud";
