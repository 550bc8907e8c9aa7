/**
 * Side-by-side figures: the reference controller and lb-provisioner measured on the same apiserver
 * in the same run, each figure as `reference | lb-provisioner | ratio`, and the targets of the design
 * (ratios to the reference, or absolute bounds) each marked met or missed.
 *
 * The ratio is always lb-provisioner divided by the reference, so below 1.0 means lb-provisioner
 * needs less (time, CPU, memory, calls) and above 1.0 means it needs more.
 *
 * @module
 */

/** One figure measured for both controllers; a side that was not run (or cannot have it) is undefined. */
export interface ComparisonRow {
  readonly metric: string;
  /** Unit printed after each value (`ms`, `s`, `MiB`, `calls`); empty for plain counts. */
  readonly unit: string;
  readonly reference: number | undefined;
  readonly lbProvisioner: number | undefined;
  /** Decimals shown (default 1). */
  readonly digits?: number;
}

/** A titled table of rows, e.g. one per workload or settings. */
export interface ComparisonTable {
  readonly title: string;
  /** Column heading of the reference side, e.g. `upstream` or `legacy cloud-provider-aws`. */
  readonly referenceName: string;
  readonly rows: readonly ComparisonRow[];
  /** Load averages (1 minute) at the start of each measured run that went into this table. */
  readonly loadAverages?: readonly number[];
}

/** lb-provisioner / reference; undefined when a side is missing or the reference is 0. */
export function ratioOf(row: Pick<ComparisonRow, "reference" | "lbProvisioner">): number | undefined {
  const { reference, lbProvisioner } = row;
  if (reference === undefined || lbProvisioner === undefined || reference === 0) return undefined;
  return lbProvisioner / reference;
}

/** Median of `values` (mean of the middle two for an even count); undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function formatNumber(value: number, digits: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell(value: number | undefined, row: ComparisonRow): string {
  if (value === undefined) return "—";
  const text = formatNumber(value, row.digits ?? 1);
  return row.unit ? `${text} ${row.unit}` : text;
}

/** The ratio as printed: `2.60x`, `—` when there is none (a side missing, or the reference at 0). */
export function formatRatio(row: ComparisonRow): string {
  const ratio = ratioOf(row);
  return ratio === undefined ? "—" : `${ratio.toFixed(2)}x`;
}

/** The table as Markdown (the form docs/benchmarks.md carries), also readable on a terminal. */
export function renderComparison(table: ComparisonTable): string {
  const header = [table.title, table.referenceName, "lb-provisioner", "ratio"];
  const lines = table.rows.map((row) => [
    row.metric,
    cell(row.reference, row),
    cell(row.lbProvisioner, row),
    formatRatio(row),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => (line[column] ?? "").length)),
  );
  const render = (cells: readonly string[]) =>
    `| ${cells.map((text, column) => (column === 0 ? text.padEnd(widths[column] ?? 0) : text.padStart(widths[column] ?? 0))).join(" | ")} |`;
  const rule = `| ${widths.map((width, column) => (column === 0 ? "-".repeat(width) : `${"-".repeat(Math.max(width - 1, 1))}:`)).join(" | ")} |`;
  const out = [render(header), rule, ...lines.map(render)];
  if (table.loadAverages && table.loadAverages.length > 0) {
    out.push(
      "",
      `load average (1 min) at the start of each run: ${table.loadAverages.map((load) => load.toFixed(1)).join(", ")}`,
    );
  }
  return out.join("\n");
}

/** A target of the design and whether this run met it. */
export interface TargetCheck {
  readonly target: string;
  readonly verdict: "met" | "missed" | "not measured";
  /** What was measured, in words, e.g. `1.40x (38 ms against 27 ms)`. */
  readonly measured: string;
}

/** Checks `lb-provisioner <= limit x reference` on `row`. */
export function ratioTarget(target: string, row: ComparisonRow | undefined, limit: number): TargetCheck {
  const ratio = row ? ratioOf(row) : undefined;
  if (!row || ratio === undefined) {
    // A reference of 0 leaves no ratio: met only when lb-provisioner is at 0 as well.
    if (row && row.reference === 0 && row.lbProvisioner !== undefined) {
      return {
        target,
        verdict: row.lbProvisioner === 0 ? "met" : "missed",
        measured: `${cell(row.lbProvisioner, row)} against ${cell(0, row)}`,
      };
    }
    return { target, verdict: "not measured", measured: "—" };
  }
  return {
    target,
    verdict: ratio <= limit ? "met" : "missed",
    measured: `${ratio.toFixed(2)}x (${cell(row.lbProvisioner, row)} against ${cell(row.reference, row)})`,
  };
}

/** Checks `lb-provisioner < bound` (in the row's unit) on `row`. */
export function boundTarget(target: string, row: ComparisonRow | undefined, bound: number): TargetCheck {
  if (row?.lbProvisioner === undefined) return { target, verdict: "not measured", measured: "—" };
  return { target, verdict: row.lbProvisioner < bound ? "met" : "missed", measured: cell(row.lbProvisioner, row) };
}

/** `met` when every measured target is met, `missed` when one is missed, else `informational`. */
export function overallVerdict(targets: readonly TargetCheck[]): "met" | "missed" | "informational" {
  const measured = targets.filter((check) => check.verdict !== "not measured");
  if (measured.length === 0) return "informational";
  return measured.every((check) => check.verdict === "met") ? "met" : "missed";
}

/** One line: how many targets were met, missed and not measured, naming the missed ones. */
export function summarizeTargets(targets: readonly TargetCheck[]): string {
  const count = (verdict: TargetCheck["verdict"]) => targets.filter((check) => check.verdict === verdict).length;
  const missed = targets.filter((check) => check.verdict === "missed").map((check) => check.target);
  const parts = [`${count("met")} met`, `${count("missed")} missed`];
  if (count("not measured") > 0) parts.push(`${count("not measured")} not measured`);
  return `${parts.join(", ")}${missed.length > 0 ? ` (missed: ${missed.join("; ")})` : ""}`;
}

/** The targets as a Markdown table: target | measured | verdict. */
export function renderTargets(targets: readonly TargetCheck[]): string {
  const rows = targets.map((check) => [check.target, check.measured, check.verdict]);
  const widths = [0, 1, 2].map((column) =>
    Math.max(["target", "measured", "verdict"][column]?.length ?? 0, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const render = (cells: readonly string[]) =>
    `| ${cells.map((text, column) => text.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [
    render(["target", "measured", "verdict"]),
    `| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`,
    ...rows.map(render),
  ].join("\n");
}
