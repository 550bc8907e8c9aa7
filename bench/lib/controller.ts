/**
 * The controller as `lb-provisioner run` wires it, minus leader election and the HTTP endpoints: the
 * service controller, the fake provider reporting every call to the metrics, and a logger that only
 * speaks up for warnings (on stderr, so result tables on stdout stay clean).
 *
 * @module
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { createFakeProvider, type FakeProvider } from "../../providers/fake/index.ts";
import { SETTINGS } from "../../src/config.ts";
import { createServiceController } from "../../src/controller/index.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { ControllerMetrics } from "../../src/observability/metrics.ts";
import { pollUntil } from "./concurrency.ts";

/** `--concurrent-service-syncs` when the flag is not given, read from the CLI's own settings table. */
export const CLI_DEFAULT_WORKERS = Number(
  SETTINGS.find((setting) => setting.key === "concurrentServiceSyncs")?.defaultValue ?? Number.NaN,
);
if (!Number.isInteger(CLI_DEFAULT_WORKERS))
  throw new Error("no default for --concurrent-service-syncs in src/config.ts");

export interface BenchControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly workers: number;
  /** Fake provider latency per cloud call. Default 0. */
  readonly latencyMs?: number;
  /** Default 0 (off): scenarios that want a resync ask for one. */
  readonly resyncPeriodMs?: number;
  /** Log level of the controller's logger (stderr). Default `warn`. */
  readonly logLevel?: "warn" | "silent";
}

export interface BenchController {
  readonly provider: FakeProvider;
  readonly metrics: ControllerMetrics;
  /** Resolves once the informers have synced and workers run. */
  synced(): Promise<void>;
  /** Reconciles finished so far, by result label (`success`, `skipped`, `error`...). */
  reconciles(): Promise<Record<string, number>>;
  /** Stops the controller and waits for it to finish. */
  stop(): Promise<void>;
}

export const BENCH_CLUSTER_NAME = "bench";

/** Longer than the controller's drain bound (10 s) plus its event flush (2 s). */
const STOP_TIMEOUT_MS = 30_000;

/** Starts the controller in this process. */
export function startBenchController(options: BenchControllerOptions): BenchController {
  const metrics = new ControllerMetrics({ processMetrics: false });
  const provider = createFakeProvider({
    latencyMs: options.latencyMs ?? 0,
    onCall: metrics.providerCallObserver("fake"),
  });
  const controller = createServiceController({
    kubeConfig: options.kubeConfig,
    provider,
    clusterName: BENCH_CLUSTER_NAME,
    workers: options.workers,
    resyncPeriodMs: options.resyncPeriodMs ?? 0,
    logger: createLogger(options.logLevel ?? "warn", pino.destination(2)),
    metrics,
  });
  const stop = new AbortController();
  const running = controller.run(stop.signal);
  let failure: unknown;
  running.catch((error: unknown) => {
    failure = error;
  });
  return {
    provider,
    metrics,
    synced: () =>
      pollUntil(
        "the controller's caches to sync",
        () => {
          if (failure !== undefined) throw failure;
          return controller.hasSynced();
        },
        { timeoutMs: 120_000, intervalMs: 10 },
      ),
    async reconciles() {
      const { values } = await metrics.reconcileTotal.get();
      return Object.fromEntries(values.map((value) => [String(value.labels.result), value.value]));
    },
    async stop() {
      stop.abort();
      // The controller's own drain timers do not hold the process open; this one does, so a stop that
      // never finishes is reported instead of the process quietly running out of work.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `the controller did not stop within ${STOP_TIMEOUT_MS} ms of its signal aborting; pending: ${process.getActiveResourcesInfo().join(", ")}`,
              ),
            ),
          STOP_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([running, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Resolves once `quietMs` pass with no new mutating provider call (reads may continue: a resync
 * makes them). Rejects after `timeoutMs`.
 */
export async function waitForNoMutations(
  controller: BenchController,
  quietMs: number,
  timeoutMs: number,
): Promise<void> {
  let last = controller.provider.mutatingCalls();
  let lastChange = performance.now();
  await pollUntil(
    `${quietMs} ms without a mutating provider call`,
    () => {
      const now = controller.provider.mutatingCalls();
      if (now !== last) {
        last = now;
        lastChange = performance.now();
      }
      return performance.now() - lastChange >= quietMs;
    },
    { timeoutMs, intervalMs: 50 },
  );
}
