/**
 * Kubernetes plumbing the controller is built on, each piece usable alone:
 *
 * - `loadKubeConfig({ kubeconfig? })` — `--kubeconfig`, else in-cluster, else `$KUBECONFIG`, else
 *   `~/.kube/config`; a {@link KubeConfigError} that says what to pass otherwise. It returns a
 *   {@link ClusterAccess}, a shape `@kubernetes/client-node`'s `KubeConfig` has too.
 * - {@link KubeApiClient} — the API client all of these share ({@link apiClientFor}: one connection
 *   pool per {@link ClusterAccess}).
 * - {@link ResilientInformer} — a list-watch cache that restarts after errors, reports `hasSynced()`, and
 *   keeps one trimmed copy of each object ({@link listInPages} reads a collection a page at a time).
 * - {@link EventRecorder} — core/v1 Events with aggregation and a per-object spam filter.
 * - {@link runWithLeaderElection} — work that runs only while this process holds a Lease.
 * - {@link ServiceWriter} — the controller's only Service writes (finalizer, `status.loadBalancer`).
 *
 * @module
 */

export {
  apiClientFor,
  type KubeApi,
  KubeApiClient,
  KubeApiError,
  type PatchType,
  type WatchEvent,
} from "./api-client.ts";
export { apiStatusCode, describeApiError, isConflict, isNotFound } from "./api-errors.ts";
export { type ClusterAccess, KubeConfigError, type LoadKubeConfigOptions, loadKubeConfig } from "./config.ts";
export {
  type EventOutcome,
  EventRecorder,
  type EventRecorderOptions,
  type EventSink,
  type EventSubject,
  type EventType,
} from "./event-recorder.ts";
export {
  cacheKey,
  type InformerHandlers,
  LIST_PAGE_SIZE,
  type ListPage,
  listInPages,
  ResilientInformer,
  type ResilientInformerOptions,
} from "./informer.ts";
export {
  defaultLeaderIdentity,
  type LeaderElectionOptions,
  LeadershipLostError,
  runWithLeaderElection,
} from "./leader-election.ts";
export { ServiceWriter, type ServiceWrites } from "./service-writer.ts";
