/**
 * The local provider: the controller process is the load balancer. Each Service gets an address from
 * the pool for each IP family it is built for and, per port, a listener there that forwards to every
 * eligible node's nodePort (on the nodes' addresses of the Service's primary family).
 *
 * The provider's "cloud" is this process, and every change to it is reported through `onCall` like a
 * cloud call (`AllocateAddress`, `CreateListener`, `RegisterTargets`...), so the controller's metrics
 * and the conformance suite see the same shape of work as for any cloud, and a second ensure with the
 * same spec makes no mutating call.
 *
 * @module
 */
import { ConflictError, TransientError } from "../errors.ts";
import { callOutcomeOf } from "../internal/call-outcome.ts";
import { KeyedSerializer } from "../internal/keyed-serializer.ts";
import { ALL_IP_FAMILIES, buildableIpFamilies } from "../rules/ip-families.ts";
import type {
  CallOptions,
  GetOptions,
  IPFamily,
  ListenerSpec,
  LoadBalancerProvider,
  LoadBalancerRef,
  LoadBalancerSpec,
  LoadBalancerStatus,
  ObservedLoadBalancer,
  ProviderCall,
  ProviderCapabilities,
  ProviderLogger,
  ValidationIssue,
} from "../types.ts";
import { AddressPool, chooseAddress } from "./address-pool.ts";
import { classifyBindError } from "./bind-errors.ts";
import { type LocalListener, LocalLoadBalancer, listenerKey, SocketBindError } from "./load-balancer.ts";
import type { LocalSettings } from "./settings.ts";
import { diffTargets, nodeAddress, targetsFor } from "./targets.ts";
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
  /** The families of the pool's addresses; affinity and a requested address from the pool, honoured. */
  readonly capabilities: ProviderCapabilities;
  readonly #settings: LocalSettings;
  readonly #logger: ProviderLogger | undefined;
  readonly #onCall: ((call: ProviderCall) => void) | undefined;
  readonly #loadBalancers = new Map<string, LocalLoadBalancer>();
  readonly #serial = new KeyedSerializer();
  /** Nodes without an address of the configured type, last reported per load balancer. */
  readonly #reportedSkips = new Map<string, string>();

  constructor(options: LocalProviderOptions) {
    this.#settings = options.settings;
    this.capabilities = {
      ipFamilies: options.settings.addresses.families,
      sessionAffinity: "honoured",
      loadBalancerIP: "honoured",
    };
    this.#logger = options.logger;
    this.#onCall = options.onCall;
  }

  // ---- LoadBalancerProvider ------------------------------------------------------------------------

  async ensureLoadBalancer(spec: LoadBalancerSpec, options: CallOptions = {}): Promise<LoadBalancerStatus> {
    const { signal } = options;
    signal?.throwIfAborted();
    assertValidLocalSpec(spec, this.#settings.addresses);
    return this.#serial.run(refKey(spec), async () => {
      const existing = await this.#call("DescribeLoadBalancer", false, signal, () =>
        this.#loadBalancers.get(refKey(spec)),
      );
      const loadBalancer = existing ?? this.#create(spec);
      try {
        await this.#converge(loadBalancer, spec, signal);
      } catch (error) {
        // A load balancer this call created and could not finish is not left half made.
        if (existing === undefined && !signal?.aborted) {
          await this.#call("ReleaseAddress", true, undefined, () => this.#release(loadBalancer));
        }
        throw error;
      }
      return loadBalancer.status();
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
      const addresses = loadBalancer.addresses();
      await this.#call("ReleaseAddress", true, signal, () => this.#release(loadBalancer));
      this.#logger?.info({ key: serviceKey(ref), addresses }, "released load balancer addresses");
    });
  }

  async listLoadBalancers(clusterName: string, options: CallOptions = {}): Promise<readonly ObservedLoadBalancer[]> {
    return this.#call("ListLoadBalancers", false, options.signal, () =>
      [...this.#loadBalancers.values()].filter((lb) => lb.ref.clusterName === clusterName).map((lb) => lb.observe()),
    );
  }

  validate(spec: LoadBalancerSpec): readonly ValidationIssue[] {
    return validateLocalSpec(spec, this.#settings.addresses);
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

  /** A load balancer for `spec` without addresses or listeners yet; {@link #converge} gives it both. */
  #create(spec: LoadBalancerSpec): LocalLoadBalancer {
    const loadBalancer = new LocalLoadBalancer({
      ref: { clusterName: spec.clusterName, service: { ...spec.service } },
      settings: this.#settings,
      onHealthChange: (probe, status) =>
        this.#logger?.info({ key: serviceKey(spec), probe: probe.key, status }, "target health changed"),
    });
    this.#loadBalancers.set(refKey(spec), loadBalancer);
    return loadBalancer;
  }

  #release(loadBalancer: LocalLoadBalancer): void {
    loadBalancer.close();
    const key = refKey(loadBalancer.ref);
    if (this.#loadBalancers.get(key) === loadBalancer) this.#loadBalancers.delete(key);
    this.#reportedSkips.delete(key);
  }

  async #converge(loadBalancer: LocalLoadBalancer, spec: LoadBalancerSpec, signal: AbortSignal | undefined) {
    const families = buildableIpFamilies(spec, this.capabilities.ipFamilies ?? []);
    loadBalancer.families = families;
    for (const family of families) await this.#convergeAddress(loadBalancer, spec, family, signal);
    for (const family of ALL_IP_FAMILIES) {
      if (!families.includes(family) && loadBalancer.addressOf(family) !== undefined) {
        await this.#call("ReleaseAddress", true, signal, () => loadBalancer.removeAddress(family));
      }
    }
    const wanted = new Map(
      spec.listeners.map((l, index) => [listenerKey(l), { listener: l as ServedListener, index }]),
    );
    await this.#bindAll(loadBalancer, spec, wanted, signal);
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
    if (JSON.stringify(loadBalancer.sessionAffinity) !== JSON.stringify(spec.sessionAffinity)) {
      await this.#call("ModifySessionAffinity", true, signal, () => {
        loadBalancer.sessionAffinity = spec.sessionAffinity;
      });
    }
    const targetFamily = families[0] as IPFamily;
    this.#reportSkippedNodes(spec, targetFamily);
    for (const { listener } of wanted.values()) {
      const served = loadBalancer.listeners.get(listenerKey(listener)) as LocalListener;
      await this.#convergeTargets(served, spec, listener, targetFamily, signal);
    }
    loadBalancer.refreshProbes();
  }

  /**
   * Gives the load balancer its address of `family`: the one `spec.loadBalancerIP` asks for, else the
   * one it has, else one from the pool (see `address-pool.ts`). A new address serves every listener
   * the load balancer has, or the load balancer is left as it was.
   */
  async #convergeAddress(
    loadBalancer: LocalLoadBalancer,
    spec: LoadBalancerSpec,
    family: IPFamily,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const current = loadBalancer.addressOf(family);
    const requested =
      spec.loadBalancerIP !== undefined && this.#pool(family).contains(spec.loadBalancerIP)
        ? AddressPool.canonical(spec.loadBalancerIP)
        : undefined;
    if (current !== undefined && (requested === undefined || requested === current)) return;
    // Before anything is released: a requested address someone holds leaves this one as it is.
    if (requested !== undefined) this.#assertFree(requested, loadBalancer);
    if (current !== undefined) {
      await this.#call("ReleaseAddress", true, signal, () => loadBalancer.removeAddress(family));
    }
    await this.#call("AllocateAddress", true, signal, async () => {
      const address = requested ?? this.#choose(spec, family, loadBalancer);
      try {
        await loadBalancer.addAddress(family, address);
      } catch (error) {
        throw this.#bindFailure(error, spec);
      }
      this.#logger?.info({ key: serviceKey(spec), address }, "allocated load balancer address");
    });
  }

  #pool(family: IPFamily): AddressPool {
    return this.#settings.addresses.ofFamily(family) as AddressPool;
  }

  /** Addresses every other load balancer holds. */
  #taken(except: LocalLoadBalancer): Set<string> {
    return new Set([...this.#loadBalancers.values()].filter((lb) => lb !== except).flatMap((lb) => lb.addresses()));
  }

  #choose(spec: LoadBalancerSpec, family: IPFamily, loadBalancer: LocalLoadBalancer): string {
    const taken = this.#taken(loadBalancer);
    const published = (spec.publishedStatus?.ingress ?? []).flatMap((entry) => (entry.ip ? [entry.ip] : []));
    const address = chooseAddress(this.#pool(family), spec, published, taken);
    if (address === undefined) {
      // Retried with backoff: another Service may release an address.
      throw new TransientError(
        `every ${family} address of --provider-config addresses (${this.#settings.addresses.description}) is taken by another load balancer; add addresses to the pool or delete a LoadBalancer Service`,
      );
    }
    return address;
  }

  /** A requested address another Service's load balancer holds is a conflict, retried in case it is freed. */
  #assertFree(address: string, loadBalancer: LocalLoadBalancer): void {
    if (!this.#taken(loadBalancer).has(address)) return;
    const holder = [...this.#loadBalancers.values()].find(
      (lb) => lb !== loadBalancer && lb.addresses().includes(address),
    );
    throw new ConflictError(
      address,
      `spec.loadBalancerIP: ${address} is held by the load balancer of ${holder === undefined ? "another Service" : serviceKey(holder.ref)}; ask for another address of the pool, or free that one`,
    );
  }

  /** A socket that could not be bound, as the provider error naming the Service port. */
  #bindFailure(error: unknown, spec: LoadBalancerSpec): unknown {
    if (!(error instanceof SocketBindError)) return error;
    const index = spec.listeners.findIndex(
      (l) => l.port === error.listener.port && l.protocol === error.listener.protocol,
    );
    return classifyBindError(error.cause, {
      field: `spec.ports[${Math.max(index, 0)}].port`,
      address: error.address,
      port: error.listener.port,
      protocol: error.listener.protocol,
    });
  }

  /**
   * Binds every listener the spec adds, all or nothing: when one cannot be bound, the ones bound in
   * this call are closed again, so a failed ensure leaves the listeners exactly as it found them.
   */
  async #bindAll(
    loadBalancer: LocalLoadBalancer,
    spec: LoadBalancerSpec,
    wanted: ReadonlyMap<string, { listener: ServedListener; index: number }>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const bound: string[] = [];
    for (const [key, { listener }] of wanted) {
      if (loadBalancer.listeners.has(key)) continue;
      try {
        await this.#call("CreateListener", true, signal, async () => {
          try {
            await loadBalancer.addListener(listener);
          } catch (error) {
            throw this.#bindFailure(error, spec);
          }
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        for (const done of bound)
          await this.#call("DeleteListener", true, undefined, () => loadBalancer.removeListener(done));
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
    family: IPFamily,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const type = this.#settings.nodeAddressType;
    const wanted = targetsFor(spec.nodes, listener.nodePort, spec.healthCheck, type, family);
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

  #reportSkippedNodes(spec: LoadBalancerSpec, family: IPFamily): void {
    const type = this.#settings.nodeAddressType;
    const skipped = spec.nodes.filter((node) => nodeAddress(node, type, family) === undefined).map((n) => n.name);
    const key = refKey(spec);
    const summary = skipped.join(",");
    if ((this.#reportedSkips.get(key) ?? "") === summary) return;
    this.#reportedSkips.set(key, summary);
    if (skipped.length === 0) return;
    this.#logger?.warn(
      { key: serviceKey(spec), nodes: skipped, nodeAddressType: type, family },
      `nodes without an ${family} ${type} get no traffic; set --provider-config nodeAddressType to an address type they have, or give the Service a family they have addresses of`,
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
