/**
 * A converged fleet, per controller: the cluster's Services all addressed by a controller process and
 * its cloud calls quiet. The start of the node-join and resync scenarios, which then measure one
 * change against it; afterwards the process is stopped and the Services unprovisioned for the next.
 *
 * @module
 */
import { type BenchCluster, unprovisionBenchServices } from "./cluster.ts";
import { pollUntil } from "./concurrency.ts";
import { type ContenderName, type ControllerProcess, type ControllerSettings, startContender } from "./contenders.ts";
import type { ScenarioContext } from "./scenario.ts";
import type { CommonOptions } from "./session.ts";
import { round } from "./stats.ts";
import { AddressWatch } from "./watch.ts";

/**
 * Resolves once `quietMs` pass with no new cloud call of the kind `count` reads; rejects after
 * `timeoutMs`. Resolves with the time of the last change (`performance.now()`).
 */
export async function waitForQuiet(count: () => Promise<number>, quietMs: number, timeoutMs: number): Promise<number> {
  let last = await count();
  let lastChange = performance.now();
  await pollUntil(
    `${quietMs} ms without a new cloud call`,
    async () => {
      const now = await count();
      if (now !== last) {
        last = now;
        lastChange = performance.now();
      }
      return performance.now() - lastChange >= quietMs;
    },
    { timeoutMs, intervalMs: 100 },
  );
  return lastChange;
}

/** Starts `contender`, waits until all `services` are addressed and its mutating calls stop, runs `body`, cleans up. */
export async function withConvergedFleet<T>(
  context: ScenarioContext,
  common: CommonOptions,
  cluster: BenchCluster,
  contender: ContenderName,
  services: number,
  settings: ControllerSettings,
  body: (controller: ControllerProcess, watch: AddressWatch) => Promise<T>,
): Promise<T> {
  const watch = await AddressWatch.start(cluster.kubeConfig);
  const controller = await startContender(
    contender,
    settings,
    { ...common.start, kubeconfigPath: cluster.kubeconfigPath },
    context.log,
  );
  try {
    await watch.waitForCount(services, 900_000);
    const seconds = round((performance.now() - controller.spawnedAt) / 1000, 2);
    await waitForQuiet(async () => (await controller.cloudCalls()).mutating, 2_000, 300_000);
    context.log(`${contender}: ${services} Services converged in ${seconds} s`);
    return await body(controller, watch);
  } finally {
    watch.stop();
    await controller.stop();
    await unprovisionBenchServices(cluster.core);
  }
}
