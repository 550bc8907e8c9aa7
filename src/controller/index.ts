/**
 * The Service controller: watches `type: LoadBalancer` Services and Nodes, provisions each Service's
 * load balancer through a {@link LoadBalancerProvider}, and writes its address to
 * `status.loadBalancer`.
 *
 * Running it (what `lb-provisioner run` does):
 *
 * ```ts
 * import { createServiceController } from "./controller/index.ts";
 * import { loadKubeConfig } from "./kube/config.ts";
 * import { runWithLeaderElection } from "./kube/leader-election.ts";
 *
 * const controller = createServiceController({
 *   kubeConfig: loadKubeConfig({ kubeconfig: config.kubeconfig }),
 *   provider,                        // closed by the caller after run() resolves
 *   clusterName: "kubernetes",
 *   loadBalancerClass: undefined,    // undefined: class-less Services (cloud-controller-manager mode)
 *   workers: 1,                      // --concurrent-service-syncs
 *   resyncPeriodMs: 5 * 60_000,      // --resync-period; 0 turns it off
 *   logger, metrics,
 *   drainTimeoutMs: 10_000,          // in-flight reconciles' bound on shutdown
 *   backoff: { baseMs: 5_000, maxMs: 300_000 }, // optional; tests shorten it
 * });
 * readiness = () => controller.hasSynced();
 * await runWithLeaderElection({ kubeConfig, namespace, name, logger, signal }, (leading) => controller.run(leading));
 * ```
 *
 * `run(signal)` starts the informers, waits for both caches, runs the workers until `signal` aborts,
 * then stops taking keys, lets in-flight reconciles finish within `drainTimeoutMs` (aborting their
 * provider calls after that), and resolves. Without leader election, call `controller.run(signal)`
 * directly. `runWithLeaderElection` rejects with `LeadershipLostError` when the Lease is lost: exit
 * non-zero.
 *
 * Behaviour, in the upstream service controller's terms, is described in `controller.ts` (the loop)
 * and `reconcile.ts` (one Service); the rules are pure functions in `service-filters.ts`,
 * `node-eligibility.ts`, `load-balancer-spec.ts` and `status.ts`.
 *
 * Kubernetes permissions needed: list/watch Services and Nodes; patch Services (finalizer) and
 * `services/status`; create/patch Events; get/create/update Leases (leader election).
 *
 * @module
 */
export type { LoadBalancerProvider } from "../../providers/index.ts";
export { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
export { createServiceController, type ServiceController, type ServiceControllerOptions } from "./controller.ts";
export { EventMessage, EventReason } from "./events.ts";
export {
  buildLoadBalancerSpec,
  loadBalancerRefOf,
  SOURCE_RANGES_ANNOTATION,
  type SpecResult,
} from "./load-balancer-spec.ts";
export {
  EXCLUDE_FROM_LOAD_BALANCERS_LABEL,
  eligibleNodeSpecs,
  isNodeEligible,
  TO_BE_DELETED_BY_AUTOSCALER_TAINT,
} from "./node-eligibility.ts";
export { WorkQueue, type WorkQueueOptions } from "./queue.ts";
export {
  CLASSED_CLEANUP_FINALIZER,
  cleanupFinalizer,
  needsCleanup,
  type ServiceSelection,
  UPSTREAM_CLEANUP_FINALIZER,
  wantsLoadBalancer,
} from "./service-filters.ts";
export { loadBalancerStatusEqual } from "./status.ts";
