/**
 * What every side-by-side scenario shares: its common options (repetitions, one side only, what-ifs
 * for the lb-provisioner process), running a body once per controller per repetition in alternating
 * order with the load average recorded, and folding the runs into comparison rows (medians of the
 * runs, or percentiles of every run's samples pooled).
 *
 * @module
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ComparisonRow } from "./comparison.ts";
import { median } from "./comparison.ts";
import { CONTENDERS, type ContenderName, orderFor, type StartOptions } from "./contenders.ts";
import { intOption, type ScenarioContext } from "./scenario.ts";
import { percentile, round } from "./stats.ts";

/** Options every side-by-side scenario reads, with their help. */
export const COMMON_OPTION_HELP = {
  repetitions: "runs of each controller, alternating which goes first (scenario's default)",
  only: "run one side only: upstream or lb-provisioner (both)",
  "child-node-options": 'what-if: Node.js flags for the lb-provisioner process, e.g. "--max-semi-space-size=1" (none)',
  "child-env": 'what-if: environment for the lb-provisioner process, e.g. "MALLOC_ARENA_MAX=2" (none)',
} as const;

export interface CommonOptions {
  readonly repetitions: number;
  readonly only: ContenderName | undefined;
  /** How to start a controller process, less the kubeconfig. */
  readonly start: Omit<StartOptions, "kubeconfigPath">;
}

const LOG_DIR = fileURLToPath(new URL("../results/logs/", import.meta.url));

/** `NAME=value NAME2=value2` into an environment object; throws naming the option on anything else. */
export function parseEnv(raw: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of raw.split(" ").filter(Boolean)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair);
    if (!match) throw new Error(`--child-env: "${pair}" is not NAME=value`);
    env[match[1] as string] = match[2] as string;
  }
  return env;
}

export function commonOptions(context: ScenarioContext, defaultRepetitions: number): CommonOptions {
  const only = context.options.get("only");
  if (only !== undefined && !(CONTENDERS as readonly string[]).includes(only)) {
    throw new Error(`--only=${only}: expected one of ${CONTENDERS.join(", ")}`);
  }
  const repetitions = intOption(context, "repetitions", defaultRepetitions);
  if (repetitions < 1) throw new Error(`--repetitions=${repetitions}: expected at least 1`);
  return {
    repetitions,
    only: only as ContenderName | undefined,
    start: {
      logDir: join(LOG_DIR, new Date().toISOString().replaceAll(":", "-")),
      nodeOptions: (context.options.get("child-node-options") ?? "").split(" ").filter(Boolean),
      env: parseEnv(context.options.get("child-env") ?? ""),
    },
  };
}

/** One measured run of one controller. */
export type Run<T> = T & {
  readonly contender: ContenderName;
  readonly repetition: number;
  /** 1-minute load average when the run started. */
  readonly loadAverage: number;
};

/** Runs `body` for each controller in each repetition, alternating which goes first. */
export async function eachContender<T extends object>(
  context: ScenarioContext,
  common: CommonOptions,
  body: (contender: ContenderName, repetition: number) => Promise<T>,
): Promise<Run<T>[]> {
  const runs: Run<T>[] = [];
  for (let repetition = 0; repetition < common.repetitions; repetition++) {
    for (const contender of orderFor(repetition, common.only)) {
      const loadAverage = round(loadavg()[0] ?? 0, 2);
      context.log(`${contender}, run ${repetition + 1}/${common.repetitions} (load average ${loadAverage})`);
      runs.push({ ...(await body(contender, repetition)), contender, repetition, loadAverage });
    }
  }
  return runs;
}

/** A comparison row from `runs`: the median of `pick` over each side's runs. */
export function compareRuns<T>(
  runs: readonly Run<T>[],
  metric: string,
  unit: string,
  pick: (run: Run<T>) => number | undefined,
  digits = 1,
): ComparisonRow {
  const side = (contender: ContenderName) =>
    median(
      runs
        .filter((run) => run.contender === contender)
        .map(pick)
        .filter((value): value is number => value !== undefined && Number.isFinite(value)),
    );
  return { metric, unit, reference: side("upstream"), lbProvisioner: side("lb-provisioner"), digits };
}

export const mebibytes = (bytes: number): number => bytes / 2 ** 20;

/**
 * A comparison row from `runs`: the `p`th percentile of every sample of each side's runs, pooled. For a
 * tail percentile this is the statistic to judge: the p99 of one run of 200 samples is its third-largest
 * sample, and the median of a few of those moves by half from set to set; pooled, eight runs give 1,600.
 */
export function comparePooled<T>(
  runs: readonly Run<T>[],
  metric: string,
  unit: string,
  samples: (run: Run<T>) => readonly number[],
  p: number,
  digits = 1,
): ComparisonRow {
  const side = (contender: ContenderName) => {
    const pooled = runs
      .filter((run) => run.contender === contender)
      .flatMap(samples)
      .sort((a, b) => a - b);
    return pooled.length === 0 ? undefined : percentile(pooled, p);
  };
  return { metric, unit, reference: side("upstream"), lbProvisioner: side("lb-provisioner"), digits };
}
