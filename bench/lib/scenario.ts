/**
 * The shape of a benchmark scenario and the options it can be given on the command line
 * (`node bench/run.ts <scenario> --services=500`).
 *
 * @module
 */
import type { ScenarioResult } from "./report.ts";

export interface ScenarioContext {
  /** Progress lines (stderr), so a long run shows where it is. */
  log(line: string): void;
  /** `--key=value` options given on the command line. */
  readonly options: ReadonlyMap<string, string>;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** The options it reads, with their defaults, for `--help`. */
  readonly optionHelp: Readonly<Record<string, string>>;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

/** A positive integer option, or `fallback`; throws naming the option when the value is not one. */
export function intOption(context: ScenarioContext, key: string, fallback: number): number {
  const raw = context.options.get(key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${key}=${raw}: expected a non-negative integer`);
  return value;
}

/** A comma-separated list of integers of at least `min` (default 1), or `fallback`. */
export function intListOption(context: ScenarioContext, key: string, fallback: readonly number[], min = 1): number[] {
  const raw = context.options.get(key);
  if (raw === undefined) return [...fallback];
  const values = raw.split(",").map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < min)) {
    throw new Error(`--${key}=${raw}: expected integers of at least ${min} separated by commas, e.g. ${min},10,20`);
  }
  return values;
}
