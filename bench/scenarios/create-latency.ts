/**
 * Service created -> address in status, side by side: the reference controller and lb-provisioner,
 * each as its own process on the same apiserver, equal workers, client rate limits out of the way,
 * no cloud latency. Targets: p50 and p99 at most 1.0x the reference, p99 under 50 ms; CPU per Service
 * at most 2x.
 *
 * Services are created one after another; each latency runs from the moment the create call returns
 * to the moment a separate watch on the namespace delivers the Service with
 * `status.loadBalancer.ingress` set: the watch event reaching the controller's informer, the finalizer
 * write, the cloud call, the status write, and the event reaching the observer. The first few Services
 * warm up connections and are not counted. The span is split at the Service's first delivery with the
 * finalizer (the controller's first write). CPU is the controller process's own over the measured
 * Services. Between runs the Services are deleted, so each controller starts on the same cluster.
 *
 * The percentiles judged are those of every run's samples pooled per side (eight runs a side give 1,600
 * samples); the medians of the runs' own p50 and p99 are shown beside them.
 *
 * @module
 */
import { createBenchNodes, createBenchServices, deleteBenchServices, startBenchCluster } from "../lib/cluster.ts";
import { boundTarget, overallVerdict, ratioTarget, summarizeTargets } from "../lib/comparison.ts";
import { CLI_DEFAULT_WORKERS, startContender, UNLIMITED_CLIENT } from "../lib/contenders.ts";
import { benchServiceName } from "../lib/objects.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { intOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import {
  COMMON_OPTION_HELP,
  commonOptions,
  comparePooled,
  compareRuns,
  eachContender,
  mebibytes,
} from "../lib/session.ts";
import { round, summarize } from "../lib/stats.ts";
import { AddressWatch } from "../lib/watch.ts";

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const services = intOption(context, "services", 200);
  const warmup = intOption(context, "warmup", 5);
  const nodes = intOption(context, "nodes", 3);
  const workers = intOption(context, "workers", CLI_DEFAULT_WORKERS);
  const common = commonOptions(context, 8);

  const cluster = await startBenchCluster(context.log);
  try {
    await createBenchNodes(cluster.core, nodes);
    const runs = await eachContender(context, common, async (contender) => {
      const controller = await startContender(
        contender,
        { workers, clientRateLimit: UNLIMITED_CLIENT, costPerNewLoadBalancerMs: 0 },
        { ...common.start, kubeconfigPath: cluster.kubeconfigPath },
        context.log,
      );
      const watch = await AddressWatch.start(cluster.kubeConfig);
      try {
        const latencies: number[] = [];
        const toFinalizer: number[] = [];
        let cpuBefore = 0;
        for (let index = 0; index < warmup + services; index++) {
          if (index === warmup) cpuBefore = controller.usage().cpuSeconds;
          const [created] = await createBenchServices(cluster.core, 1, { first: index });
          const returnedAt = performance.now();
          const name = created?.metadata?.name ?? benchServiceName(index);
          const addressedAt = await watch.waitForAddress(name);
          if (index < warmup) continue;
          latencies.push(addressedAt - returnedAt);
          const finalizedAt = watch.finalizedAt(name);
          if (finalizedAt !== undefined) toFinalizer.push(finalizedAt - returnedAt);
        }
        const usage = controller.usage();
        const latency = summarize(latencies);
        const finalizer = summarize(toFinalizer);
        context.log(`${contender}: p50 ${round(latency.p50)} ms, p99 ${round(latency.p99)} ms`);
        return {
          latency,
          finalizer,
          cpuSeconds: usage.cpuSeconds - cpuBefore,
          peakRssBytes: usage.peakRssBytes,
          settings: controller.settings,
          cloudCalls: await controller.cloudCalls(),
          samplesMs: latencies.map((value) => round(value, 2)),
          finalizerSamplesMs: toFinalizer.map((value) => round(value, 2)),
        };
      } finally {
        watch.stop();
        await controller.stop();
        await deleteBenchServices(cluster.core);
      }
    });

    const pooled = (metric: string, p: number) => comparePooled(runs, metric, "ms", (r) => r.samplesMs, p);
    const p50 = pooled("create -> address, p50", 50);
    const p99 = pooled("create -> address, p99", 99);
    const cpu = compareRuns(runs, `CPU for those ${services} Services`, "s", (r) => r.cpuSeconds, 2);
    const targets = [
      ratioTarget("create -> address p50 at most 1.0x upstream", p50, 1.0),
      ratioTarget("create -> address p99 at most 1.0x upstream", p99, 1.0),
      boundTarget("create -> address p99 under 50 ms", p99, 50),
      ratioTarget("CPU per Service provisioned at most 2x upstream", cpu, 2.0),
    ];
    return {
      target: "p50, p99 <= 1.0x upstream; p99 < 50 ms; CPU <= 2x",
      verdict: overallVerdict(targets),
      summary: summarizeTargets(targets),
      rows: [],
      comparison: [
        {
          title: `${services} Services one by one, ${nodes} nodes, ${workers} workers (percentiles of all runs' samples)`,
          referenceName: "upstream",
          rows: [
            p50,
            comparePooled(runs, "of which create -> finalizer written, p50", "ms", (r) => r.finalizerSamplesMs, 50),
            pooled("create -> address, p95", 95),
            p99,
            compareRuns(runs, "median of the runs' own p50", "ms", (r) => r.latency.p50),
            compareRuns(runs, "median of the runs' own p99", "ms", (r) => r.latency.p99),
            cpu,
            compareRuns(runs, "peak resident memory", "MiB", (r) => mebibytes(r.peakRssBytes)),
          ],
          loadAverages: runs.map((r) => r.loadAverage),
        },
      ],
      targets,
      details: { parameters: { services, warmup, nodes, workers, repetitions: common.repetitions }, runs },
    };
  } finally {
    await cluster.stop();
  }
}

export const createLatency: Scenario = {
  name: "create-latency",
  title: "Service created -> address in status",
  optionHelp: {
    services: "Services measured, created one after another (200)",
    warmup: "Services created first and not counted (5)",
    nodes: "Nodes in the cluster (3, the seed scenario's)",
    workers: `workers of both controllers (lb-provisioner's default, ${CLI_DEFAULT_WORKERS})`,
    ...COMMON_OPTION_HELP,
    repetitions: "runs of each controller, alternating which goes first (8)",
  },
  run,
};
