/**
 * A converged fleet: a control plane holding Nodes and LoadBalancer Services, the controller running
 * over them with the fake provider, every Service addressed and the controller gone quiet. The start
 * of the node-churn and resync scenarios, which then measure one change against it.
 *
 * @module
 */
import type { LoadBalancerRef } from "../../providers/index.ts";
import { type BenchCluster, createBenchNodes, createBenchServices, startBenchCluster } from "./cluster.ts";
import { BENCH_CLUSTER_NAME, type BenchController, startBenchController, waitForNoMutations } from "./controller.ts";
import { BENCH_NAMESPACE, benchServiceName } from "./objects.ts";
import type { ScenarioContext } from "./scenario.ts";
import { round } from "./stats.ts";
import { AddressWatch } from "./watch.ts";

export interface FleetOptions {
  readonly services: number;
  readonly nodes: number;
  /** Ports per Service: each is a listener and a target group. */
  readonly ports: number;
  readonly workers: number;
  readonly latencyMs: number;
  readonly resyncPeriodMs: number;
  readonly reuseConnections: boolean;
}

export interface Fleet {
  readonly cluster: BenchCluster;
  readonly controller: BenchController;
  readonly watch: AddressWatch;
  readonly options: FleetOptions;
  /** Seconds from starting the controller to every Service addressed. */
  readonly convergedSeconds: number;
  /** The provider ref of Service `index`. */
  ref(index: number): LoadBalancerRef;
  stop(): Promise<void>;
}

/** Starts everything and returns once every Service is addressed and mutations have stopped. */
export async function startConvergedFleet(context: ScenarioContext, options: FleetOptions): Promise<Fleet> {
  const cluster = await startBenchCluster(context.log);
  const cleanups: Array<() => Promise<void> | void> = [() => cluster.stop()];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    await createBenchNodes(cluster.core, options.nodes);
    await createBenchServices(cluster.core, options.services, { ports: options.ports });
    context.log(`created ${options.nodes} Nodes and ${options.services} Services with ${options.ports} port(s) each`);
    const watch = await AddressWatch.start(cluster.kubeConfig);
    cleanups.push(() => watch.stop());
    const started = performance.now();
    const controller = startBenchController({
      kubeConfig: cluster.controllerKubeConfig(options.reuseConnections),
      workers: options.workers,
      latencyMs: options.latencyMs,
      resyncPeriodMs: options.resyncPeriodMs,
    });
    cleanups.push(() => controller.stop());
    await controller.synced();
    await watch.waitForCount(options.services, 600_000);
    const convergedSeconds = round((performance.now() - started) / 1000, 2);
    await waitForNoMutations(controller, 2_000, 120_000);
    context.log(`converged: ${options.services} Services addressed in ${convergedSeconds} s`);
    return {
      cluster,
      controller,
      watch,
      options,
      convergedSeconds,
      ref: (index) => ({
        clusterName: BENCH_CLUSTER_NAME,
        service: { namespace: BENCH_NAMESPACE, name: benchServiceName(index) },
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
