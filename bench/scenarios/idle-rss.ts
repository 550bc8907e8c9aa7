/**
 * Resident memory of an idle `lb-provisioner run --provider fake`: the CLI as it ships (compiled, run
 * by `node`), connected to the embedded kube-apiserver, caches synced, one Service's load balancer made,
 * nothing left to do. It measures what the process loads and keeps to do nothing, the floor under every
 * other memory number.
 *
 * `--cli` takes one or more compiled entry points (`dist/src/cli.js` of a build) to compare builds of
 * different commits in the same run: they are measured in turns, `--rounds` times each, so the machine's
 * load falls on all of them alike, and each is reported as a ratio to the first. Without `--cli` this
 * checkout is compiled into `bench/results/.build-cli/` and measured alone.
 *
 * Each process runs until `/readyz` answers 200 and the Service has its address, then `--settle`
 * seconds more (past the client's keep-alive timeouts), and its `VmRSS` is read from `/proc/<pid>/status`.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createBenchNodes, createBenchServices, startBenchCluster } from "../lib/cluster.ts";
import { pollUntil } from "../lib/concurrency.ts";
import { BENCH_NAMESPACE, benchServiceName } from "../lib/objects.ts";
import type { ResultRow, ScenarioResult } from "../lib/report.ts";
import { intOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { round, summarize } from "../lib/stats.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const BUILD_DIR = fileURLToPath(new URL("../results/.build-cli/", import.meta.url));
const READY_TIMEOUT_MS = 60_000;

/** Compiles this checkout as `npm run build` does, into {@link BUILD_DIR}; resolves with its CLI entry. */
async function compileThisCheckout(): Promise<string> {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const args = [tsc, "-p", resolve(REPO, "tsconfig.build.json"), "--outDir", BUILD_DIR, "--declaration", "false"];
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", fail);
    child.on("exit", done);
  });
  if (code !== 0) throw new Error(`compiling the CLI failed (tsc exit ${code})`);
  return resolve(BUILD_DIR, "src/cli.js");
}

function cliOption(context: ScenarioContext): string[] | undefined {
  const raw = context.options.get("cli");
  if (raw === undefined) return undefined;
  const entries = raw.split(",").map((entry) => resolve(entry.trim()));
  for (const entry of entries) {
    if (!existsSync(entry)) throw new Error(`--cli=${raw}: ${entry} does not exist; build it first (npm run build)`);
  }
  return entries;
}

function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

/** The readiness URL the process logged, if it has yet. */
function loggedReadyz(output: string): string | undefined {
  for (const line of output.split("\n")) {
    if (!line.includes('"serving endpoints"')) continue;
    const entry = JSON.parse(line) as { url?: string; paths?: string[] };
    if (entry.paths?.includes("/readyz")) return `${entry.url}/readyz`;
  }
  return undefined;
}

function assertRunning(child: ChildProcess, output: string): void {
  if (child.exitCode !== null) throw new Error(`the controller exited (${child.exitCode}): ${output.slice(-2000)}`);
}

async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).status === 200;
  } catch {
    return false;
  }
}

/** Runs one controller from `cli` until idle, and returns its resident bytes. */
async function measureOnce(cli: string, kubeconfig: string, settleMs: number, addressed: () => Promise<boolean>) {
  const child = spawn(
    process.execPath,
    [
      cli,
      "run",
      "--provider=fake",
      `--kubeconfig=${kubeconfig}`,
      "--leader-elect=false",
      "--metrics-bind-address=0",
      "--health-probe-bind-address=127.0.0.1:0",
      "--log-level=info",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_ENV: "production" } },
  );
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  try {
    await pollUntil(
      "the controller's probe endpoint",
      () => {
        assertRunning(child, output);
        return loggedReadyz(output) !== undefined;
      },
      { timeoutMs: READY_TIMEOUT_MS },
    );
    const readyz = loggedReadyz(output) ?? "";
    await pollUntil(
      "the controller to be ready and the Service addressed",
      async () => {
        assertRunning(child, output);
        return (await isReady(readyz)) && (await addressed());
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 200 },
    );
    await sleep(settleMs);
    return residentBytes(child.pid ?? 0);
  } finally {
    child.kill("SIGTERM");
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const rounds = intOption(context, "rounds", 3);
  const settleMs = intOption(context, "settle", 10) * 1000;
  const clis = cliOption(context) ?? [await compileThisCheckout()];

  const cluster = await startBenchCluster(context.log);
  try {
    await createBenchNodes(cluster.core, 3);
    await createBenchServices(cluster.core, 1);
    const kubeconfig = cluster.controlPlane.kubeconfigPath("admin");
    const addressed = async () => {
      const service = await cluster.core.readNamespacedServiceStatus({
        namespace: BENCH_NAMESPACE,
        name: benchServiceName(0),
      });
      return (service.status?.loadBalancer?.ingress?.length ?? 0) > 0;
    };
    const samples = clis.map(() => [] as number[]);
    for (let turn = 0; turn < rounds; turn++) {
      for (const [index, cli] of clis.entries()) {
        const bytes = await measureOnce(cli, kubeconfig, settleMs, addressed);
        samples[index]?.push(bytes);
        context.log(`round ${turn + 1}/${rounds}: ${cli}: ${mib(bytes)} MiB`);
      }
    }
    const medians = samples.map((values) => summarize(values).p50);
    const first = medians[0] ?? 1;
    const rows: ResultRow[] = clis.flatMap((cli, index) => [
      { metric: `${cli}: RSS median of ${rounds}`, value: mib(medians[index] ?? 0), unit: "MiB" },
      {
        metric: `${cli}: RSS min / max`,
        value: `${mib(Math.min(...(samples[index] ?? [])))} / ${mib(Math.max(...(samples[index] ?? [])))}`,
        unit: "MiB",
      },
      ...(index === 0
        ? []
        : [{ metric: `${cli}: ratio to the first`, value: round((medians[index] ?? 0) / first, 2) }]),
    ]);
    return {
      target: "none (recorded: idle RSS of run --provider fake)",
      verdict: "informational",
      summary: clis.map((cli, index) => `${cli}: ${mib(medians[index] ?? 0)} MiB`).join("; "),
      rows,
      details: { parameters: { clis, rounds, settleMs }, rssBytes: samples },
    };
  } finally {
    await cluster.stop();
  }
}

export const idleRss: Scenario = {
  name: "idle-rss",
  title: "resident memory of an idle `run --provider fake` (compiled CLI, one Service, caches synced)",
  optionHelp: {
    cli: "compiled CLI entry points to compare, comma-separated (default: this checkout, compiled)",
    rounds: "measurements of each CLI, taken in turns (default 3)",
    settle: "seconds idle before reading RSS (default 10)",
  },
  run,
};
