/**
 * One node joins a converged fleet (1,000 LoadBalancer Services with two ports each, 100 nodes), side
 * by side: the time until the controller stops making cloud calls for it, the calls (per Service and
 * by operation), the CPU it spent and the Service writes it made. Target kept from the design: one
 * RegisterTargets per target group and no other mutating call (lb-provisioner; upstream's fake has a
 * single UpdateLoadBalancer per Service instead).
 *
 * Two ports per Service make two target groups per load balancer, so "one call per target group" is
 * told apart from "one call per Service". The wait ends when every Service has had a mutating call and
 * then 3 s pass without any call (longer than lb-provisioner's 1 s node-sync quiet period). The added
 * Node is deleted again before the next run.
 *
 * @module
 */
import { createBenchNodes, createBenchServices, startBenchCluster } from "../lib/cluster.ts";
import { overallVerdict, summarizeTargets, type TargetCheck } from "../lib/comparison.ts";
import { pollUntil } from "../lib/concurrency.ts";
import { CLI_DEFAULT_WORKERS, UNLIMITED_CLIENT } from "../lib/contenders.ts";
import { waitForQuiet, withConvergedFleet } from "../lib/fleet.ts";
import { benchNode } from "../lib/objects.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { intOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { COMMON_OPTION_HELP, commonOptions, compareRuns, eachContender } from "../lib/session.ts";

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const services = intOption(context, "services", 1000);
  const nodes = intOption(context, "nodes", 100);
  const ports = intOption(context, "ports", 2);
  const workers = intOption(context, "workers", CLI_DEFAULT_WORKERS);
  const common = commonOptions(context, 1);
  const settings = { workers, clientRateLimit: UNLIMITED_CLIENT, costPerNewLoadBalancerMs: 0 };

  const cluster = await startBenchCluster(context.log);
  try {
    await createBenchNodes(cluster.core, nodes);
    await createBenchServices(cluster.core, services, { ports });
    const runs = await eachContender(context, common, (contender) =>
      withConvergedFleet(context, common, cluster, contender, services, settings, async (controller, watch) => {
        const before = await controller.cloudCalls();
        const cpuBefore = controller.usage().cpuSeconds;
        const modifiedBefore = watch.modifiedEvents;
        const added = benchNode(nodes);
        const started = performance.now();
        await createBenchNodes(cluster.core, 1, nodes);
        try {
          await pollUntil(
            `a mutating cloud call for each of ${services} Services after the node joined`,
            async () => (await controller.cloudCalls()).mutating - before.mutating >= services,
            { timeoutMs: 600_000, intervalMs: 100 },
          );
          const lastCall = await waitForQuiet(async () => (await controller.cloudCalls()).total, 3_000, 300_000);
          const after = await controller.cloudCalls();
          const byOperation = Object.fromEntries(
            Object.entries(after.byOperation).map(([operation, count]) => [
              operation,
              count - (before.byOperation[operation] ?? 0),
            ]),
          );
          return {
            seconds: (lastCall - started) / 1000,
            calls: after.total - before.total,
            mutating: after.mutating - before.mutating,
            byOperation,
            cpuSeconds: controller.usage().cpuSeconds - cpuBefore,
            serviceWrites: watch.modifiedEvents - modifiedBefore,
          };
        } finally {
          await cluster.core.deleteNode({ name: added.metadata?.name ?? "" });
        }
      }),
    );

    const lb = runs.filter((r) => r.contender === "lb-provisioner");
    const targets: TargetCheck[] = [];
    if (lb.length > 0) {
      const groups = services * ports;
      const ok = lb.every((r) => (r.byOperation.RegisterTargets ?? 0) === groups && r.mutating === groups);
      const worst = lb[0];
      targets.push({
        target: "node join: one RegisterTargets per target group, no other mutating call",
        verdict: ok ? "met" : "missed",
        measured: `${worst?.byOperation.RegisterTargets ?? 0} RegisterTargets for ${groups} target groups, ${(worst?.mutating ?? 0) - (worst?.byOperation.RegisterTargets ?? 0)} other mutating calls`,
      });
    }
    return {
      target: "one RegisterTargets per target group, nothing else mutating",
      verdict: overallVerdict(targets),
      summary: summarizeTargets(targets),
      rows: [],
      comparison: [
        {
          title: `one node joins ${services.toLocaleString("en-US")} converged Services (${ports} ports each) x ${nodes} nodes, ${workers} workers each`,
          referenceName: "upstream",
          rows: [
            compareRuns(runs, "node created -> last cloud call", "s", (r) => r.seconds, 2),
            compareRuns(runs, "cloud calls per Service", "", (r) => r.calls / services, 2),
            compareRuns(runs, "of which mutating", "", (r) => r.mutating / services, 2),
            compareRuns(runs, "CPU for the node join", "s", (r) => r.cpuSeconds, 2),
            compareRuns(runs, "Service writes", "", (r) => r.serviceWrites, 0),
          ],
          loadAverages: runs.map((r) => r.loadAverage),
        },
      ],
      targets,
      details: { parameters: { services, nodes, ports, workers, repetitions: common.repetitions }, runs },
    };
  } finally {
    await cluster.stop();
  }
}

export const nodeAdded: Scenario = {
  name: "node-added",
  title: "One node joins 1,000 converged LoadBalancer Services",
  optionHelp: {
    services: "LoadBalancer Services (1000)",
    nodes: "Nodes before the one added (100)",
    ports: "ports, so target groups, per Service (2)",
    workers: `workers of both controllers (lb-provisioner's default, ${CLI_DEFAULT_WORKERS})`,
    ...COMMON_OPTION_HELP,
    repetitions: "runs of each controller, alternating which goes first (1)",
  },
  run,
};
