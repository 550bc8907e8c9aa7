/**
 * One reconcile of one Service key: decide what the Service needs and do it, in the upstream order.
 *
 * Ensure (the Service wants our load balancer):
 *   build and validate the spec (controller rules, then `provider.validate`) -> add the finalizer
 *   (before any cloud call, so a load balancer never exists without one) -> `ensureLoadBalancer` ->
 *   patch `status.loadBalancer` if it differs.
 * Cleanup (our finalizer, but deleted / no longer `LoadBalancer` / no longer our class):
 *   `ensureLoadBalancerDeleted` -> clear `status.loadBalancer` -> remove the finalizer.
 *
 * What it remembers per key ({@link ServiceMemory}) makes the common cases cheap and quiet:
 * - a reconcile that finds the same spec, nodes and status it last ensured makes no cloud call at all,
 *   unless forced (the periodic resync forces one, to repair drift behind our back);
 * - a spec found invalid is not tried again, and not warned about again, until the Service or the node
 *   set changes;
 * - events: Ensuring/Ensured only when the spec changed (or on the first ensure since start), Updated
 *   when only the nodes changed, nothing on a no-drift resync.
 *
 * Returns an outcome; the caller (controller.ts) turns it into a queue action. Never throws.
 *
 * @module
 */
import type { V1Service } from "@kubernetes/client-node";
import {
  type LoadBalancerProvider,
  type LoadBalancerRef,
  type LoadBalancerSpec,
  type LoadBalancerStatus,
  type NodeSpec,
  providerErrorKind,
  type ValidationIssue,
} from "../../providers/index.ts";
import { describeApiError, isConflict, isNotFound } from "../kube/api-errors.ts";
import type { EventSink, EventSubject } from "../kube/event-recorder.ts";
import type { ServiceWrites } from "../kube/service-writer.ts";
import type { Logger } from "../observability/logger.ts";
import { EventMessage, EventReason, errorMessage } from "./events.ts";
import { fingerprint } from "./fingerprint.ts";
import { buildLoadBalancerSpec, describeIssues, loadBalancerRefOf } from "./load-balancer-spec.ts";
import {
  cleanupFinalizer,
  hasFinalizer,
  needsCleanup,
  type ServiceSelection,
  splitKey,
  wantsLoadBalancer,
} from "./service-filters.ts";
import { hasLoadBalancerStatus, loadBalancerStatusEqual, toServiceIngress } from "./status.ts";

/** The eligible nodes at one moment, shared by every Service's spec, with a digest of them. */
export interface NodeSnapshot {
  readonly nodes: readonly NodeSpec[];
  readonly fingerprint: string;
}

/** What the controller remembers about one Service between reconciles (in memory only). */
export interface ServiceMemory {
  /** The Service's UID; memory of a deleted-and-recreated Service is discarded. */
  uid: string;
  /** The last spec and nodes the provider accepted, and the status it returned. */
  ensured?: { specFingerprint: string; nodesFingerprint: string; status: LoadBalancerStatus } | undefined;
  /** Service + nodes digest last found invalid; the same input is not retried or re-warned. */
  invalidFingerprint?: string | undefined;
  /** Service digest whose provider warnings were already reported. */
  warnedFingerprint?: string | undefined;
}

export interface ReconcileContext {
  readonly selection: ServiceSelection;
  readonly clusterName: string;
  readonly provider: LoadBalancerProvider;
  /** The Service from the informer cache (never modified). */
  readonly getService: (key: string) => V1Service | undefined;
  readonly getNodes: () => NodeSnapshot;
  readonly writer: ServiceWrites;
  readonly events: EventSink;
  readonly memory: Map<string, ServiceMemory>;
  /** Aborted when the controller stops; passed to every provider call. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

export type ReconcileOutcome =
  /** The provider ensured the load balancer (and status is written). */
  | { readonly kind: "ensured" }
  /** Nothing changed since the last ensure: no cloud call was made. */
  | { readonly kind: "unchanged" }
  /** Cloud resources deleted, status cleared, finalizer removed. */
  | { readonly kind: "deleted" }
  /** Not ours, or gone: nothing to do. */
  | { readonly kind: "ignored" }
  /** The spec cannot be built; do not retry until the Service or the nodes change. */
  | { readonly kind: "invalid"; readonly message: string }
  /** Try again after exactly `delayMs`. */
  | { readonly kind: "retry-after"; readonly delayMs: number; readonly message: string }
  /** Try again with backoff. */
  | { readonly kind: "failed"; readonly message: string };

export interface ReconcileOptions {
  /** Call the provider even if nothing seems to have changed (periodic resync: drift repair). */
  readonly force?: boolean;
}

function subjectOf(service: V1Service): EventSubject {
  return {
    kind: "Service",
    apiVersion: "v1",
    namespace: service.metadata?.namespace ?? "",
    name: service.metadata?.name ?? "",
    uid: service.metadata?.uid,
    resourceVersion: service.metadata?.resourceVersion,
  };
}

/**
 * The spec without its nodes: what "the Service's part changed" is judged on. The published status is
 * left out too: it is our own output, and writing it must not count as a change to ensure again.
 */
function specFingerprint(spec: LoadBalancerSpec): string {
  return fingerprint({ ...spec, nodes: undefined, publishedStatus: undefined });
}

class Reconcile {
  readonly #key: string;
  readonly #ctx: ReconcileContext;
  readonly #log: Logger;
  readonly #force: boolean;

  constructor(key: string, ctx: ReconcileContext, options: ReconcileOptions) {
    this.#key = key;
    this.#ctx = ctx;
    this.#log = ctx.logger.child({ key });
    this.#force = options.force ?? false;
  }

  async run(): Promise<ReconcileOutcome> {
    const { memory, selection } = this.#ctx;
    const service = this.#ctx.getService(this.#key);
    if (!service) return this.#forgetDeleted();
    const uid = service.metadata?.uid ?? "";
    let memo = memory.get(this.#key);
    if (!memo || memo.uid !== uid) {
      memo = { uid };
      memory.set(this.#key, memo);
    }
    if (needsCleanup(service, selection)) return this.#cleanup(service);
    // Being deleted without our finalizer: it cannot take one any more, so treat it as gone.
    if (service.metadata?.deletionTimestamp) return this.#forgetDeleted();
    if (!wantsLoadBalancer(service, selection)) {
      memory.delete(this.#key);
      return { kind: "ignored" };
    }
    return this.#ensure(service, memo);
  }

  /**
   * The Service is gone (or going without our finalizer). Normally its finalizer made us clean up first
   * and nothing is remembered. If we ensured a load balancer for it and it vanished anyway (its
   * finalizer was removed by hand), delete the load balancer now rather than leak it.
   */
  async #forgetDeleted(): Promise<ReconcileOutcome> {
    const memo = this.#ctx.memory.get(this.#key);
    if (!memo?.ensured) {
      this.#ctx.memory.delete(this.#key);
      return { kind: "ignored" };
    }
    const { namespace, name } = splitKey(this.#key);
    const ref: LoadBalancerRef = {
      clusterName: this.#ctx.clusterName,
      service: { namespace, name, ...(memo.uid ? { uid: memo.uid } : {}) },
    };
    try {
      await this.#ctx.provider.ensureLoadBalancerDeleted(ref, { signal: this.#ctx.signal });
    } catch (error) {
      if (this.#ctx.signal.aborted) return { kind: "failed", message: "stopped" };
      if (providerErrorKind(error) === "retry-after") return this.#retryAfter(error);
      this.#log.warn({ err: errorMessage(error) }, "deleting the load balancer of a vanished Service failed");
      return { kind: "failed", message: errorMessage(error) };
    }
    this.#ctx.memory.delete(this.#key);
    this.#log.warn("Service disappeared without our finalizer; deleted its load balancer");
    return { kind: "deleted" };
  }

  async #ensure(cached: V1Service, memo: ServiceMemory): Promise<ReconcileOutcome> {
    const { provider, events, clusterName } = this.#ctx;
    const subject = subjectOf(cached);
    const snapshot = this.#ctx.getNodes();
    const serviceFingerprint = fingerprint({
      uid: cached.metadata?.uid,
      spec: cached.spec,
      annotations: cached.metadata?.annotations ?? {},
    });
    const inputFingerprint = `${serviceFingerprint}:${snapshot.fingerprint}`;

    const built = buildLoadBalancerSpec(cached, snapshot.nodes, clusterName);
    let issues: readonly ValidationIssue[] = built.ok ? built.warnings : built.issues;
    if (built.ok && provider.validate) {
      try {
        issues = [...built.warnings, ...provider.validate(built.spec)];
      } catch (error) {
        this.#log.warn({ err: errorMessage(error) }, "provider validate threw; relying on ensureLoadBalancer");
      }
    }
    const errors = issues.filter((issue) => issue.severity === "error");
    if (!built.ok || errors.length > 0) {
      return this.#invalid(subject, memo, inputFingerprint, `invalid configuration: ${describeIssues(errors)}`);
    }
    const spec = built.spec;
    // The provider already rejected exactly this input: do not ask again until something changes.
    if (memo.invalidFingerprint === inputFingerprint) return { kind: "invalid", message: "unchanged since rejected" };
    memo.invalidFingerprint = undefined;

    const warnings = issues.filter((issue) => issue.severity === "warning");
    if (warnings.length > 0 && memo.warnedFingerprint !== serviceFingerprint) {
      for (const warning of warnings) {
        events.record(
          subject,
          "Warning",
          EventReason.LoadBalancerConfigurationWarning,
          `${warning.field}: ${warning.message}`,
        );
      }
    }
    memo.warnedFingerprint = serviceFingerprint;

    const wanted = { specFingerprint: specFingerprint(spec), nodesFingerprint: snapshot.fingerprint };
    const finalizer = cleanupFinalizer(this.#ctx.selection);
    const previous = memo.ensured;
    if (
      !this.#force &&
      previous?.specFingerprint === wanted.specFingerprint &&
      previous.nodesFingerprint === wanted.nodesFingerprint &&
      hasFinalizer(cached, finalizer) &&
      loadBalancerStatusEqual(cached.status?.loadBalancer, previous.status)
    ) {
      return { kind: "unchanged" };
    }

    // Announce a (re)build when the Service's part changed or nothing is known (first ensure since start);
    // a node-set change is reported as Updated after the fact; a resync that finds no drift stays quiet.
    const announce = previous?.specFingerprint !== wanted.specFingerprint;
    const nodesChanged = !announce && previous?.nodesFingerprint !== wanted.nodesFingerprint;
    if (announce) events.record(subject, "Normal", EventReason.EnsuringLoadBalancer, EventMessage.ensuring);
    if ((announce || nodesChanged) && spec.nodes.length === 0) {
      events.record(subject, "Warning", EventReason.UnAvailableLoadBalancer, EventMessage.noNodes);
    }
    memo.ensured = undefined;

    let service = cached;
    if (!hasFinalizer(service, finalizer)) {
      try {
        service = await this.#ctx.writer.setFinalizer(service, finalizer, true);
      } catch (error) {
        if (isNotFound(error)) return { kind: "ignored" };
        return this.#writeFailed(subject, "failed to add load balancer cleanup finalizer", error);
      }
    }

    let status: LoadBalancerStatus;
    try {
      // What changed since the last success lets the provider read only what it must.
      const reason = announce ? "changed" : nodesChanged ? "nodes" : "resync";
      status = await provider.ensureLoadBalancer(spec, { signal: this.#ctx.signal, reason });
    } catch (error) {
      return this.#providerFailed(subject, memo, inputFingerprint, error);
    }

    if (!loadBalancerStatusEqual(service.status?.loadBalancer, status)) {
      try {
        await this.#ctx.writer.patchLoadBalancerIngress(
          service.metadata?.namespace ?? "",
          service.metadata?.name ?? "",
          toServiceIngress(status),
        );
      } catch (error) {
        if (isNotFound(error)) return { kind: "ignored" };
        return this.#writeFailed(subject, "failed to update load balancer status", error);
      }
    }
    memo.ensured = { ...wanted, status };
    if (announce) events.record(subject, "Normal", EventReason.EnsuredLoadBalancer, EventMessage.ensured);
    else if (nodesChanged) events.record(subject, "Normal", EventReason.UpdatedLoadBalancer, EventMessage.updatedHosts);
    const summary = { nodes: spec.nodes.length, listeners: spec.listeners.length, ingress: status.ingress };
    if (announce) this.#log.info(summary, "ensured load balancer");
    else if (nodesChanged) this.#log.info(summary, "updated load balancer nodes");
    else this.#log.debug(summary, "re-ensured load balancer (resync)");
    return { kind: "ensured" };
  }

  async #cleanup(cached: V1Service): Promise<ReconcileOutcome> {
    const { provider, events, writer, clusterName } = this.#ctx;
    const subject = subjectOf(cached);
    const namespace = cached.metadata?.namespace ?? "";
    const name = cached.metadata?.name ?? "";
    events.record(subject, "Normal", EventReason.DeletingLoadBalancer, EventMessage.deleting);
    // Always ask the provider: it resolves when nothing exists, and unlike a get-then-delete it also
    // removes the leftovers of a create that was interrupted before the load balancer itself existed.
    try {
      await provider.ensureLoadBalancerDeleted(loadBalancerRefOf(cached, clusterName), { signal: this.#ctx.signal });
    } catch (error) {
      const kind = providerErrorKind(error);
      if (this.#ctx.signal.aborted) return { kind: "failed", message: "stopped" };
      if (kind === "retry-after") return this.#retryAfter(error);
      const message = errorMessage(error);
      events.record(subject, "Warning", EventReason.DeleteLoadBalancerFailed, EventMessage.deleteFailed(message));
      this.#log.warn({ err: message, kind: kind ?? "unknown" }, "deleting load balancer failed");
      return { kind: "failed", message };
    }

    let service = cached;
    if (hasLoadBalancerStatus(service.status?.loadBalancer)) {
      try {
        service = await writer.patchLoadBalancerIngress(namespace, name, undefined);
      } catch (error) {
        if (!isNotFound(error)) return this.#writeFailed(subject, "failed to clear load balancer status", error);
      }
    }
    try {
      await writer.setFinalizer(service, cleanupFinalizer(this.#ctx.selection), false);
    } catch (error) {
      if (!isNotFound(error))
        return this.#writeFailed(subject, "failed to remove load balancer cleanup finalizer", error);
    }
    this.#ctx.memory.delete(this.#key);
    events.record(subject, "Normal", EventReason.DeletedLoadBalancer, EventMessage.deleted);
    this.#log.info("deleted load balancer");
    return { kind: "deleted" };
  }

  #invalid(subject: EventSubject, memo: ServiceMemory, inputFingerprint: string, message: string): ReconcileOutcome {
    memo.ensured = undefined;
    if (memo.invalidFingerprint !== inputFingerprint) {
      memo.invalidFingerprint = inputFingerprint;
      this.#ctx.events.record(subject, "Warning", EventReason.SyncLoadBalancerFailed, EventMessage.syncFailed(message));
      this.#log.warn({ reason: message }, "Service cannot get a load balancer until it is fixed");
    }
    return { kind: "invalid", message };
  }

  #retryAfter(error: unknown): ReconcileOutcome {
    const delay = (error as { retryAfterMs?: unknown }).retryAfterMs;
    const message = errorMessage(error);
    if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0) return { kind: "failed", message };
    this.#log.info(
      { retryAfterMs: delay, reason: message },
      "load balancer not ready; retrying after the provider's delay",
    );
    return { kind: "retry-after", delayMs: delay, message };
  }

  #providerFailed(
    subject: EventSubject,
    memo: ServiceMemory,
    inputFingerprint: string,
    error: unknown,
  ): ReconcileOutcome {
    if (this.#ctx.signal.aborted) return { kind: "failed", message: "stopped" };
    const kind = providerErrorKind(error);
    if (kind === "retry-after") return this.#retryAfter(error);
    const message = errorMessage(error);
    if (kind === "invalid-configuration") return this.#invalid(subject, memo, inputFingerprint, message);
    this.#ctx.events.record(subject, "Warning", EventReason.SyncLoadBalancerFailed, EventMessage.syncFailed(message));
    this.#log.warn({ err: message, kind: kind ?? "unknown" }, "ensuring load balancer failed");
    return { kind: "failed", message };
  }

  #writeFailed(subject: EventSubject, what: string, error: unknown): ReconcileOutcome {
    const message = `${what}: ${describeApiError(error)}`;
    // A conflict means our cache is behind; the update that caused it re-queues the key. Not worth a Warning.
    if (!isConflict(error)) {
      this.#ctx.events.record(subject, "Warning", EventReason.SyncLoadBalancerFailed, EventMessage.syncFailed(message));
    }
    this.#log.warn({ err: message }, what);
    return { kind: "failed", message };
  }
}

/** Reconciles the Service behind `key`. Never throws; see {@link ReconcileOutcome}. */
export function reconcileService(
  key: string,
  ctx: ReconcileContext,
  options: ReconcileOptions = {},
): Promise<ReconcileOutcome> {
  return new Reconcile(key, ctx, options).run();
}
