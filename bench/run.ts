/**
 * Runs benchmark scenarios and reports them: a table per scenario on stdout, progress on stderr, and
 * `bench/results/<scenario>.json` with the command, the machine and every number.
 *
 *   node bench/run.ts                       every scenario (what `npm run bench` does)
 *   node bench/run.ts create-latency        one scenario (several may be named)
 *   node bench/run.ts convergence --workers=5,20 --services=500
 *   node bench/run.ts --help                scenarios and their options
 *
 * Exits 1 when a scenario fails to run; a missed target is a result, reported as such, not a failure.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeMachine } from "./lib/machine.ts";
import { renderOverview, renderRatiosMarkdown, renderRecord, type ScenarioRecord, writeRecord } from "./lib/report.ts";
import type { Scenario } from "./lib/scenario.ts";
import { round } from "./lib/stats.ts";
import { SCENARIOS } from "./scenarios/index.ts";

const DEFAULT_RESULTS_DIR = fileURLToPath(new URL("./results/", import.meta.url));

function usage(): string {
  const lines = ["usage: node bench/run.ts [scenario...] [--option=value...] [--results-dir=<dir>]", "", "scenarios:"];
  for (const scenario of SCENARIOS) {
    lines.push(`  ${scenario.name}: ${scenario.title}`);
    for (const [option, help] of Object.entries(scenario.optionHelp)) lines.push(`      --${option}=  ${help}`);
  }
  return lines.join("\n");
}

function parseArgs(argv: readonly string[]): { names: string[]; options: Map<string, string> } {
  const names: string[] = [];
  const options = new Map<string, string>();
  for (const arg of argv) {
    if (arg.startsWith("--")) {
      const [key, ...rest] = arg.slice(2).split("=");
      options.set(key ?? "", rest.length > 0 ? rest.join("=") : "true");
    } else {
      names.push(arg);
    }
  }
  return { names, options };
}

function select(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...SCENARIOS];
  return names.map((name) => {
    const scenario = SCENARIOS.find((candidate) => candidate.name === name);
    if (!scenario) {
      throw new Error(`unknown scenario "${name}"; choose from: ${SCENARIOS.map((s) => s.name).join(", ")}`);
    }
    return scenario;
  });
}

/** The command as a reader would retype it. */
function commandLine(argv: readonly string[]): string {
  const invokedByNpm = process.env.npm_lifecycle_event === "bench";
  if (invokedByNpm) return ["npm run bench", ...(argv.length > 0 ? ["--", ...argv] : [])].join(" ");
  return ["node bench/run.ts", ...argv].join(" ");
}

async function main(argv: readonly string[]): Promise<number> {
  const { names, options } = parseArgs(argv);
  if (options.has("help")) {
    console.log(usage());
    return 0;
  }
  const resultsDir = options.get("results-dir") ?? DEFAULT_RESULTS_DIR;
  options.delete("results-dir");
  const scenarios = select(names);
  for (const option of options.keys()) {
    if (!scenarios.some((scenario) => option in scenario.optionHelp)) {
      throw new Error(
        `unknown option --${option} for ${scenarios.map((s) => s.name).join(", ")}; see node bench/run.ts --help`,
      );
    }
  }
  const records: ScenarioRecord[] = [];
  let failed = false;
  for (const scenario of scenarios) {
    const log = (line: string) => console.error(`[${scenario.name}] ${line}`);
    const machine = describeMachine();
    const startedAt = new Date();
    const started = performance.now();
    log(`starting (load average ${machine.loadAverage.join(" ")})`);
    try {
      const result = await scenario.run({ log, options });
      const record: ScenarioRecord = {
        scenario: scenario.name,
        title: scenario.title,
        command: commandLine(argv),
        startedAt: startedAt.toISOString(),
        durationSeconds: round((performance.now() - started) / 1000),
        machine,
        result,
      };
      records.push(record);
      console.log(renderRecord(record));
      log(`wrote ${writeRecord(resultsDir, record)}`);
    } catch (error) {
      failed = true;
      log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  if (records.length > 1) console.log(`== overview\n\n${renderOverview(records)}\n`);
  if (records.length > 0) {
    const ratios = join(resultsDir, "ratios.md");
    writeFileSync(ratios, renderRatiosMarkdown(records));
    console.error(`side-by-side tables of this run: ${ratios}`);
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  return 1;
});
