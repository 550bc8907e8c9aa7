/**
 * One reconcile of one Service key: {@link decide} what the Service needs (pure, `decide.ts`), then do
 * it, in the upstream order.
 *
 * Ensure (the Service wants our load balancer):
 *   record the decision's warnings -> add the finalizer (before any cloud call, so a load balancer never
 *   exists without one) -> `ensureLoadBalancer` -> patch `status.loadBalancer` and the condition
 *   (`condition.ts`) together, where either differs. A failure sets the condition `False` with its
 *   reason and the Warning's message; a change to a Service whose condition is `True` sets it `False`
 *   (`Ensuring`) before the cloud call, so a waiter does not take the old load balancer for the new.
 * Clean up (our finalizer, but deleted / no longer `LoadBalancer` / no longer our class):
 *   `ensureLoadBalancerDeleted` -> clear `status.loadBalancer` and the condition -> remove the finalizer.
 *   A Service that leaves `LoadBalancer` before it ever got the finalizer (it was invalid) loses the
 *   condition too.
 * Forget (gone): delete the load balancer of a Service that vanished without our finalizer, if one was
 *   ensured for it; drop what is remembered.
 *
 * What it remembers per key ({@link ServiceMemory}) makes the common cases cheap and quiet:
 * - a reconcile that finds the same spec, nodes and status it last ensured makes no cloud call at all,
 *   unless forced (the periodic resync forces one, to repair drift behind our back);
 * - a spec found invalid is not tried again, and not warned about again, until the Service or the node
 *   set changes;
 * - events: Ensuring/Ensured only when the spec changed (or on the first ensure since start, unless
 *   the Service already holds our finalizer and an address: a restart re-ensuring thousands of
 *   provisioned Services writes no Event for them unless an address changes), Updated when only the
 *   nodes changed, nothing on a no-drift resync.
 *
 * Returns an outcome; the caller (controller.ts) turns it into a queue action. Never throws.
 *
 * @module
 */
import type { V1Service } from "@kubernetes/client-node";
import {
  type LoadBalancerProvider,
  type LoadBalancerRef,
  type LoadBalancerStatus,
  providerErrorKind,
} from "../../providers/index.ts";
import { describeApiError, isConflict, isNotFound } from "../kube/api-errors.ts";
import type { EventSink, EventSubject } from "../kube/event-recorder.ts";
import type { ServiceWrites, StatusChange } from "../kube/service-writer.ts";
import type { Logger } from "../observability/logger.ts";
import {
  ConditionReason,
  type ConditionState,
  conditionOf,
  failureReason,
  LOAD_BALANCER_CONDITION,
  nextCondition,
} from "./condition.ts";
import { type Decision, decide, type NodeSnapshot, type ServiceMemory } from "./decide.ts";
import { EventMessage, EventReason, errorMessage } from "./events.ts";
import { cleanupFinalizer, type ServiceSelection } from "./service-filters.ts";
import { hasLoadBalancerStatus, loadBalancerStatusEqual, toServiceIngress } from "./status.ts";

export type { NodeSnapshot, ServiceMemory };

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
  /** The clock of the condition's `lastTransitionTime`; default the system's. */
  readonly now?: () => Date;
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
    const { memory } = this.#ctx;
    const service = this.#ctx.getService(this.#key);
    // Memory of a deleted-and-recreated Service (another UID) is not this Service's.
    const remembered = memory.get(this.#key);
    const memo = service && remembered?.uid !== (service.metadata?.uid ?? "") ? undefined : remembered;
    const decision = decide({
      key: this.#key,
      service,
      selection: this.#ctx.selection,
      clusterName: this.#ctx.clusterName,
      nodes: this.#ctx.getNodes(),
      memory: memo,
      provider: this.#ctx.provider,
      validate: this.#ctx.provider.validate?.bind(this.#ctx.provider),
      force: this.#force,
    });
    return this.#act(decision, service, memo);
  }

  #act(
    decision: Decision,
    service: V1Service | undefined,
    memo: ServiceMemory | undefined,
  ): ReconcileOutcome | Promise<ReconcileOutcome> {
    if (decision.kind === "forget" && decision.deleteLoadBalancer)
      return this.#deleteVanished(decision.deleteLoadBalancer);
    // Only `forget` is ever decided for a Service that is gone.
    if (decision.kind === "forget" || decision.kind === "ignore" || service === undefined) {
      this.#ctx.memory.delete(this.#key);
      return decision.kind === "ignore" && service !== undefined ? this.#dropCondition(service) : { kind: "ignored" };
    }
    if (decision.kind === "clean-up") return this.#cleanup(service, decision.ref);
    const current = this.#remember(service, memo);
    if (decision.kind === "invalid") {
      return this.#invalid(service, current, decision.fingerprints.input, decision.message);
    }
    if (decision.kind === "unchanged") {
      this.#warn(service, current, decision);
      return { kind: "unchanged" };
    }
    return this.#ensure(service, current, decision);
  }

  /** The memory of `service`, created (or replaced, for a new UID) when needed. */
  #remember(service: V1Service, memo: ServiceMemory | undefined): ServiceMemory {
    if (memo) return memo;
    const fresh: ServiceMemory = { uid: service.metadata?.uid ?? "" };
    this.#ctx.memory.set(this.#key, fresh);
    return fresh;
  }

  /** Records the warnings not reported yet for this Service's part; clears a past rejection. */
  #warn(service: V1Service, memo: ServiceMemory, decision: Extract<Decision, { kind: "unchanged" | "ensure" }>): void {
    for (const warning of decision.warnings) {
      this.#ctx.events.record(
        subjectOf(service),
        "Warning",
        EventReason.LoadBalancerConfigurationWarning,
        `${warning.field}: ${warning.message}`,
      );
    }
    memo.warnedFingerprint = decision.fingerprints.service;
    memo.invalidFingerprint = undefined;
  }

  /**
   * The Service is gone (or going without our finalizer) after we ensured a load balancer for it (its
   * finalizer was removed by hand): delete the load balancer now rather than leak it.
   */
  async #deleteVanished(ref: LoadBalancerRef): Promise<ReconcileOutcome> {
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

  async #ensure(
    cached: V1Service,
    memo: ServiceMemory,
    decision: Extract<Decision, { kind: "ensure" }>,
  ): Promise<ReconcileOutcome> {
    const { spec, reason } = decision;
    const subject = subjectOf(cached);
    const ensuredOtherSpec = this.#startEnsure(cached, memo, decision, subject);
    const prepared = await this.#prepareService(cached, decision, ensuredOtherSpec, subject);
    if ("outcome" in prepared) return prepared.outcome;
    const { service } = prepared;

    let status: LoadBalancerStatus;
    try {
      // What changed since the last success lets the provider read only what it must.
      status = await this.#ctx.provider.ensureLoadBalancer(spec, { signal: this.#ctx.signal, reason });
    } catch (error) {
      return this.#providerFailed(service, memo, decision.fingerprints.input, error);
    }

    const statusChanged = !loadBalancerStatusEqual(service.status?.loadBalancer, status);
    const failed = await this.#publish(service, status, spec.nodes.length === 0, subject);
    if (failed !== undefined) return failed;
    memo.ensured = { specFingerprint: decision.specFingerprint, nodesFingerprint: decision.fingerprints.nodes, status };
    this.#announceEnsured(subject, decision, status, statusChanged);
    return { kind: "ensured" };
  }

  /**
   * Says what this ensure starts with (a `validate` that threw, warnings, EnsuringLoadBalancer, no
   * nodes) and forgets the last success; returns whether that success was for another spec.
   */
  #startEnsure(
    cached: V1Service,
    memo: ServiceMemory,
    decision: Extract<Decision, { kind: "ensure" }>,
    subject: EventSubject,
  ): boolean {
    const { events } = this.#ctx;
    if (decision.validateError !== undefined) {
      this.#log.warn({ err: decision.validateError }, "provider validate threw; relying on ensureLoadBalancer");
    }
    this.#warn(cached, memo, decision);
    if (decision.reason === "changed" && decision.announce)
      events.record(subject, "Normal", EventReason.EnsuringLoadBalancer, EventMessage.ensuring);
    if (decision.noNodes) events.record(subject, "Warning", EventReason.UnAvailableLoadBalancer, EventMessage.noNodes);
    const ensuredOtherSpec = memo.ensured !== undefined && memo.ensured.specFingerprint !== decision.specFingerprint;
    memo.ensured = undefined;
    return ensuredOtherSpec;
  }

  /**
   * The writes before the first cloud call: the finalizer, and a condition saying the load balancer
   * the Service shows is on its way to being changed. Returns the Service as written, or the outcome
   * when a write failed.
   */
  async #prepareService(
    cached: V1Service,
    decision: Extract<Decision, { kind: "ensure" }>,
    ensuredOtherSpec: boolean,
    subject: EventSubject,
  ): Promise<{ readonly service: V1Service } | { readonly outcome: ReconcileOutcome }> {
    let service = cached;
    if (decision.addFinalizer) {
      try {
        service = await this.#ctx.writer.setFinalizer(service, cleanupFinalizer(this.#ctx.selection), true);
      } catch (error) {
        if (isNotFound(error)) return { outcome: { kind: "ignored" } };
        return { outcome: this.#writeFailed(subject, "failed to add load balancer cleanup finalizer", error) };
      }
    }
    if (decision.reason === "changed" && this.#showsOldLoadBalancer(service, ensuredOtherSpec)) {
      try {
        service = await this.#ctx.writer.patchStatus(service, (current) =>
          this.#conditionChange(current, {
            status: "False",
            reason: ConditionReason.Ensuring,
            message: EventMessage.ensuring,
          }),
        );
      } catch (error) {
        if (isNotFound(error)) return { outcome: { kind: "ignored" } };
        return { outcome: this.#writeFailed(subject, "failed to update load balancer condition", error) };
      }
    }
    return { service };
  }

  /** Writes the ingress and the condition the provider's `status` calls for; the outcome if that failed. */
  async #publish(
    service: V1Service,
    status: LoadBalancerStatus,
    noNodes: boolean,
    subject: EventSubject,
  ): Promise<ReconcileOutcome | undefined> {
    const ensured: ConditionState = noNodes
      ? { status: "False", reason: ConditionReason.NoNodes, message: EventMessage.noNodes }
      : { status: "True", reason: ConditionReason.Ensured, message: EventMessage.ensured };
    try {
      await this.#ctx.writer.patchStatus(service, (current) => {
        const published = current.status?.loadBalancer;
        const ingress = loadBalancerStatusEqual(published, status)
          ? {}
          : { ingress: toServiceIngress(status, published) };
        const condition = this.#conditionChange(current, ensured);
        return condition === undefined && ingress.ingress === undefined ? undefined : { ...ingress, ...condition };
      });
    } catch (error) {
      if (isNotFound(error)) return { kind: "ignored" };
      return this.#writeFailed(subject, "failed to update load balancer status", error);
    }
    return undefined;
  }

  /**
   * Whether the Service's condition says `True` of a load balancer ensured for something else: another
   * generation of it (where the API server keeps generations), or another spec ensured in this process.
   */
  #showsOldLoadBalancer(service: V1Service, ensuredOtherSpec: boolean): boolean {
    const condition = conditionOf(service);
    if (condition?.status !== "True") return false;
    // The API server leaves out a generation of 0, which Services have.
    return ensuredOtherSpec || (condition.observedGeneration ?? 0) !== (service.metadata?.generation ?? 0);
  }

  /** The condition part of a status change: `state` for the Service's generation, when it says otherwise. */
  #conditionChange(service: V1Service, state: ConditionState): Pick<StatusChange, "condition"> | undefined {
    const condition = nextCondition(service, state, (this.#ctx.now ?? (() => new Date()))());
    return condition === undefined ? undefined : { condition: { set: condition } };
  }

  /**
   * Writes `state` as the condition on a failure the outcome already reports; a failed write is only
   * logged, since the next attempt writes it again.
   */
  async #recordFailure(service: V1Service, state: ConditionState): Promise<void> {
    try {
      await this.#ctx.writer.patchStatus(service, (current) => this.#conditionChange(current, state));
    } catch (error) {
      if (!isNotFound(error))
        this.#log.warn({ err: describeApiError(error) }, "failed to update load balancer condition");
    }
  }

  /**
   * A Service that no longer asks for a load balancer of any kind, and never got our finalizer (it was
   * invalid), loses the condition it was given. One that names another class keeps it: that class's
   * controller may write the same type.
   */
  async #dropCondition(service: V1Service): Promise<ReconcileOutcome> {
    if (service.spec?.type === "LoadBalancer" || conditionOf(service) === undefined) return { kind: "ignored" };
    try {
      await this.#ctx.writer.patchStatus(service, (current) =>
        conditionOf(current) === undefined ? undefined : { condition: { remove: LOAD_BALANCER_CONDITION } },
      );
    } catch (error) {
      if (!isNotFound(error))
        return this.#writeFailed(subjectOf(service), "failed to remove load balancer condition", error);
    }
    return { kind: "ignored" };
  }

  /** A quiet decision (a restart finding the load balancer ensured) still announces a new address. */
  #announceEnsured(
    subject: EventSubject,
    decision: Extract<Decision, { kind: "ensure" }>,
    status: LoadBalancerStatus,
    statusChanged: boolean,
  ): void {
    const { spec, reason } = decision;
    const summary = { nodes: spec.nodes.length, listeners: spec.listeners.length, ingress: status.ingress };
    if (reason === "changed" && !decision.announce && !statusChanged) {
      this.#log.debug(summary, "load balancer already ensured");
    } else if (reason === "changed") {
      this.#ctx.events.record(subject, "Normal", EventReason.EnsuredLoadBalancer, EventMessage.ensured);
      this.#log.info(summary, "ensured load balancer");
    } else if (reason === "nodes") {
      this.#ctx.events.record(subject, "Normal", EventReason.UpdatedLoadBalancer, EventMessage.updatedHosts);
      this.#log.info(summary, "updated load balancer nodes");
    } else this.#log.debug(summary, "re-ensured load balancer (resync)");
  }

  async #cleanup(cached: V1Service, ref: LoadBalancerRef): Promise<ReconcileOutcome> {
    const { provider, events, writer } = this.#ctx;
    const subject = subjectOf(cached);
    events.record(subject, "Normal", EventReason.DeletingLoadBalancer, EventMessage.deleting);
    // Always ask the provider: it resolves when nothing exists, and unlike a get-then-delete it also
    // removes the leftovers of a create that was interrupted before the load balancer itself existed.
    try {
      await provider.ensureLoadBalancerDeleted(ref, { signal: this.#ctx.signal });
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
    try {
      service = await writer.patchStatus(service, (current) => {
        const ingress = hasLoadBalancerStatus(current.status?.loadBalancer) ? { ingress: null } : {};
        const condition = conditionOf(current) === undefined ? {} : { condition: { remove: LOAD_BALANCER_CONDITION } };
        return "ingress" in ingress || "condition" in condition ? { ...ingress, ...condition } : undefined;
      });
    } catch (error) {
      if (!isNotFound(error)) return this.#writeFailed(subject, "failed to clear load balancer status", error);
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

  async #invalid(
    service: V1Service,
    memo: ServiceMemory,
    inputFingerprint: string,
    message: string,
  ): Promise<ReconcileOutcome> {
    memo.ensured = undefined;
    if (memo.invalidFingerprint !== inputFingerprint) {
      memo.invalidFingerprint = inputFingerprint;
      const warning = EventMessage.syncFailed(message);
      // The condition first, the Warning last: whoever sees the Warning sees a reconcile that is over.
      await this.#recordFailure(service, {
        status: "False",
        reason: ConditionReason.InvalidConfiguration,
        message: warning,
      });
      this.#ctx.events.record(subjectOf(service), "Warning", EventReason.SyncLoadBalancerFailed, warning);
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

  async #providerFailed(
    service: V1Service,
    memo: ServiceMemory,
    inputFingerprint: string,
    error: unknown,
  ): Promise<ReconcileOutcome> {
    if (this.#ctx.signal.aborted) return { kind: "failed", message: "stopped" };
    const kind = providerErrorKind(error);
    const message = errorMessage(error);
    if (kind === "invalid-configuration") return this.#invalid(service, memo, inputFingerprint, message);
    const outcome = kind === "retry-after" ? this.#retryAfter(error) : undefined;
    // The provider's wait is no Warning: the condition carries its own message.
    const warning = outcome === undefined ? EventMessage.syncFailed(message) : message;
    // The condition first, the Warning last, as in #invalid.
    await this.#recordFailure(service, { status: "False", reason: failureReason(error), message: warning });
    if (outcome === undefined) {
      this.#ctx.events.record(subjectOf(service), "Warning", EventReason.SyncLoadBalancerFailed, warning);
      this.#log.warn({ err: message, kind: kind ?? "unknown" }, "ensuring load balancer failed");
    }
    return outcome ?? { kind: "failed", message };
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
