/**
 * What the operator commands `plan`, `status` and `gc` do once their flags are parsed: connect to the
 * cluster and the provider, read (and for `gc --yes`, delete), print, close the provider. The command
 * definitions in `src/commands/` import this module only when one of them runs, so `--help`, `version`
 * and `run` never load it.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { connectOperator, FAKE_PROVIDER_NOTE } from "./connect.ts";
import { renderGc, runGc } from "./gc.ts";
import { type OutputFormat, planExitCode, renderPlanJson, renderPlanText } from "./render.ts";
import { type OperatorDeps, runPlan } from "./run-plan.ts";
import { renderStatusTable, runStatus } from "./service-status.ts";

/** Connects, runs `work`, and closes the provider whatever happened. */
async function withOperator<T>(config: Config, work: (deps: OperatorDeps) => Promise<T>): Promise<T> {
  if (config.provider === "fake") process.stderr.write(`${FAKE_PROVIDER_NOTE}\n`);
  const deps = await connectOperator(config);
  try {
    return await work(deps);
  } finally {
    await deps.provider.close?.();
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

/** `gc`: lists the orphaned load balancers, and deletes them with `yes`. */
export function gcMain(config: Config, options: { readonly yes: boolean }): Promise<void> {
  return withOperator(config, async (deps) => {
    process.stdout.write(renderGc(await runGc(deps, options), config.clusterName));
  });
}
