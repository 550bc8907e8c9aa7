/**
 * Target: a Service created -> its address in status, p99 under 50 ms (fake provider, no latency,
 * local apiserver).
 *
 * Services are created one after another; each latency runs from the moment the create call returns
 * to the moment a separate watch on the namespace delivers the Service with
 * `status.loadBalancer.ingress` set. That span holds the controller's whole path: the watch event
 * reaching its informer, the finalizer patch, the provider call, the status patch, and the event
 * reaching the observer's watch. The first few Services warm up connections and JIT and are not
 * counted. The span is split at the Service's first delivery with the finalizer (the controller's
 * first write), and as a floor the same watch's delay in delivering each ADDED event is reported.
 *
 * @module
 */
import { createBenchNodes, createBenchServices, startBenchCluster } from "../lib/cluster.ts";
import { CLI_DEFAULT_WORKERS, startBenchController } from "../lib/controller.ts";
import { benchServiceName } from "../lib/objects.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { intOption, reuseConnectionsOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { round, summarize } from "../lib/stats.ts";
import { AddressWatch } from "../lib/watch.ts";

const TARGET_P99_MS = 50;

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const services = intOption(context, "services", 200);
  const warmup = intOption(context, "warmup", 5);
  const nodes = intOption(context, "nodes", 3);
  const workers = intOption(context, "workers", CLI_DEFAULT_WORKERS);
  const reuseConnections = reuseConnectionsOption(context);

  const cluster = await startBenchCluster(context.log);
  try {
    await createBenchNodes(cluster.core, nodes);
    const controller = startBenchController({ kubeConfig: cluster.controllerKubeConfig(reuseConnections), workers });
    try {
      await controller.synced();
      const watch = await AddressWatch.start(cluster.kubeConfig);
      try {
        const latencies: number[] = [];
        const deliveries: number[] = [];
        const toFinalizer: number[] = [];
        for (let index = 0; index < warmup + services; index++) {
          const [created] = await createBenchServices(cluster.core, 1, { first: index });
          const returnedAt = performance.now();
          const name = created?.metadata?.name ?? benchServiceName(index);
          const addressedAt = await watch.waitForAddress(name);
          if (index < warmup) continue;
          latencies.push(addressedAt - returnedAt);
          const seenAt = watch.seenAt(name);
          if (seenAt !== undefined) deliveries.push(seenAt - returnedAt);
          const finalizedAt = watch.finalizedAt(name);
          if (finalizedAt !== undefined) toFinalizer.push(finalizedAt - returnedAt);
          if ((index + 1 - warmup) % 50 === 0) context.log(`${index + 1 - warmup}/${services} Services addressed`);
        }
        const latency = summarize(latencies);
        const delivery = summarize(deliveries);
        const finalizer = summarize(toFinalizer);
        const met = latency.p99 < TARGET_P99_MS;
        return {
          target: `p99 < ${TARGET_P99_MS} ms`,
          verdict: met ? "met" : "missed",
          summary: `p99 ${round(latency.p99)} ms over ${latency.count} Services`,
          rows: [
            { metric: "Services measured (after warm-up)", value: `${latency.count} (+${warmup})` },
            { metric: "nodes / workers", value: `${nodes} / ${workers}` },
            ...(reuseConnections ? [{ metric: "what-if", value: "--reuse-connections" }] : []),
            { metric: "create -> address p50", value: round(latency.p50), unit: "ms" },
            { metric: "create -> address p95", value: round(latency.p95), unit: "ms" },
            { metric: "create -> address p99", value: round(latency.p99), unit: "ms" },
            { metric: "create -> address max", value: round(latency.max), unit: "ms" },
            { metric: "create -> address mean", value: round(latency.mean), unit: "ms" },
            { metric: "of which create -> finalizer p50", value: round(finalizer.p50), unit: "ms" },
            { metric: "of which create -> finalizer p99", value: round(finalizer.p99), unit: "ms" },
            { metric: "floor: create -> ADDED event p50", value: round(delivery.p50), unit: "ms" },
            { metric: "floor: create -> ADDED event p99", value: round(delivery.p99), unit: "ms" },
          ],
          details: {
            parameters: { services, warmup, nodes, workers, providerLatencyMs: 0, reuseConnections },
            latencyMs: latency,
            addedEventDelayMs: delivery,
            createToFinalizerMs: finalizer,
            samplesMs: latencies.map((value) => round(value, 2)),
            providerCalls: controller.provider.callCounts(),
            watchRestarts: watch.restarts,
          },
        };
      } finally {
        watch.stop();
      }
    } finally {
      await controller.stop();
    }
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
    workers: `controller workers (the CLI default, ${CLI_DEFAULT_WORKERS})`,
    "reuse-connections": "what-if: the controller's client shares one connection pool (off)",
  },
  run,
};
