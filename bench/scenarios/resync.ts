/**
 * Periodic resync of a converged fleet with no drift (1,000 Services x 100 nodes), side by side: the
 * cloud calls, Service writes and CPU a controller spends re-checking Services nothing changed.
 * Targets: no mutating call; a resync of the converged Services at most 200 cloud calls in all.
 *
 * lb-provisioner re-ensures every managed Service each `--resync-period` (10 minutes by default; 5 s
 * here so passes come quickly); the window is two full passes (its successful reconciles grow by twice
 * the Services). The upstream controller has no such re-ensure: its Service informer resyncs every
 * 30 s and re-queues nothing unchanged, so its window is two of those (65 s). Calls per pass are the
 * window's calls divided by two.
 *
 * @module
 */
import { createBenchNodes, createBenchServices, startBenchCluster } from "../lib/cluster.ts";
import { boundTarget, overallVerdict, summarizeTargets, type TargetCheck } from "../lib/comparison.ts";
import { pollUntil } from "../lib/concurrency.ts";
import { CLI_DEFAULT_WORKERS, UNLIMITED_CLIENT } from "../lib/contenders.ts";
import { withConvergedFleet } from "../lib/fleet.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { intOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { COMMON_OPTION_HELP, commonOptions, compareRuns, eachContender } from "../lib/session.ts";

const PASSES = 2;
const UPSTREAM_WINDOW_MS = 65_000;
const MAX_CALLS_PER_PASS = 200;

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const services = intOption(context, "services", 1000);
  const nodes = intOption(context, "nodes", 100);
  const workers = intOption(context, "workers", CLI_DEFAULT_WORKERS);
  const resyncMs = intOption(context, "resync-ms", 5_000);
  const common = commonOptions(context, 1);
  const settings = {
    workers,
    clientRateLimit: UNLIMITED_CLIENT,
    costPerNewLoadBalancerMs: 0,
    resyncPeriod: `${resyncMs}ms`,
  };

  const cluster = await startBenchCluster(context.log);
  try {
    await createBenchNodes(cluster.core, nodes);
    await createBenchServices(cluster.core, services);
    const runs = await eachContender(context, common, (contender) =>
      withConvergedFleet(context, common, cluster, contender, services, settings, async (controller, watch) => {
        const before = await controller.cloudCalls();
        const ensuredBefore = await controller.ensured();
        const cpuBefore = controller.usage().cpuSeconds;
        const modifiedBefore = watch.modifiedEvents;
        const started = performance.now();
        if (contender === "lb-provisioner") {
          await pollUntil(
            `${PASSES} resync passes`,
            async () => (await controller.ensured()) - ensuredBefore >= PASSES * services,
            { timeoutMs: PASSES * resyncMs + 600_000, intervalMs: 100 },
          );
        } else {
          await new Promise((resolve) => setTimeout(resolve, UPSTREAM_WINDOW_MS));
        }
        const after = await controller.cloudCalls();
        return {
          windowSeconds: (performance.now() - started) / 1000,
          callsPerPass: (after.total - before.total) / PASSES,
          mutating: after.mutating - before.mutating,
          reEnsuredPerPass: ((await controller.ensured()) - ensuredBefore) / PASSES,
          cpuSecondsPerPass: (controller.usage().cpuSeconds - cpuBefore) / PASSES,
          serviceWrites: watch.modifiedEvents - modifiedBefore,
        };
      }),
    );

    const callsRow = compareRuns(
      runs,
      `cloud calls per pass over ${services.toLocaleString("en-US")} Services`,
      "",
      (r) => r.callsPerPass,
      0,
    );
    const mutatingRow = compareRuns(runs, "mutating calls in the window", "", (r) => r.mutating, 0);
    const targets: TargetCheck[] = [
      boundTarget(
        `a resync of ${services.toLocaleString("en-US")} converged Services: at most ${MAX_CALLS_PER_PASS} calls in all`,
        callsRow,
        MAX_CALLS_PER_PASS + 1,
      ),
      boundTarget("no mutating call on a resync with no drift", mutatingRow, 1),
    ];
    return {
      target: `<= ${MAX_CALLS_PER_PASS} calls per resync pass, 0 mutating`,
      verdict: overallVerdict(targets),
      summary: summarizeTargets(targets),
      rows: [],
      comparison: [
        {
          title: `resync with no drift, ${services.toLocaleString("en-US")} Services x ${nodes} nodes (lb-provisioner every ${resyncMs / 1000} s; upstream's 30 s informer resync)`,
          referenceName: "upstream",
          rows: [
            compareRuns(runs, "window (two passes)", "s", (r) => r.windowSeconds, 1),
            compareRuns(runs, "Services re-ensured per pass", "", (r) => r.reEnsuredPerPass, 0),
            callsRow,
            mutatingRow,
            compareRuns(runs, "CPU per pass", "s", (r) => r.cpuSecondsPerPass, 2),
            compareRuns(runs, "Service writes in the window", "", (r) => r.serviceWrites, 0),
          ],
          loadAverages: runs.map((r) => r.loadAverage),
        },
      ],
      targets,
      details: { parameters: { services, nodes, workers, resyncMs, repetitions: common.repetitions }, runs },
    };
  } finally {
    await cluster.stop();
  }
}

export const resync: Scenario = {
  name: "resync",
  title: "A resync of 1,000 converged Services with no drift",
  optionHelp: {
    services: "LoadBalancer Services (1000)",
    nodes: "Nodes (100)",
    "resync-ms": "lb-provisioner's resync period in this run (5000)",
    workers: `workers of both controllers (lb-provisioner's default, ${CLI_DEFAULT_WORKERS})`,
    ...COMMON_OPTION_HELP,
    repetitions: "runs of each controller, alternating which goes first (1)",
  },
  run,
};
