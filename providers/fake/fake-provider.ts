/**
 * The in-memory provider: a small cloud of load balancers, listeners and target groups that converges by
 * diff like a real one, and a spy that records every call it serves, with faults to switch on.
 *
 * @module
 */
import { callOutcomeOf } from "../internal/call-outcome.ts";
import { KeyedSerializer } from "../internal/keyed-serializer.ts";
import { buildableIpFamilies } from "../rules/ip-families.ts";
import type {
  CallOptions,
  EnsureOptions,
  GetOptions,
  LoadBalancerProvider,
  LoadBalancerRef,
  LoadBalancerSpec,
  LoadBalancerStatus,
  ObservedLoadBalancer,
  ProviderCall,
  ProviderCapabilities,
  ValidationIssue,
} from "../types.ts";
import { applyChange, type DeleteLoadBalancerChange, FakeNotFoundError } from "./apply.ts";
import { CallLog, type FakeCall } from "./call-log.ts";
import {
  delay,
  type FakeFailure,
  type FakeOperationMatch,
  FaultInjector,
  injectedThrottle,
  injectedTransient,
  type RandomFailureOptions,
} from "./faults.ts";
import { type FakeOperation, isMutating } from "./operations.ts";
import { type DesiredLoadBalancer, type FakeChange, healthCheckFor, planChanges, targetNames } from "./plan.ts";
import {
  FakeCloudStore,
  type FakeLoadBalancer,
  fakeHostname,
  fakeStatus,
  observe,
  refKey,
  serviceKeyOf,
} from "./state.ts";
import { assertValidFakeSpec, FAKE_IP_FAMILIES, schemeOf, validateFakeSpec } from "./validation.ts";

export interface FakeProviderOptions {
  /** Reported as {@link LoadBalancerProvider.name}. Default `fake`. */
  readonly name?: string;
  /** Called after every call the fake cloud serves, like a real provider's metrics hook. */
  readonly onCall?: (call: ProviderCall) => void;
  /** Latency of every call, in milliseconds. Default 0. */
  readonly latencyMs?: number;
  /** Calls kept in {@link FakeProvider.calls}; counters count past it. Default 100,000. */
  readonly callLogLimit?: number;
  /**
   * The fake cloud to serve, e.g. another provider's {@link FakeProvider.cloud} to stand for the same
   * cloud after a controller restart. Default: a new, empty one.
   */
  readonly cloud?: FakeCloudStore;
}

/**
 * An in-memory {@link LoadBalancerProvider} for tests, demos and benchmarks.
 *
 * Addresses are hostnames `<hash of cluster, namespace, name>.lb.fake.invalid`; each Service port gets a
 * listener forwarding to its own target group of `node name : nodePort` targets. It validates like a
 * cloud (see `validation.ts`), records calls, and injects failures and latency on request.
 */
export class FakeProvider implements LoadBalancerProvider {
  readonly name: string;
  readonly capabilities: ProviderCapabilities = {
    ipFamilies: FAKE_IP_FAMILIES,
    sessionAffinity: "honoured",
    loadBalancerIP: "honoured",
  };
  readonly #store: FakeCloudStore;
  readonly #log: CallLog;
  readonly #faults = new FaultInjector();
  readonly #serial = new KeyedSerializer();
  readonly #onCall: ((call: ProviderCall) => void) | undefined;

  constructor(options: FakeProviderOptions = {}) {
    this.name = options.name ?? "fake";
    this.#store = options.cloud ?? new FakeCloudStore();
    this.#onCall = options.onCall;
    this.#log = new CallLog(options.callLogLimit);
    if (options.latencyMs !== undefined) this.#faults.setLatency(options.latencyMs);
  }

  // ---- LoadBalancerProvider ------------------------------------------------------------------------

  async ensureLoadBalancer(spec: LoadBalancerSpec, options: EnsureOptions = {}): Promise<LoadBalancerStatus> {
    const { signal } = options;
    signal?.throwIfAborted();
    assertValidFakeSpec(spec);
    const desired: DesiredLoadBalancer = {
      scheme: schemeOf(spec),
      sourceRanges: spec.sourceRanges,
      ipFamilies: buildableIpFamilies(spec, FAKE_IP_FAMILIES),
      sessionAffinity: spec.sessionAffinity,
      address: spec.loadBalancerIP,
      healthCheck: healthCheckFor(spec.healthCheck),
      targets: targetNames(spec.nodes),
      listeners: spec.listeners,
    };
    return this.#serial.run(refKey(spec), async () => {
      const current = await this.#describe(spec, signal);
      for (const change of planChanges(current, desired)) {
        await this.#mutate(spec, change, signal);
      }
      return fakeStatus(fakeHostname(spec), spec.loadBalancerIP);
    });
  }

  async getLoadBalancer(ref: LoadBalancerRef, options: GetOptions = {}): Promise<ObservedLoadBalancer | undefined> {
    options.signal?.throwIfAborted();
    const loadBalancer = await this.#describe(ref, options.signal);
    return loadBalancer === undefined ? undefined : observe(loadBalancer);
  }

  async ensureLoadBalancerDeleted(ref: LoadBalancerRef, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    await this.#serial.run(refKey(ref), async () => {
      const current = await this.#describe(ref, signal);
      if (current === undefined) return;
      const changes: (FakeChange | DeleteLoadBalancerChange)[] = [
        ...[...current.listeners.keys()].map((listener) => ({ operation: "DeleteListener" as const, listener })),
        ...[...current.targetGroups.keys()].map((id) => ({ operation: "DeleteTargetGroup" as const, id })),
        { operation: "DeleteLoadBalancer" },
      ];
      for (const change of changes) await this.#mutate(ref, change, signal);
    });
  }

  async listLoadBalancers(clusterName: string, options: CallOptions = {}): Promise<readonly ObservedLoadBalancer[]> {
    options.signal?.throwIfAborted();
    const found = await this.#call("ListLoadBalancers", { clusterName }, options.signal, () =>
      this.#store.inCluster(clusterName),
    );
    return found.map(observe);
  }

  validate(spec: LoadBalancerSpec): readonly ValidationIssue[] {
    return validateFakeSpec(spec);
  }

  // ---- inspection ----------------------------------------------------------------------------------

  /** Calls served since the last {@link resetCalls}, oldest first (the most recent `callLogLimit`). */
  get calls(): readonly FakeCall[] {
    return this.#log.entries;
  }

  /** Calls of `operation` since the last reset. */
  callCount(operation: FakeOperation): number {
    return this.#log.count(operation);
  }

  /** Calls per operation since the last reset; operations never called are absent. */
  callCounts(): Partial<Record<FakeOperation, number>> {
    return this.#log.counts();
  }

  /** Mutating calls since the last reset, for one Service (`namespace/name`) when given. */
  mutatingCalls(serviceKey?: string): number {
    return this.#log.mutating(serviceKey);
  }

  /** Read-only calls since the last reset, for one Service (`namespace/name`) when given. */
  readCalls(serviceKey?: string): number {
    return this.#log.reads(serviceKey);
  }

  resetCalls(): void {
    this.#log.reset();
  }

  /** The fake cloud this provider serves; hand it to another provider to share it. */
  get cloud(): FakeCloudStore {
    return this.#store;
  }

  /** Number of load balancers in the fake cloud, in every cluster. */
  get loadBalancerCount(): number {
    return this.#store.size;
  }

  /** The load balancer for `ref` as {@link getLoadBalancer} would return it, without making a call. */
  inspect(ref: LoadBalancerRef): ObservedLoadBalancer | undefined {
    const loadBalancer = this.#store.get(refKey(ref));
    return loadBalancer === undefined ? undefined : observe(loadBalancer);
  }

  // ---- fault injection -----------------------------------------------------------------------------

  /** Fails the next `count` calls of `operation` (`"*"`: any) with `error` (default a TransientError). */
  failNext(operation: FakeOperationMatch, count = 1, error: FakeFailure = injectedTransient): void {
    this.#faults.failNext(operation, count, error);
  }

  /** Fails matching calls with the given probability, drawn from a generator seeded with `seed`. */
  failRandomly(options: RandomFailureOptions): void {
    this.#faults.failRandomly(options);
  }

  /** Fails the next `count` calls of `operation` (default any) with a ThrottledError. */
  throttle(count = 1, operation: FakeOperationMatch = "*"): void {
    this.#faults.failNext(operation, count, injectedThrottle);
  }

  /** Adds `ms` of latency to every call, or to calls of `operation` only. Aborting the signal cuts it short. */
  setLatency(ms: number, operation?: FakeOperation): void {
    this.#faults.setLatency(ms, operation);
  }

  /** Removes every injected failure and all latency. */
  clearFaults(): void {
    this.#faults.clear();
  }

  // ---- out-of-band changes (someone else editing the cloud) ----------------------------------------

  /** Deletes the load balancer for `ref` as if by hand; records no call. Returns whether one existed. */
  deleteOutOfBand(ref: LoadBalancerRef): boolean {
    return this.#store.delete(refKey(ref));
  }

  /**
   * Edits the load balancer for `ref` in place as if by hand (drop a listener, a target group, a target;
   * change the scheme); records no call. Target lists are re-sorted afterwards.
   *
   * @throws {Error} when no load balancer exists for `ref`.
   */
  mutateOutOfBand(ref: LoadBalancerRef, edit: (loadBalancer: FakeLoadBalancer) => void): void {
    const loadBalancer = this.#store.get(refKey(ref));
    if (loadBalancer === undefined) throw new Error(`no fake load balancer for ${serviceKeyOf(ref)}`);
    edit(loadBalancer);
    for (const group of loadBalancer.targetGroups.values()) {
      group.targets = [...new Set(group.targets)].sort();
    }
  }

  // ---- the cloud boundary --------------------------------------------------------------------------

  #describe(ref: LoadBalancerRef, signal: AbortSignal | undefined): Promise<FakeLoadBalancer | undefined> {
    return this.#call(
      "DescribeLoadBalancer",
      ref,
      signal,
      () => this.#store.get(refKey(ref)),
      (found) => (found === undefined ? "not_found" : "success"),
    );
  }

  #mutate(ref: LoadBalancerRef, change: FakeChange | DeleteLoadBalancerChange, signal: AbortSignal | undefined) {
    return this.#call(change.operation, ref, signal, () => applyChange(this.#store, ref, change));
  }

  async #call<T>(
    operation: FakeOperation,
    subject: LoadBalancerRef | { readonly clusterName: string },
    signal: AbortSignal | undefined,
    perform: () => T,
    outcomeOf: (result: T) => ProviderCall["outcome"] = () => "success",
  ): Promise<T> {
    signal?.throwIfAborted();
    const started = performance.now();
    const latencyMs = this.#faults.latencyOf(operation);
    if (latencyMs > 0) await delay(latencyMs, signal);
    let result: T;
    try {
      const injected = this.#faults.take(operation);
      if (injected !== undefined) throw injected;
      result = perform();
    } catch (error) {
      this.#record(operation, subject, outcomeOfError(error), started);
      throw error;
    }
    this.#record(operation, subject, outcomeOf(result), started);
    return result;
  }

  #record(
    operation: FakeOperation,
    subject: LoadBalancerRef | { readonly clusterName: string },
    outcome: ProviderCall["outcome"],
    started: number,
  ): void {
    const durationMs = performance.now() - started;
    const mutating = isMutating(operation);
    const call: FakeCall =
      "service" in subject
        ? {
            operation,
            mutating,
            serviceKey: serviceKeyOf(subject),
            clusterName: subject.clusterName,
            outcome,
            time: Date.now(),
            durationMs,
          }
        : { operation, mutating, clusterName: subject.clusterName, outcome, time: Date.now(), durationMs };
    this.#log.record(call);
    this.#onCall?.({ operation, mutating, outcome, durationMs });
  }
}

function outcomeOfError(error: unknown): ProviderCall["outcome"] {
  return error instanceof FakeNotFoundError ? "not_found" : callOutcomeOf(error);
}

/** A new, empty fake cloud. */
export function createFakeProvider(options: FakeProviderOptions = {}): FakeProvider {
  return new FakeProvider(options);
}
