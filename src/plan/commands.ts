/**
 * What the operator commands `plan`, `status` and `gc` do once their flags are parsed: connect to the
 * cluster and the provider, read (and for `gc --yes`, delete), print, close the provider. The command
 * definitions in `src/commands/` import this module only when one of them runs, so `--help`, `version`
 * and `run` never load it.
 *
 * @module
 */
import { commandLogger, connect } from "../composition.ts";
import type { Config } from "../config/index.ts";
import { EXIT_FAILURE, EXIT_OK } from "../exit-codes.ts";
import { renderGc, runGc } from "./gc.ts";
import { type OutputFormat, planExitCode, renderPlanJson, renderPlanText } from "./render.ts";
import { type OperatorDeps, runPlan } from "./run-plan.ts";
import { renderStatusTable, runStatus } from "./service-status.ts";

/**
 * Said on stderr when `--provider fake` is used from a command line: the fake cloud lives in the memory
 * of the process that runs it, so a separate command sees an empty one.
 */
export const FAKE_PROVIDER_NOTE =
  "note: the fake provider keeps its load balancers in the memory of the process running it; this command sees its own, empty fake cloud";

/**
 * Said on stderr when `--provider local` is used from a command line: the local load balancers are
 * listeners of the controller process, so a separate command sees none.
 */
export const LOCAL_PROVIDER_NOTE =
  "note: the local provider's load balancers are listeners of the controller process running it; this command sees its own, empty data plane";

const IN_PROCESS_NOTES: Readonly<Record<string, string>> = { fake: FAKE_PROVIDER_NOTE, local: LOCAL_PROVIDER_NOTE };

/** Connects through the composition root, runs `work`, and closes the provider whatever happened. */
async function withOperator<T>(config: Config, work: (deps: OperatorDeps) => Promise<T>): Promise<T> {
  const { kubeConfig, provider } = await connect(config, { logger: commandLogger(config, "operator") });
  // Once connected: a command refused for its flags says that, in its one line, and nothing else.
  const note = IN_PROCESS_NOTES[config.provider];
  if (note !== undefined) process.stderr.write(`${note}\n`);
  try {
    return await work({
      kubeConfig,
      provider,
      clusterName: config.clusterName,
      selection: { loadBalancerClass: config.loadBalancerClass },
    });
  } finally {
    await provider.close?.();
  }
}

/** `plan`: prints the plans; resolves with the exit code (2 when something would change). */
export function planMain(
  config: Config,
  target: { readonly namespace: string; readonly name: string } | undefined,
  output: OutputFormat,
): Promise<number> {
  return withOperator(config, async (deps) => {
    const plans = await runPlan(deps, target);
    process.stdout.write(output === "json" ? renderPlanJson(plans) : renderPlanText(plans));
    return planExitCode(plans);
  });
}

/** `status`: prints one row per managed Service. */
export function statusMain(config: Config, output: OutputFormat): Promise<void> {
  return withOperator(config, async (deps) => {
    const rows = await runStatus(deps);
    process.stdout.write(
      output === "json" ? `${JSON.stringify(rows, null, 2)}\n` : renderStatusTable(rows, new Date()),
    );
  });
}

/**
 * `gc`: lists the orphaned load balancers and leftovers, and deletes them with `yes`; resolves with the
 * exit code (1 when one could not be deleted, e.g. its deletion protection is on).
 */
export function gcMain(config: Config, options: { readonly yes: boolean }): Promise<number> {
  return withOperator(config, async (deps) => {
    const result = await runGc(deps, options);
    process.stdout.write(renderGc(result, config.clusterName));
    return result.failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
  });
}
