/**
 * The shape of a benchmark scenario and the options it can be given on the command line
 * (`node bench/run.ts <scenario> --services=500`).
 *
 * @module
 */
import type { reuseOneConnectionPool } from "./connection-reuse.ts";
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

/** A comma-separated list of positive integers, or `fallback`. */
export function intListOption(context: ScenarioContext, key: string, fallback: readonly number[]): number[] {
  const raw = context.options.get(key);
  if (raw === undefined) return [...fallback];
  const values = raw.split(",").map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < 1)) {
    throw new Error(`--${key}=${raw}: expected positive integers separated by commas, e.g. 5,10,20`);
  }
  return values;
}

/** `--reuse-connections`: run the controller with {@link reuseOneConnectionPool} (a what-if). */
export function reuseConnectionsOption(context: ScenarioContext): boolean {
  const raw = context.options.get("reuse-connections");
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  throw new Error(`--reuse-connections=${raw}: expected no value, true or false`);
}
