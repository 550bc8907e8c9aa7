/**
 * What a scenario returns, how it is printed, and the JSON written under `bench/results/`.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ComparisonTable, renderComparison, renderTargets, type TargetCheck } from "./comparison.ts";
import type { MachineInfo } from "./machine.ts";

/** Whether a scenario's target was met; `informational` when it measures without a pass/fail line. */
export type Verdict = "met" | "missed" | "informational";

/** One line of a scenario's results table. */
export interface ResultRow {
  readonly metric: string;
  readonly value: string | number;
  readonly unit?: string;
}

export interface ScenarioResult {
  /** The target from docs/benchmarks.md, in words, e.g. `p99 < 50 ms`. */
  readonly target: string;
  readonly verdict: Verdict;
  /** One sentence: what decided the verdict. */
  readonly summary: string;
  readonly rows: readonly ResultRow[];
  /** Side-by-side tables: the reference controller | lb-provisioner | ratio. */
  readonly comparison?: readonly ComparisonTable[];
  /** The design's targets this scenario measures, each met or missed. */
  readonly targets?: readonly TargetCheck[];
  /** Everything else worth keeping (parameters, raw samples, call counts), written to the JSON file. */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface ScenarioRecord {
  readonly scenario: string;
  readonly title: string;
  readonly command: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly result: ScenarioResult;
}

/** Renders rows as an aligned two-column table. */
export function renderTable(rows: readonly ResultRow[]): string {
  const cells = rows.map((row) => [row.metric, `${row.value}${row.unit ? ` ${row.unit}` : ""}`] as const);
  const width = Math.max(6, ...cells.map(([metric]) => metric.length));
  const valueWidth = Math.max(5, ...cells.map(([, value]) => value.length));
  const rule = `${"-".repeat(width)}-+-${"-".repeat(valueWidth)}`;
  const lines = [`${"metric".padEnd(width)} | value`, rule];
  for (const [metric, value] of cells) lines.push(`${metric.padEnd(width)} | ${value}`);
  return lines.join("\n");
}

/** The printed block for one scenario: heading, verdict, table. */
export function renderRecord(record: ScenarioRecord): string {
  const { result } = record;
  const verdict = result.verdict === "informational" ? "measured" : `target ${result.verdict.toUpperCase()}`;
  return [
    `== ${record.scenario}: ${record.title}`,
    `   target: ${result.target} -> ${verdict}: ${result.summary}`,
    `   took ${record.durationSeconds} s; load average at start ${record.machine.loadAverage.join(" ")}`,
    "",
    ...(result.comparison ?? []).flatMap((table) => [renderComparison(table), ""]),
    ...(result.targets && result.targets.length > 0 ? [renderTargets(result.targets), ""] : []),
    ...(result.rows.length > 0 ? [renderTable(result.rows), ""] : []),
  ].join("\n");
}

/**
 * Every scenario's side-by-side tables and targets as one Markdown document (`bench/results/ratios.md`),
 * the form the numbers of record take in docs/benchmarks.md.
 */
export function renderRatiosMarkdown(records: readonly ScenarioRecord[]): string {
  const parts: string[] = [];
  for (const record of records) {
    const { result, machine } = record;
    if (!result.comparison?.length && !result.targets?.length) continue;
    parts.push(
      `### ${record.title}`,
      "",
      `\`${record.command}\`, ${record.startedAt}, load average ${machine.loadAverage.join(" ")} at the start`,
      "",
    );
    for (const table of result.comparison ?? []) parts.push(renderComparison(table), "");
    if (result.targets?.length) parts.push(renderTargets(result.targets), "");
  }
  return parts.join("\n");
}

/** A one-line-per-scenario overview for the end of a multi-scenario run. */
export function renderOverview(records: readonly ScenarioRecord[]): string {
  return renderTable(
    records.map((record) => ({
      metric: record.scenario,
      value: `${record.result.verdict === "informational" ? "measured" : record.result.verdict} (${record.result.summary})`,
    })),
  );
}

/** Writes `<dir>/<scenario>.json` (the latest run) and returns its path. */
export function writeRecord(dir: string, record: ScenarioRecord): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${record.scenario}.json`);
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}
