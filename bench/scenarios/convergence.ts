/**
 * 1,000 LoadBalancer Services x 100 nodes converging, side by side. The Services and Nodes exist
 * before the controller process starts; the clock starts when it is spawned and stops when a separate
 * watch has delivered every Service with an address, so it includes the process's start, listing both
 * caches and every Service's finalizer, cloud calls and status. The first address after the process
 * starts is read from the same watch.
 *
 * Workloads: no cloud latency, and a cloud cost per new load balancer (20 ms by default) spread over
 * the calls each fake makes for one (upstream's fake 2, lb-provisioner's 5), so both pay the same
 * per load balancer. Each at equal settings (lb-provisioner's default workers for both, client rate
 * limits out of the way), and once more at each side's own defaults (upstream: 1 worker, 20 QPS /
 * 30 burst) with the cloud cost.
 *
 * Memory: peak resident memory over the process's life, and the resident memory once settled: no
 * Service written for 2 s, then 10 s more.
 *
 * Between runs the Services are unprovisioned (finalizer and status removed), so every run starts
 * from the same Services.
 *
 * @module
 */

import type { BenchCluster } from "../lib/cluster.ts";
import { createBenchNodes, createBenchServices, startBenchCluster, unprovisionBenchServices } from "../lib/cluster.ts";
import {
  boundTarget,
  type ComparisonTable,
  overallVerdict,
  ratioTarget,
  summarizeTargets,
  type TargetCheck,
} from "../lib/comparison.ts";
import {
  CLI_DEFAULT_WORKERS,
  type ControllerProcess,
  type ControllerSettings,
  startContender,
  UNLIMITED_CLIENT,
} from "../lib/contenders.ts";
import { benchServiceName } from "../lib/objects.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { intListOption, intOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import {
  COMMON_OPTION_HELP,
  type CommonOptions,
  commonOptions,
  compareRuns,
  eachContender,
  mebibytes,
  type Run,
} from "../lib/session.ts";
import { round } from "../lib/stats.ts";
import { AddressWatch } from "../lib/watch.ts";

const TARGET_SECONDS_AT_20_MS = 10;
const SETTLE_MS = 10_000;

export interface Converged {
  readonly allAddressedSeconds: number;
  readonly firstAddressedSeconds: number;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
  readonly settledRssBytes: number;
  /** CPU per second of wall time while settling (cores): work still going on after convergence. */
  readonly settlingCores: number;
}

/**
 * Waits until every one of `services` Services is addressed, then until none has been written for
 * 2 s and {@link SETTLE_MS} more; reads the process's CPU at convergence and its memory at the end.
 */
export async function measureConvergence(
  controller: ControllerProcess,
  watch: AddressWatch,
  services: number,
  timeoutMs: number,
): Promise<Converged> {
  await watch.waitForCount(services, timeoutMs);
  const done = performance.now();
  const atConvergence = controller.usage();
  let first = Number.POSITIVE_INFINITY;
  for (let index = 0; index < services; index++)
    first = Math.min(first, watch.addressedAt(benchServiceName(index)) ?? first);
  await watch.waitForNoWrites(2_000, 300_000);
  const settleStart = { at: performance.now(), cpu: controller.usage().cpuSeconds };
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const settled = controller.usage();
  return {
    allAddressedSeconds: (done - controller.spawnedAt) / 1000,
    firstAddressedSeconds: (first - controller.spawnedAt) / 1000,
    cpuSeconds: atConvergence.cpuSeconds,
    peakRssBytes: settled.peakRssBytes,
    settledRssBytes: settled.rssBytes,
    settlingCores: (settled.cpuSeconds - settleStart.cpu) / ((performance.now() - settleStart.at) / 1000),
  };
}

interface Workload {
  readonly label: string;
  readonly costMs: number;
  readonly settings: ControllerSettings;
}

async function runWorkload(
  context: ScenarioContext,
  common: CommonOptions,
  cluster: BenchCluster,
  services: number,
  workload: Workload,
) {
  return eachContender(context, common, async (contender) => {
    const watch = await AddressWatch.start(cluster.kubeConfig);
    if (watch.addressedCount > 0) throw new Error("Services had addresses before the controller started");
    const controller = await startContender(
      contender,
      workload.settings,
      { ...common.start, kubeconfigPath: cluster.kubeconfigPath },
      context.log,
    );
    try {
      const converged = await measureConvergence(controller, watch, services, 900_000);
      context.log(
        `${contender} (${workload.label}): all ${services} addressed in ${round(converged.allAddressedSeconds, 2)} s`,
      );
      return { ...converged, settings: controller.settings, cloudCalls: await controller.cloudCalls() };
    } finally {
      watch.stop();
      await controller.stop();
      await unprovisionBenchServices(cluster.core);
    }
  });
}

function table(title: string, runs: Run<Converged>[], services: number): ComparisonTable {
  return {
    title,
    referenceName: "upstream",
    rows: [
      compareRuns(runs, "all addressed", "s", (r) => r.allAddressedSeconds, 2),
      compareRuns(runs, "first address after the process starts", "s", (r) => r.firstAddressedSeconds, 2),
      compareRuns(runs, `CPU for ${services.toLocaleString("en-US")} Services`, "s", (r) => r.cpuSeconds, 2),
      compareRuns(runs, "peak resident memory", "MiB", (r) => mebibytes(r.peakRssBytes)),
      compareRuns(runs, "settled resident memory", "MiB", (r) => mebibytes(r.settledRssBytes)),
    ],
    loadAverages: runs.map((r) => r.loadAverage),
  };
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const services = intOption(context, "services", 1000);
  const nodes = intOption(context, "nodes", 100);
  const costs = intListOption(context, "cost-ms", [0, 20], 0);
  const workers = intOption(context, "workers", CLI_DEFAULT_WORKERS);
  const atDefaults = context.options.get("defaults") !== "false";
  const common = commonOptions(context, 2);

  const cluster = await startBenchCluster(context.log);
  try {
    await createBenchNodes(cluster.core, nodes);
    await createBenchServices(cluster.core, services);
    context.log(`created ${nodes} Nodes and ${services} Services`);
    const workloads: Workload[] = costs.map((costMs) => ({
      label: costMs === 0 ? "no cloud latency" : `${costMs} ms per new load balancer`,
      costMs,
      settings: { workers, clientRateLimit: UNLIMITED_CLIENT, costPerNewLoadBalancerMs: costMs },
    }));
    const defaultsCost = costs.includes(20) ? 20 : (costs.at(-1) ?? 0);
    if (atDefaults) {
      workloads.push({
        label: `each side's defaults, ${defaultsCost} ms per new load balancer`,
        costMs: defaultsCost,
        settings: { costPerNewLoadBalancerMs: defaultsCost },
      });
    }
    const tables: ComparisonTable[] = [];
    const results: Record<string, unknown> = {};
    const targets: TargetCheck[] = [];
    for (const workload of workloads) {
      const runs = await runWorkload(context, common, cluster, services, workload);
      const equal = workload.settings.workers !== undefined;
      const title = `${services.toLocaleString("en-US")} Services x ${nodes} nodes, ${workload.label}${equal ? `, ${workers} workers each` : ` (upstream 1 worker, 20/30 QPS; lb-provisioner ${CLI_DEFAULT_WORKERS} workers)`}`;
      const t = table(title, runs, services);
      tables.push(t);
      results[workload.label] = runs;
      const [all, , cpu, peak, settled] = t.rows;
      if (equal) {
        targets.push(ratioTarget(`converge at most 1.0x upstream, ${workload.label}`, all, 1.0));
        if (workload.costMs === 0) {
          targets.push(
            ratioTarget("CPU per Service provisioned at most 2x upstream", cpu, 2.0),
            ratioTarget("peak resident memory at most 2.5x upstream", peak, 2.5),
            ratioTarget("settled resident memory at most 2.5x upstream", settled, 2.5),
          );
        }
      } else if (workload.costMs === 20) {
        targets.push(
          boundTarget(
            `under ${TARGET_SECONDS_AT_20_MS} s at 20 ms per load balancer, default workers`,
            all,
            TARGET_SECONDS_AT_20_MS,
          ),
        );
      }
    }
    return {
      target: "converge <= 1.0x upstream; < 10 s at 20 ms/LB at default workers; CPU <= 2x; RSS <= 2.5x",
      verdict: overallVerdict(targets),
      summary: summarizeTargets(targets),
      rows: [],
      comparison: tables,
      targets,
      details: { parameters: { services, nodes, costs, workers, repetitions: common.repetitions }, runs: results },
    };
  } finally {
    await cluster.stop();
  }
}

export const convergence: Scenario = {
  name: "convergence",
  title: "1,000 LoadBalancer Services x 100 nodes converging",
  optionHelp: {
    services: "LoadBalancer Services created before the controller starts (1000)",
    nodes: "Nodes (100)",
    "cost-ms": "cloud cost per new load balancer, one workload each, e.g. 0,20 (0,20)",
    workers: `workers of both controllers at equal settings (lb-provisioner's default, ${CLI_DEFAULT_WORKERS})`,
    defaults: "also run each side at its own defaults with the cloud cost (true)",
    ...COMMON_OPTION_HELP,
    repetitions: "runs of each controller per workload, alternating which goes first (2)",
  },
  run,
};
