/**
 * The local provider: the controller process is the load balancer. Each Service gets an address from
 * the pool and, per port, a listener there that forwards to every eligible node's nodePort.
 *
 * The provider's "cloud" is this process, and every change to it is reported through `onCall` like a
 * cloud call (`AllocateAddress`, `CreateListener`, `RegisterTargets`...), so the controller's metrics
 * and the conformance suite see the same shape of work as for any cloud, and a second ensure with the
 * same spec makes no mutating call.
 *
 * @module
 */
import { TransientError } from "../errors.ts";
import { callOutcomeOf } from "../internal/call-outcome.ts";
import { KeyedSerializer } from "../internal/keyed-serializer.ts";
import type {
  CallOptions,
  GetOptions,
  ListenerSpec,
  LoadBalancerProvider,
  LoadBalancerRef,
  LoadBalancerSpec,
  LoadBalancerStatus,
  ObservedLoadBalancer,
  ProviderCall,
  ProviderLogger,
  ValidationIssue,
} from "../types.ts";
import { chooseAddress } from "./address-pool.ts";
import { classifyBindError } from "./bind-errors.ts";
import { type LocalListener, LocalLoadBalancer, listenerKey } from "./load-balancer.ts";
import type { LocalSettings } from "./settings.ts";
import { diffTargets, targetsFor } from "./targets.ts";
import { assertValidLocalSpec, validateLocalSpec } from "./validation.ts";

export interface LocalProviderOptions {
  readonly settings: LocalSettings;
  readonly logger?: ProviderLogger;
  readonly onCall?: (call: ProviderCall) => void;
}

type ServedListener = ListenerSpec & { readonly protocol: "TCP" | "UDP" };

function refKey(ref: LoadBalancerRef): string {
  return JSON.stringify([ref.clusterName, ref.service.namespace, ref.service.name]);
}

function serviceKey(ref: LoadBalancerRef): string {
  return `${ref.service.namespace}/${ref.service.name}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((value, i) => value === [...b].sort()[i]);
}

export class LocalProvider implements LoadBalancerProvider {
  readonly name = "local";
  readonly #settings: LocalSettings;
  readonly #logger: ProviderLogger | undefined;
  readonly #onCall: ((call: ProviderCall) => void) | undefined;
  readonly #loadBalancers = new Map<string, LocalLoadBalancer>();
  readonly #serial = new KeyedSerializer();
  /** Nodes without an address of the configured type, last reported per load balancer. */
  readonly #reportedSkips = new Map<string, string>();

  constructor(options: LocalProviderOptions) {
    this.#settings = options.settings;
    this.#logger = options.logger;
    this.#onCall = options.onCall;
  }

  // ---- LoadBalancerProvider ------------------------------------------------------------------------

  async ensureLoadBalancer(spec: LoadBalancerSpec, options: CallOptions = {}): Promise<LoadBalancerStatus> {
    const { signal } = options;
    signal?.throwIfAborted();
    assertValidLocalSpec(spec);
    return this.#serial.run(refKey(spec), async () => {
      let loadBalancer = await this.#call("DescribeLoadBalancer", false, signal, () =>
        this.#loadBalancers.get(refKey(spec)),
      );
      const created = loadBalancer === undefined;
      if (loadBalancer === undefined) {
        loadBalancer = await this.#call("AllocateAddress", true, signal, () => this.#allocate(spec));
      }
      await this.#converge(loadBalancer, spec, created, signal);
      return { ingress: [{ ip: loadBalancer.address }] };
    });
  }

  async getLoadBalancer(ref: LoadBalancerRef, options: GetOptions = {}): Promise<ObservedLoadBalancer | undefined> {
    const found = await this.#call("DescribeLoadBalancer", false, options.signal, () =>
      this.#loadBalancers.get(refKey(ref)),
    );
    return found?.observe();
  }

  async ensureLoadBalancerDeleted(ref: LoadBalancerRef, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    await this.#serial.run(refKey(ref), async () => {
      const loadBalancer = await this.#call("DescribeLoadBalancer", false, signal, () =>
        this.#loadBalancers.get(refKey(ref)),
      );
      if (loadBalancer === undefined) return;
      for (const key of [...loadBalancer.listeners.keys()]) {
        await this.#call("DeleteListener", true, signal, () => loadBalancer.removeListener(key));
      }
      await this.#call("ReleaseAddress", true, signal, () => this.#release(loadBalancer));
      this.#logger?.info({ key: serviceKey(ref), address: loadBalancer.address }, "released load balancer address");
    });
  }

  async listLoadBalancers(clusterName: string, options: CallOptions = {}): Promise<readonly ObservedLoadBalancer[]> {
    return this.#call("ListLoadBalancers", false, options.signal, () =>
      [...this.#loadBalancers.values()].filter((lb) => lb.ref.clusterName === clusterName).map((lb) => lb.observe()),
    );
  }

  validate(spec: LoadBalancerSpec): readonly ValidationIssue[] {
    return validateLocalSpec(spec);
  }

  async close(): Promise<void> {
    for (const loadBalancer of this.#loadBalancers.values()) loadBalancer.close();
    this.#loadBalancers.clear();
  }

  // ---- inspection and out-of-band changes ------------------------------------------------------------

  /** Every load balancer, for the metrics collector. */
  loadBalancers(): readonly LocalLoadBalancer[] {
    return [...this.#loadBalancers.values()];
  }

  /** Closes the load balancer for `ref` as if it had died behind the provider's back; records no call. */
  deleteOutOfBand(ref: LoadBalancerRef): boolean {
    const loadBalancer = this.#loadBalancers.get(refKey(ref));
    if (loadBalancer === undefined) return false;
    this.#release(loadBalancer);
    return true;
  }

  // ---- convergence ---------------------------------------------------------------------------------

  #allocate(spec: LoadBalancerSpec): LocalLoadBalancer {
    const taken = new Set([...this.#loadBalancers.values()].map((lb) => lb.address));
    const published = (spec.publishedStatus?.ingress ?? []).flatMap((entry) => (entry.ip ? [entry.ip] : []));
    const address = chooseAddress(this.#settings.addresses, spec, published, taken);
    if (address === undefined) {
      // Retried with backoff: another Service may release an address.
      throw new TransientError(
        `every address of --provider-config addresses (${this.#settings.addresses.description}) is taken by ${taken.size} load balancers; add addresses to the pool or delete a LoadBalancer Service`,
      );
    }
    const loadBalancer = new LocalLoadBalancer({
      ref: { clusterName: spec.clusterName, service: { ...spec.service } },
      address,
      settings: this.#settings,
      onHealthChange: (probe, status) =>
        this.#logger?.info({ key: serviceKey(spec), probe: probe.key, status }, "target health changed"),
    });
    this.#loadBalancers.set(refKey(spec), loadBalancer);
    this.#logger?.info({ key: serviceKey(spec), address }, "allocated load balancer address");
    return loadBalancer;
  }

  #release(loadBalancer: LocalLoadBalancer): void {
    loadBalancer.close();
    const key = refKey(loadBalancer.ref);
    if (this.#loadBalancers.get(key) === loadBalancer) this.#loadBalancers.delete(key);
    this.#reportedSkips.delete(key);
  }

  async #converge(
    loadBalancer: LocalLoadBalancer,
    spec: LoadBalancerSpec,
    created: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const wanted = new Map(
      spec.listeners.map((l, index) => [listenerKey(l), { listener: l as ServedListener, index }]),
    );
    await this.#bindAll(loadBalancer, spec, wanted, created, signal);
    for (const key of [...loadBalancer.listeners.keys()]) {
      if (!wanted.has(key)) await this.#call("DeleteListener", true, signal, () => loadBalancer.removeListener(key));
    }
    if (!sameList(loadBalancer.sourceRanges, spec.sourceRanges)) {
      await this.#call("ModifySourceRanges", true, signal, () => {
        loadBalancer.sourceRanges = spec.sourceRanges;
      });
    }
    if (JSON.stringify(loadBalancer.healthCheck) !== JSON.stringify(spec.healthCheck)) {
      await this.#call("ModifyHealthCheck", true, signal, () => {
        loadBalancer.healthCheck = { ...spec.healthCheck };
      });
    }
    this.#reportSkippedNodes(spec);
    for (const { listener } of wanted.values()) {
      const served = loadBalancer.listeners.get(listenerKey(listener)) as LocalListener;
      await this.#convergeTargets(served, spec, listener, signal);
    }
    loadBalancer.refreshProbes();
  }

  /**
   * Binds every listener the spec adds, all or nothing: when one cannot be bound, the ones bound in
   * this call are closed again (and a load balancer created by this call is released), so a failed
   * ensure leaves the load balancer exactly as it found it.
   */
  async #bindAll(
    loadBalancer: LocalLoadBalancer,
    spec: LoadBalancerSpec,
    wanted: ReadonlyMap<string, { listener: ServedListener; index: number }>,
    created: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const bound: string[] = [];
    for (const [key, { listener, index }] of wanted) {
      if (loadBalancer.listeners.has(key)) continue;
      try {
        await this.#call("CreateListener", true, signal, async () => {
          try {
            await loadBalancer.addListener(listener);
          } catch (error) {
            throw classifyBindError(error, {
              field: `spec.ports[${index}].port`,
              address: loadBalancer.address,
              port: listener.port,
              protocol: listener.protocol,
            });
          }
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        for (const done of bound)
          await this.#call("DeleteListener", true, undefined, () => loadBalancer.removeListener(done));
        if (created) await this.#call("ReleaseAddress", true, undefined, () => this.#release(loadBalancer));
        this.#logger?.warn(
          { key: serviceKey(spec), err: error instanceof Error ? error.message : String(error) },
          "cannot bind a listener; the load balancer is left as it was",
        );
        throw error;
      }
      bound.push(key);
    }
  }

  async #convergeTargets(
    served: LocalListener,
    spec: LoadBalancerSpec,
    listener: ServedListener,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const wanted = targetsFor(spec.nodes, listener.nodePort, spec.healthCheck, this.#settings.nodeAddressType);
    const { register, deregister } = diffTargets(served.group.active(), wanted);
    // Deregister first, as clouds do, so a node that moved never has two live targets.
    if (deregister.length > 0) {
      await this.#call("DeregisterTargets", true, signal, () => served.group.deregister(deregister));
    }
    if (register.length > 0) {
      await this.#call("RegisterTargets", true, signal, () => served.group.register(register));
    }
    // Targets that stayed pick up a changed health check without counting as registered again.
    served.group.register(wanted.filter((t) => served.group.active().has(t.id)));
    served.nodePort = listener.nodePort;
  }

  #reportSkippedNodes(spec: LoadBalancerSpec): void {
    const type = this.#settings.nodeAddressType;
    const skipped = spec.nodes.filter((node) => !node.addresses.some((a) => a.type === type)).map((n) => n.name);
    const key = refKey(spec);
    const summary = skipped.join(",");
    if ((this.#reportedSkips.get(key) ?? "") === summary) return;
    this.#reportedSkips.set(key, summary);
    if (skipped.length === 0) return;
    this.#logger?.warn(
      { key: serviceKey(spec), nodes: skipped, nodeAddressType: type },
      `nodes without an ${type} get no traffic; set --provider-config nodeAddressType to an address type they have`,
    );
  }

  // ---- the cloud boundary --------------------------------------------------------------------------

  async #call<T>(
    operation: string,
    mutating: boolean,
    signal: AbortSignal | undefined,
    perform: () => T | Promise<T>,
  ): Promise<T> {
    signal?.throwIfAborted();
    const started = performance.now();
    let outcome: ProviderCall["outcome"] = "success";
    try {
      return await perform();
    } catch (error) {
      outcome = callOutcomeOf(error);
      throw error;
    } finally {
      this.#onCall?.({ operation, mutating, outcome, durationMs: performance.now() - started });
    }
  }
}
