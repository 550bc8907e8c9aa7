/**
 * deploy/ is rendered from the Helm chart in deploy/chart, so the two cannot drift: `helm template`
 * with deploy/chart/ci/manifests-values.yaml, one file per template. `make manifests` writes them
 * (`node scripts/manifests.ts --write`); test/integration/chart.test.ts fails when they differ.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const DEPLOY_DIR = fileURLToPath(new URL("../deploy/", import.meta.url));
export const CHART_DIR = join(DEPLOY_DIR, "chart");
/** The release deploy/ stands for: its name and namespace. */
export const RELEASE = "lb-provisioner";
const MANIFESTS_VALUES = join(CHART_DIR, "ci", "manifests-values.yaml");
const SOURCE_LINE = /^# Source: [^/]+\/templates\/(.+)$/;

/** `helm template` of the chart as release {@link RELEASE} in its namespace; rejects with helm's own message. */
export async function renderChart(
  helm: string,
  options: { readonly valuesFiles?: readonly string[]; readonly set?: readonly string[] } = {},
): Promise<string> {
  const args = ["template", RELEASE, CHART_DIR, "--namespace", RELEASE];
  for (const file of options.valuesFiles ?? []) args.push("--values", file);
  for (const value of options.set ?? []) args.push("--set", value);
  try {
    return (await promisify(execFile)(helm, args, { encoding: "utf8" })).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(stderr || String(error), { cause: error });
  }
}

/**
 * The rendered documents grouped by the template they came from (`deployment.yaml` -> its text),
 * in helm's order, each without helm's `# Source:` line and separated by `---` as in deploy/.
 */
export function splitByTemplate(rendered: string): Map<string, string> {
  const files = new Map<string, string[]>();
  for (const document of rendered.split(/^---\n/m)) {
    const lines = document.split("\n");
    const source = lines[0]?.match(SOURCE_LINE)?.[1];
    if (!source) continue;
    const body = `${lines.slice(1).join("\n").trimEnd()}\n`;
    files.set(source, [...(files.get(source) ?? []), body]);
  }
  return new Map([...files].map(([file, documents]) => [file, documents.join("---\n")]));
}

/** What deploy/ must hold: file name -> content. */
export async function expectedManifests(helm: string): Promise<Map<string, string>> {
  return splitByTemplate(await renderChart(helm, { valuesFiles: [MANIFESTS_VALUES] }));
}

/** The files of deploy/ that differ from the chart's rendering, with the reason. */
export function driftedManifests(expected: ReadonlyMap<string, string>): string[] {
  const drifted: string[] = [];
  for (const [file, content] of expected) {
    let actual: string | undefined;
    try {
      actual = readFileSync(join(DEPLOY_DIR, file), "utf8");
    } catch {
      drifted.push(`deploy/${file} is missing`);
      continue;
    }
    if (actual !== content) drifted.push(`deploy/${file} differs from the chart's rendering`);
  }
  const kustomization = readFileSync(join(DEPLOY_DIR, "kustomization.yaml"), "utf8");
  for (const file of expected.keys()) {
    if (!kustomization.includes(`- ${file}`)) drifted.push(`deploy/kustomization.yaml does not list ${file}`);
  }
  return drifted;
}

async function main(): Promise<void> {
  const helm = process.argv[2];
  if (!helm) throw new Error("usage: node scripts/manifests.ts <helm> [--write]");
  const expected = await expectedManifests(helm);
  if (process.argv.includes("--write")) {
    for (const [file, content] of expected) writeFileSync(join(DEPLOY_DIR, file), content);
  }
  const drifted = driftedManifests(expected);
  for (const line of drifted) process.stderr.write(`lb-provisioner: ${line}\n`);
  process.exitCode = drifted.length > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`lb-provisioner: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
