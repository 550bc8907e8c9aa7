/**
 * The process whose memory the memory scenario measures: the controller with the fake provider and
 * nothing else (no benchmark harness, no apiserver). Run with `--expose-gc`:
 *
 *   node --expose-gc controller-process.js --kubeconfig=<file> --expect=<services> [--workers=<n>] [--reuse-connections]
 *
 * The memory scenario runs it compiled to JavaScript (`compile.ts`), as `lb-provisioner` runs from
 * `dist/`: running TypeScript directly loads Node's type stripper, about 30 MB more.
 *
 * It waits until the fake cloud holds `expect` load balancers, every one of them reconciled and no
 * mutation made for 2 s, then {@link SETTLE_MS} more so connections opened for the last writes idle
 * out (steady state, not the tail of the start-up burst), collects garbage twice, and prints one JSON
 * line to stdout:
 * `process.memoryUsage()` plus the peak RSS (`maxRSS`) and the time it took. Then it stops.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { pollUntil } from "../lib/concurrency.ts";
import { reuseOneConnectionPool } from "../lib/connection-reuse.ts";
import { CLI_DEFAULT_WORKERS, startBenchController, waitForNoMutations } from "../lib/controller.ts";
import { MEASUREMENT_PREFIX, type MemoryMeasurement } from "./measurement.ts";

const PROGRESS_INTERVAL_MS = 30_000;

/** Longer than the client's and the servers' keep-alive timeouts (4-5 s). */
const SETTLE_MS = 10_000;

/** Resident bytes per kind of mapping, from `/proc/self/smaps`; `{}` where that cannot be read. */
function rssByMapping(): { rssByMapping?: Record<string, number> } {
  let smaps: string;
  try {
    smaps = readFileSync("/proc/self/smaps", "utf8");
  } catch {
    return {};
  }
  const totals: Record<string, number> = {};
  let kind = "other";
  for (const line of smaps.split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1] ?? "";
      kind =
        name === ""
          ? "anonymous"
          : name === "[heap]"
            ? "brk-heap"
            : name.startsWith("[stack")
              ? "stack"
              : name.startsWith("/")
                ? "file"
                : "other";
      continue;
    }
    if (line.startsWith("Rss:")) totals[kind] = (totals[kind] ?? 0) + Number(line.split(/\s+/)[1]) * 1024;
  }
  return { rssByMapping: totals };
}

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  const kubeconfig = option("kubeconfig");
  const expect = Number(option("expect"));
  const workers = Number(option("workers") ?? CLI_DEFAULT_WORKERS);
  if (!kubeconfig || !Number.isInteger(expect) || !Number.isInteger(workers)) {
    throw new Error("usage: --kubeconfig=<file> --expect=<services> [--workers=<n>]");
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  if (process.argv.includes("--reuse-connections")) reuseOneConnectionPool(kubeConfig);

  const started = performance.now();
  const controller = startBenchController({ kubeConfig, workers });
  // A long run says where it is, so a stall shows what it stalled on.
  const progress = setInterval(async () => {
    const reconciles = JSON.stringify(await controller.reconciles());
    const seconds = Math.round((performance.now() - started) / 1000);
    console.error(
      `[controller-process] ${seconds} s: ${controller.provider.loadBalancerCount}/${expect} load balancers, reconciles ${reconciles}`,
    );
  }, PROGRESS_INTERVAL_MS);
  progress.unref();
  try {
    await controller.synced();
    await pollUntil(
      `${expect} load balancers`,
      async () =>
        controller.provider.loadBalancerCount >= expect && ((await controller.reconciles()).success ?? 0) >= expect,
      { timeoutMs: 1_800_000, intervalMs: 200 },
    );
    await waitForNoMutations(controller, 2_000, 300_000);
    const convergedSeconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 500));
    gc();
    const usage = process.memoryUsage();
    const measurement: MemoryMeasurement = {
      services: expect,
      loadBalancers: controller.provider.loadBalancerCount,
      workers,
      convergedSeconds,
      rss: usage.rss,
      heapTotal: usage.heapTotal,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      maxRss: process.resourceUsage().maxRSS * 1024,
      ...rssByMapping(),
    };
    process.stdout.write(`${MEASUREMENT_PREFIX}${JSON.stringify(measurement)}\n`);
  } finally {
    clearInterval(progress);
    await controller.stop();
  }
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  })
  // Exit as the CLI does (`process.exit` once the command is done): a request the client library left
  // open after the controller stopped would otherwise hold the process for minutes.
  .finally(() => process.exit());
