/**
 * `lb-provisioner demo` (`npm run demo`): the product end to end on this machine, with no cluster and no
 * cloud account — an embedded kube-apiserver + etcd, the seed scenario, and the controller with the fake
 * provider (or `--provider aws` against moto / `AWS_ENDPOINT_URL`). Exits 0 leaving nothing behind.
 *
 * The scenario and the embedded environment live in the top-level `sandbox/` module, imported only when
 * the demo runs: no other command loads it, and an installation without it (the container image ships
 * only what `run` needs) says so in one line.
 *
 * @module
 */
import { Command, Option } from "commander";
import { LOG_LEVELS } from "../observability/log-levels.ts";

/** Providers the demo can show. */
export const DEMO_PROVIDERS = ["fake", "aws"] as const;
export type DemoProvider = (typeof DEMO_PROVIDERS)[number];

/** The demo is not installed here; the message says where to run it instead. */
export class DemoUnavailableError extends Error {
  override readonly name = "DemoUnavailableError";
}

/** The sandbox's demo module; only a missing sandbox itself (not a missing dependency of it) is explained. */
async function importSandbox() {
  try {
    return await import("../../sandbox/demo/index.ts");
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (code !== "ERR_MODULE_NOT_FOUND" || !String(message).includes("sandbox/demo/index.")) throw error;
    throw new DemoUnavailableError(
      "the demo is not part of this installation (the container image ships only what `run` needs); run it from a checkout of the project with `npm run demo`, or from the npm package with `npx lb-provisioner demo`",
      { cause: error },
    );
  }
}

interface DemoFlags {
  readonly provider: DemoProvider;
  readonly keep: boolean;
  readonly clusterName: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

export function demoCommand(): Command {
  return new Command("demo")
    .description(
      "run the seed scenario end to end on an embedded kube-apiserver + etcd: a NodePort Service switched to " +
        "LoadBalancer, a node added, the Service deleted; then stop everything",
    )
    .addOption(new Option("--provider <name>", "provider to demonstrate").choices(DEMO_PROVIDERS).default("fake"))
    .option("--keep", "leave the cluster running after the fourth node, until Ctrl-C", false)
    .option("--cluster-name <name>", "cluster name the provider scopes its resources to", "demo")
    .addOption(
      new Option("--log-level <level>", "controller log lines on stderr").choices(LOG_LEVELS).default("silent"),
    )
    .action(async (flags: DemoFlags) => {
      const { demoParts, runDemo, wasReported } = await importSandbox();
      const { createLogger } = await import("../observability/logger.ts");
      const logger = createLogger(flags.logLevel, process.stderr);
      const interrupted = new AbortController();
      let keepUntil: () => void = () => {};
      const kept = new Promise<void>((resolve) => {
        keepUntil = resolve;
      });
      // The first Ctrl-C ends a kept demo (or aborts a running one) and still cleans up; a second one exits.
      const onSignal = (): void => {
        if (interrupted.signal.aborted) process.exit(130);
        if (flags.keep) keepUntil();
        else interrupted.abort(new Error("interrupted"));
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        process.stdout.write(`lb-provisioner demo: embedded kube-apiserver + etcd, ${flags.provider} provider\n\n`);
        await runDemo(demoParts(flags.provider, logger), {
          out: process.stdout,
          clusterName: flags.clusterName,
          keep: flags.keep,
          keepUntil: kept,
          signal: interrupted.signal,
          ...(flags.provider === "aws" ? { stepTimeoutMs: 120_000 } : {}),
        });
        process.stdout.write("Done: everything the demo started is stopped and removed.\n");
      } catch (error) {
        // The failed step already printed its one line; repeat it only when no step was running.
        process.exitCode = 1;
        if (!wasReported(error)) {
          process.stderr.write(`lb-provisioner: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
