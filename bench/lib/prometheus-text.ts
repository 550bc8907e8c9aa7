/**
 * Reads the counters both controllers expose on `/metrics` (Prometheus text format): the fake
 * clouds' calls, reconciles, node syncs. Only what the benchmarks read: sample lines with an optional
 * label set and a value; comments, timestamps and exemplars are skipped.
 *
 * @module
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, char: string) => (char === "n" ? "\n" : char));
}

/** Every sample in `text`; a line that is not a sample (comment, blank) is skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = SAMPLE.exec(line.trim());
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(LABEL))
      labels[label[1] as string] = unescapeLabel(label[2] as string);
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of `name`'s samples whose labels include every pair of `match`. */
export function sumSamples(
  samples: readonly Sample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): number {
  let sum = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(match).every(([key, value]) => sample.labels[key] === value)) sum += sample.value;
  }
  return sum;
}

/** `name`'s samples summed per value of `label` (e.g. calls per operation). */
export function sumByLabel(samples: readonly Sample[], name: string, label: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const sample of samples) {
    if (sample.name !== name) continue;
    const key = sample.labels[label] ?? "";
    sums[key] = (sums[key] ?? 0) + sample.value;
  }
  return sums;
}
