/**
 * Target: one node added with 1,000 LoadBalancer Services: one register call per target group, nothing
 * else mutating.
 *
 * Against a converged fleet (every Service addressed, no mutation for 2 s), the fake provider's call
 * log is cleared and one eligible Node is created. The scenario waits until every Service has been
 * reconciled once more and the provider has been free of mutations for longer than the controller's
 * node-sync quiet period, then reads the call log and checks, through the fake cloud's own state,
 * that every target group now holds the new node.
 *
 * Services have two ports by default, so there are two target groups per load balancer and "one call
 * per target group" is told apart from "one call per Service".
 *
 * @module
 */
import { createBenchNodes } from "../lib/cluster.ts";
import { pollUntil } from "../lib/concurrency.ts";
import { CLI_DEFAULT_WORKERS, waitForNoMutations } from "../lib/controller.ts";
import { startConvergedFleet } from "../lib/fleet.ts";
import { benchNode } from "../lib/objects.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { intOption, reuseConnectionsOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { round } from "../lib/stats.ts";

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const options = {
    services: intOption(context, "services", 1000),
    nodes: intOption(context, "nodes", 100),
    ports: intOption(context, "ports", 2),
    workers: intOption(context, "workers", CLI_DEFAULT_WORKERS),
    latencyMs: intOption(context, "latency-ms", 0),
    resyncPeriodMs: 0,
    reuseConnections: reuseConnectionsOption(context),
  };
  const fleet = await startConvergedFleet(context, options);
  try {
    const { controller, cluster } = fleet;
    const before = (await controller.reconciles()).success ?? 0;
    const modifiedBefore = fleet.watch.modifiedEvents;
    controller.provider.resetCalls();
    const added = benchNode(options.nodes);
    const addedName = added.metadata?.name ?? "";
    const started = performance.now();
    await createBenchNodes(cluster.core, 1, options.nodes);
    await pollUntil(
      `all ${options.services} Services to be reconciled after the node was added`,
      async () => ((await controller.reconciles()).success ?? 0) - before >= options.services,
      { timeoutMs: 600_000, intervalMs: 50 },
    );
    const updatedSeconds = round((performance.now() - started) / 1000, 2);
    // Longer than the controller's node-sync quiet period (1 s), so a late second pass would be seen.
    await waitForNoMutations(controller, 3_000, 120_000);

    let targetGroups = 0;
    let missing = 0;
    for (let index = 0; index < options.services; index++) {
      const observed = controller.provider.inspect(fleet.ref(index));
      for (const listener of observed?.listeners ?? []) {
        targetGroups++;
        if (!listener.targets.some((target) => target.id === addedName)) missing++;
      }
    }
    const counts = controller.provider.callCounts();
    const register = counts.RegisterTargets ?? 0;
    const mutating = controller.provider.mutatingCalls();
    const otherMutating = mutating - register;
    const expected = options.services * options.ports;
    const met = register === targetGroups && targetGroups === expected && otherMutating === 0 && missing === 0;
    return {
      target: "RegisterTargets = target groups, no other mutating call",
      verdict: met ? "met" : "missed",
      summary: `${register} RegisterTargets for ${targetGroups} target groups, ${otherMutating} other mutating calls${missing > 0 ? `, ${missing} target groups without the new node` : ""}`,
      rows: [
        {
          metric: "Services x ports, nodes before",
          value: `${options.services} x ${options.ports}, ${options.nodes}`,
        },
        { metric: "target groups (expected)", value: `${targetGroups} (${expected})` },
        { metric: "RegisterTargets", value: register },
        { metric: "other mutating calls", value: otherMutating },
        { metric: "read calls (DescribeLoadBalancer)", value: counts.DescribeLoadBalancer ?? 0 },
        { metric: "target groups missing the new node", value: missing },
        { metric: "Service writes seen (MODIFIED events)", value: fleet.watch.modifiedEvents - modifiedBefore },
        { metric: "node created -> every Service reconciled", value: updatedSeconds, unit: "s" },
        { metric: "initial convergence (context)", value: fleet.convergedSeconds, unit: "s" },
      ],
      details: {
        parameters: { ...options },
        addedNode: addedName,
        providerCalls: counts,
        reconciles: await controller.reconciles(),
      },
    };
  } finally {
    await fleet.stop();
  }
}

export const nodeAdded: Scenario = {
  name: "node-added",
  title: "One node added with 1,000 LoadBalancer Services converged",
  optionHelp: {
    services: "LoadBalancer Services (1000)",
    nodes: "Nodes before the one added (100)",
    ports: "ports, so target groups, per Service (2)",
    workers: `controller workers (the CLI default, ${CLI_DEFAULT_WORKERS})`,
    "latency-ms": "fake provider latency per call (0: the count is what is measured)",
    "reuse-connections": "what-if: the controller's client shares one connection pool (off)",
  },
  run,
};
