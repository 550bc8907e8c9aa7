/**
 * Target: 1,000 LoadBalancer Services x 100 nodes, fake provider at 20 ms a call: all addressed within
 * 10 s.
 *
 * The Services and Nodes exist before the controller starts (NodePorts allocated by the apiserver).
 * The clock starts when the controller is started and stops when a separate watch has delivered every
 * Service with an address, so it includes listing both caches. Each run gets a fresh control plane.
 *
 * Workers (`--concurrent-service-syncs`): first the CLI's default; if that misses the target, doubled
 * until a run meets it (or 64 is reached), so the report says which value does. `--workers=5,10,20`
 * runs exactly those values instead.
 *
 * The provider-call floor printed next to each run is the fake's latency times the calls it served,
 * divided by the workers: no scheduling can beat it with that many workers.
 *
 * @module
 */
import { createBenchNodes, createBenchServices, startBenchCluster } from "../lib/cluster.ts";
import { CLI_DEFAULT_WORKERS, startBenchController } from "../lib/controller.ts";
import { benchServiceName } from "../lib/objects.ts";
import type { ResultRow, ScenarioResult } from "../lib/report.ts";
import {
  intListOption,
  intOption,
  reuseConnectionsOption,
  type Scenario,
  type ScenarioContext,
} from "../lib/scenario.ts";
import { round } from "../lib/stats.ts";
import { AddressWatch } from "../lib/watch.ts";

const TARGET_SECONDS = 10;
const MAX_ESCALATED_WORKERS = 64;

interface Parameters {
  readonly services: number;
  readonly nodes: number;
  readonly latencyMs: number;
  readonly reuseConnections: boolean;
}

interface ConvergenceRun {
  readonly workers: number;
  readonly allAddressedSeconds: number;
  readonly cachesSyncedSeconds: number;
  readonly firstAddressedSeconds: number;
  readonly providerCalls: Record<string, number>;
  readonly providerCallTotal: number;
  readonly providerFloorSeconds: number;
  readonly reconciles: Record<string, number>;
  /** CPU time this process (controller plus the observing watch) used until all were addressed. */
  readonly processCpuSeconds: number;
  readonly setupSeconds: number;
}

async function runOnce(context: ScenarioContext, parameters: Parameters, workers: number): Promise<ConvergenceRun> {
  const { services, nodes, latencyMs, reuseConnections } = parameters;
  const setupStarted = performance.now();
  const cluster = await startBenchCluster(context.log);
  try {
    await createBenchNodes(cluster.core, nodes);
    await createBenchServices(cluster.core, services);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    context.log(
      `${services} Services and ${nodes} Nodes created in ${round(setupSeconds)} s; starting ${workers} workers`,
    );
    const watch = await AddressWatch.start(cluster.kubeConfig);
    try {
      if (watch.addressedCount > 0) throw new Error("Services had addresses before the controller started");
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      const controller = startBenchController({
        kubeConfig: cluster.controllerKubeConfig(reuseConnections),
        workers,
        latencyMs,
      });
      try {
        await controller.synced();
        const synced = performance.now();
        const timeoutMs = Math.max(120_000, ((services * 8 * latencyMs) / workers) * 3);
        await watch.waitForCount(services, timeoutMs);
        const done = performance.now();
        const cpu = process.cpuUsage(cpuBefore);
        let first = Number.POSITIVE_INFINITY;
        for (let index = 0; index < services; index++) {
          const at = watch.addressedAt(benchServiceName(index));
          if (at !== undefined && at < first) first = at;
        }
        const providerCalls = controller.provider.callCounts() as Record<string, number>;
        const providerCallTotal = Object.values(providerCalls).reduce((sum, count) => sum + count, 0);
        return {
          workers,
          allAddressedSeconds: round((done - started) / 1000, 2),
          cachesSyncedSeconds: round((synced - started) / 1000, 2),
          firstAddressedSeconds: round((first - started) / 1000, 2),
          providerCalls,
          providerCallTotal,
          providerFloorSeconds: round((providerCallTotal * latencyMs) / workers / 1000, 2),
          reconciles: await controller.reconciles(),
          processCpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
          setupSeconds: round(setupSeconds, 1),
        };
      } finally {
        await controller.stop();
      }
    } finally {
      watch.stop();
    }
  } finally {
    await cluster.stop();
  }
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const parameters: Parameters = {
    services: intOption(context, "services", 1000),
    nodes: intOption(context, "nodes", 100),
    latencyMs: intOption(context, "latency-ms", 20),
    reuseConnections: reuseConnectionsOption(context),
  };
  const explicit = context.options.has("workers");
  const plan = intListOption(context, "workers", [CLI_DEFAULT_WORKERS]);
  const runs: ConvergenceRun[] = [];
  for (let i = 0; i < plan.length; i++) {
    const workers = plan[i] as number;
    const result = await runOnce(context, parameters, workers);
    runs.push(result);
    context.log(`workers=${workers}: all ${parameters.services} addressed in ${result.allAddressedSeconds} s`);
    const met = result.allAddressedSeconds < TARGET_SECONDS;
    if (!explicit && !met && i === plan.length - 1 && workers * 2 <= MAX_ESCALATED_WORKERS) plan.push(workers * 2);
  }

  const atDefault = runs.find((r) => r.workers === CLI_DEFAULT_WORKERS);
  const meeting = runs.filter((r) => r.allAddressedSeconds < TARGET_SECONDS).sort((a, b) => a.workers - b.workers)[0];
  const verdictRun = atDefault ?? runs[0];
  const metAtDefault = verdictRun !== undefined && verdictRun.allAddressedSeconds < TARGET_SECONDS;
  const summary = [
    verdictRun ? `${verdictRun.allAddressedSeconds} s with ${verdictRun.workers} workers` : "no run",
    !metAtDefault && meeting ? `met with ${meeting.workers} workers (${meeting.allAddressedSeconds} s)` : undefined,
    !metAtDefault && !meeting ? "no tried worker count met it" : undefined,
  ]
    .filter(Boolean)
    .join("; ");

  const rows: ResultRow[] = [
    {
      metric: "Services x nodes, provider latency",
      value: `${parameters.services} x ${parameters.nodes}, ${parameters.latencyMs} ms/call`,
    },
    { metric: "CLI default workers", value: CLI_DEFAULT_WORKERS },
    ...(parameters.reuseConnections ? [{ metric: "what-if", value: "--reuse-connections" }] : []),
  ];
  for (const r of runs) {
    const label = `workers=${r.workers}`;
    rows.push(
      { metric: `${label}: all addressed`, value: r.allAddressedSeconds, unit: "s" },
      {
        metric: `${label}: caches synced / first address`,
        value: `${r.cachesSyncedSeconds} / ${r.firstAddressedSeconds}`,
        unit: "s",
      },
      { metric: `${label}: provider calls (floor)`, value: `${r.providerCallTotal} (${r.providerFloorSeconds} s)` },
      { metric: `${label}: controller process CPU`, value: r.processCpuSeconds, unit: "s" },
    );
  }
  return {
    target: `all addressed < ${TARGET_SECONDS} s`,
    verdict: metAtDefault ? "met" : "missed",
    summary,
    rows,
    details: { parameters, cliDefaultWorkers: CLI_DEFAULT_WORKERS, runs },
  };
}

export const convergence: Scenario = {
  name: "convergence",
  title: "1,000 LoadBalancer Services x 100 nodes, fake provider at 20 ms per call",
  optionHelp: {
    services: "LoadBalancer Services created before the controller starts (1000)",
    nodes: "Nodes (100)",
    "latency-ms": "fake provider latency per call (20)",
    workers: `worker counts to run, e.g. 5,10,20 (default: the CLI default ${CLI_DEFAULT_WORKERS}, doubled until the target is met)`,
    "reuse-connections": "what-if: the controller's client shares one connection pool (off)",
  },
  run,
};
