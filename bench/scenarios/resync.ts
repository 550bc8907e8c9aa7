/**
 * Target: a resync with no drift makes zero mutating cloud calls.
 *
 * The controller runs with a short `resyncPeriodMs` (5 s by default; the CLI default is 10 min), so
 * every few seconds it re-ensures every managed Service with a forced provider call. Against a
 * converged fleet the call log is cleared and the scenario waits until the fake has served at least
 * two full passes of reads (one DescribeLoadBalancer per Service per pass), then reads the mutating
 * count and the Service writes the apiserver delivered in that window.
 *
 * A control run proves the window would have caught drift: a few load balancers lose a target out
 * of band, and the next passes must repair exactly those with one RegisterTargets each.
 *
 * @module
 */
import { pollUntil } from "../lib/concurrency.ts";
import { CLI_DEFAULT_WORKERS } from "../lib/controller.ts";
import { type Fleet, startConvergedFleet } from "../lib/fleet.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { intOption, reuseConnectionsOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { round } from "../lib/stats.ts";

/** Clears the call log and waits until `passes` full resync passes worth of reads have been served. */
async function observePasses(fleet: Fleet, passes: number): Promise<number> {
  const { provider } = fleet.controller;
  const { services, resyncPeriodMs } = fleet.options;
  provider.resetCalls();
  const started = performance.now();
  await pollUntil(
    `${passes} resync passes`,
    () => (provider.callCounts().DescribeLoadBalancer ?? 0) >= passes * services,
    { timeoutMs: (passes + 2) * resyncPeriodMs + 300_000, intervalMs: 50 },
  );
  return round((performance.now() - started) / 1000, 2);
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const options = {
    services: intOption(context, "services", 1000),
    nodes: intOption(context, "nodes", 100),
    ports: 1,
    workers: intOption(context, "workers", CLI_DEFAULT_WORKERS),
    latencyMs: intOption(context, "latency-ms", 0),
    resyncPeriodMs: intOption(context, "resync-ms", 5_000),
    reuseConnections: reuseConnectionsOption(context),
  };
  const drifted = Math.min(intOption(context, "drifted", 10), options.services);
  const fleet = await startConvergedFleet(context, options);
  try {
    const { provider } = fleet.controller;

    const modifiedBefore = fleet.watch.modifiedEvents;
    const windowSeconds = await observePasses(fleet, 2);
    const quiet = {
      windowSeconds,
      calls: provider.callCounts(),
      mutating: provider.mutatingCalls(),
      serviceWrites: fleet.watch.modifiedEvents - modifiedBefore,
    };
    context.log(`no-drift window: ${quiet.mutating} mutating calls over ${windowSeconds} s`);

    // Control: remove one target from `drifted` load balancers behind the controller's back.
    for (let index = 0; index < drifted; index++) {
      provider.mutateOutOfBand(fleet.ref(index), (loadBalancer) => {
        for (const group of loadBalancer.targetGroups.values()) group.targets = group.targets.slice(1);
      });
    }
    const controlSeconds = await observePasses(fleet, 2);
    const control = { windowSeconds: controlSeconds, calls: provider.callCounts(), mutating: provider.mutatingCalls() };
    let repaired = 0;
    for (let index = 0; index < drifted; index++) {
      const listener = provider.inspect(fleet.ref(index))?.listeners[0];
      if (listener?.targets.length === options.nodes) repaired++;
    }

    const controlOk =
      control.mutating === drifted && (control.calls.RegisterTargets ?? 0) === drifted && repaired === drifted;
    const met = quiet.mutating === 0 && quiet.serviceWrites === 0 && controlOk;
    return {
      target: "0 mutating calls in a no-drift resync",
      verdict: met ? "met" : "missed",
      summary: `${quiet.mutating} mutating calls and ${quiet.serviceWrites} Service writes over ${Math.floor((quiet.calls.DescribeLoadBalancer ?? 0) / options.services)} passes; control: ${repaired}/${drifted} drifted repaired with ${control.mutating} mutating calls`,
      rows: [
        {
          metric: "Services x nodes, resync period",
          value: `${options.services} x ${options.nodes}, ${options.resyncPeriodMs} ms`,
        },
        { metric: "no drift: window", value: windowSeconds, unit: "s" },
        { metric: "no drift: reads (DescribeLoadBalancer)", value: quiet.calls.DescribeLoadBalancer ?? 0 },
        { metric: "no drift: mutating calls", value: quiet.mutating },
        { metric: "no drift: Service writes (MODIFIED events)", value: quiet.serviceWrites },
        { metric: "control: load balancers drifted", value: drifted },
        {
          metric: "control: mutating calls (RegisterTargets)",
          value: `${control.mutating} (${control.calls.RegisterTargets ?? 0})`,
        },
        { metric: "control: repaired", value: `${repaired}/${drifted}` },
      ],
      details: { parameters: { ...options, drifted }, noDrift: quiet, control: { ...control, repaired } },
    };
  } finally {
    await fleet.stop();
  }
}

export const resync: Scenario = {
  name: "resync",
  title: "A resync with no drift",
  optionHelp: {
    services: "LoadBalancer Services (1000)",
    nodes: "Nodes (100)",
    "resync-ms": "the controller's resync period in this run (5000)",
    drifted: "load balancers edited out of band in the control run (10)",
    workers: `controller workers (the CLI default, ${CLI_DEFAULT_WORKERS})`,
    "latency-ms": "fake provider latency per call (0)",
    "reuse-connections": "what-if: the controller's client shares one connection pool (off)",
  },
  run,
};
