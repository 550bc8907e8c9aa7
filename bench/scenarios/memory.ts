/**
 * Scale: 10,000 LoadBalancer Services x 1,000 Nodes of realistic size on the real embedded
 * kube-apiserver (started with 20,000 NodePorts and a /16 of ClusterIPs, see
 * {@link WIDE_SERVICE_RANGES}), side by side, fresh and after a restart. Targets: fresh converge
 * under 60 s, its CPU at most 0.2x upstream's, resident memory under 200 MB fresh and after a restart.
 *
 * - fresh: the Services exist, the controller process starts and provisions every one (finalizer,
 *   cloud, status); measured as in the convergence scenario (time to every address, CPU at that point,
 *   peak and settled resident memory, and the CPU still being spent while settling);
 * - restart: that process is stopped and a new one starts over the provisioned Services: it re-ensures
 *   every one (its fake cloud starts empty) and finds nothing to write; measured until it has ensured
 *   every Service and no Service was written for 2 s, then 10 s more.
 *
 * The Nodes are {@link realisticNode}s (labels, addresses, capacity, conditions, images: about 8 KB
 * each), so caching and decoding them costs what it would in a production cluster. Setup (1,000
 * Nodes, 10,000 Services) takes minutes; one run per side is the default.
 *
 * @module
 */
import {
  type BenchCluster,
  createBenchNodes,
  createBenchServices,
  startBenchCluster,
  unprovisionBenchServices,
  WIDE_SERVICE_RANGES,
} from "../lib/cluster.ts";
import { boundTarget, overallVerdict, ratioTarget, summarizeTargets } from "../lib/comparison.ts";
import { pollUntil } from "../lib/concurrency.ts";
import {
  CLI_DEFAULT_WORKERS,
  type ContenderName,
  type ControllerProcess,
  startContender,
  UNLIMITED_CLIENT,
} from "../lib/contenders.ts";
import { realisticNode } from "../lib/objects.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { intOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import {
  COMMON_OPTION_HELP,
  type CommonOptions,
  commonOptions,
  compareRuns,
  eachContender,
  mebibytes,
} from "../lib/session.ts";
import { round } from "../lib/stats.ts";
import { AddressWatch } from "../lib/watch.ts";
import { measureConvergence } from "./convergence.ts";

const TARGET_MIB = 200;
const TARGET_SECONDS = 60;
const TIMEOUT_MS = 1_800_000;
const SETTLE_MS = 10_000;

interface Restarted {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
  readonly settledRssBytes: number;
}

/** A new process over provisioned Services: until it has ensured `services` and gone quiet. */
async function measureRestart(
  controller: ControllerProcess,
  watch: AddressWatch,
  services: number,
): Promise<Restarted> {
  await pollUntil(
    `${controller.name} to re-ensure ${services} Services`,
    // A scrape may fail while the process is busiest: that is "not yet", not a failure.
    async () => (await controller.ensured().catch(() => 0)) >= services,
    {
      timeoutMs: TIMEOUT_MS,
      intervalMs: 250,
    },
  );
  const seconds = (performance.now() - controller.spawnedAt) / 1000;
  const cpuSeconds = controller.usage().cpuSeconds;
  await watch.waitForNoWrites(2_000, 300_000);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const settled = controller.usage();
  return { seconds, cpuSeconds, peakRssBytes: settled.peakRssBytes, settledRssBytes: settled.rssBytes };
}

async function freshThenRestart(
  context: ScenarioContext,
  common: CommonOptions,
  cluster: BenchCluster,
  contender: ContenderName,
  services: number,
  workers: number,
) {
  const settings = { workers, clientRateLimit: UNLIMITED_CLIENT, costPerNewLoadBalancerMs: 0 };
  const start = { ...common.start, kubeconfigPath: cluster.kubeconfigPath };
  const watch = await AddressWatch.start(cluster.kubeConfig);
  try {
    const first = await startContender(contender, settings, start, context.log);
    let fresh: Awaited<ReturnType<typeof measureConvergence>>;
    try {
      fresh = await measureConvergence(first, watch, services, TIMEOUT_MS);
      context.log(
        `${contender} fresh: ${round(fresh.allAddressedSeconds)} s, settled ${round(mebibytes(fresh.settledRssBytes))} MiB`,
      );
    } finally {
      await first.stop();
    }
    const second = await startContender(contender, settings, start, context.log);
    try {
      const restart = await measureRestart(second, watch, services);
      context.log(
        `${contender} restart: ${round(restart.seconds)} s, peak ${round(mebibytes(restart.peakRssBytes))} MiB`,
      );
      return { fresh, restart };
    } finally {
      await second.stop();
    }
  } finally {
    watch.stop();
    await unprovisionBenchServices(cluster.core);
  }
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const services = intOption(context, "services", 10_000);
  const nodes = intOption(context, "nodes", 1000);
  const workers = intOption(context, "workers", CLI_DEFAULT_WORKERS);
  const common = commonOptions(context, 1);

  const cluster = await startBenchCluster(context.log, { serviceRanges: WIDE_SERVICE_RANGES });
  try {
    const setup = performance.now();
    await createBenchNodes(cluster.core, nodes, 0, realisticNode);
    await createBenchServices(cluster.core, services);
    context.log(
      `created ${nodes} realistic Nodes and ${services} Services in ${round((performance.now() - setup) / 1000)} s`,
    );
    const runs = await eachContender(context, common, (contender) =>
      freshThenRestart(context, common, cluster, contender, services, workers),
    );

    const freshSeconds = compareRuns(runs, "fresh: all addressed", "s", (r) => r.fresh.allAddressedSeconds);
    const freshCpu = compareRuns(runs, "fresh: CPU to converge", "s", (r) => r.fresh.cpuSeconds);
    const freshSettled = compareRuns(runs, "fresh: settled resident memory", "MiB", (r) =>
      mebibytes(r.fresh.settledRssBytes),
    );
    const restartSettled = compareRuns(runs, "restart: settled resident memory", "MiB", (r) =>
      mebibytes(r.restart.settledRssBytes),
    );
    const restartPeak = compareRuns(runs, "restart: peak resident memory", "MiB", (r) =>
      mebibytes(r.restart.peakRssBytes),
    );
    const mb = (TARGET_MIB * 1e6) / 2 ** 20;
    const targets = [
      boundTarget(`fresh converge under ${TARGET_SECONDS} s`, freshSeconds, TARGET_SECONDS),
      ratioTarget("CPU to converge at most 0.2x upstream", freshCpu, 0.2),
      boundTarget(`resident memory under ${TARGET_MIB} MB, fresh (settled)`, freshSettled, mb),
      boundTarget(`resident memory under ${TARGET_MIB} MB, after a restart (settled)`, restartSettled, mb),
      boundTarget(`resident memory under ${TARGET_MIB} MB, after a restart (peak)`, restartPeak, mb),
    ];
    return {
      target: `fresh < ${TARGET_SECONDS} s; CPU <= 0.2x; RSS < ${TARGET_MIB} MB fresh and after a restart`,
      verdict: overallVerdict(targets),
      summary: summarizeTargets(targets),
      rows: [],
      comparison: [
        {
          title: `${services.toLocaleString("en-US")} Services x ${nodes.toLocaleString("en-US")} Nodes, real apiserver, ${workers} workers each`,
          referenceName: "upstream",
          rows: [
            freshSeconds,
            freshCpu,
            compareRuns(runs, "fresh: CPU still in use 2-12 s after (cores)", "", (r) => r.fresh.settlingCores, 2),
            compareRuns(runs, "fresh: peak resident memory", "MiB", (r) => mebibytes(r.fresh.peakRssBytes)),
            freshSettled,
            compareRuns(runs, "restart: every Service re-ensured", "s", (r) => r.restart.seconds),
            compareRuns(runs, "restart: CPU", "s", (r) => r.restart.cpuSeconds),
            restartPeak,
            restartSettled,
          ],
          loadAverages: runs.map((r) => r.loadAverage),
        },
      ],
      targets,
      details: {
        parameters: { services, nodes, workers, repetitions: common.repetitions, serviceRanges: WIDE_SERVICE_RANGES },
        runs,
      },
    };
  } finally {
    await cluster.stop();
  }
}

export const memory: Scenario = {
  name: "memory",
  title: "10,000 LoadBalancer Services x 1,000 realistic Nodes: fresh and after a restart",
  optionHelp: {
    services: "LoadBalancer Services (10000; at most 20,000 NodePorts)",
    nodes: "Nodes, realistic size (1000)",
    workers: `workers of both controllers (lb-provisioner's default, ${CLI_DEFAULT_WORKERS})`,
    ...COMMON_OPTION_HELP,
    repetitions: "runs of each controller, alternating which goes first (1)",
  },
  run,
};
