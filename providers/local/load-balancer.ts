/**
 * One load balancer of the local provider at run time: an address per IP family it serves, a listener
 * per Service port and protocol (each with its own target group and counters, and a socket on every
 * address), the source-range filter and client affinity they share, and the health monitor that
 * probes their targets. It does what it is told; deciding what to change, and reporting each change as
 * a call, is `local-provider.ts`'s job.
 *
 * @module
 */
import type {
  HealthCheckSpec,
  IPFamily,
  ListenerSpec,
  LoadBalancerRef,
  LoadBalancerStatus,
  ObservedHealthCheck,
  ObservedListener,
  ObservedLoadBalancer,
  ObservedTarget,
  SessionAffinitySpec,
} from "../types.ts";
import { ClientAffinity } from "./client-affinity.ts";
import { HealthMonitor } from "./health-monitor.ts";
import type { HealthStatus } from "./health-state.ts";
import { ListenerStats } from "./listener-stats.ts";
import type { LocalSettings } from "./settings.ts";
import { type SourceFilter, sourceFilter } from "./source-ranges.ts";
import { TargetGroup } from "./target-group.ts";
import type { ProbeSpec, TargetSpec } from "./targets.ts";
import { TcpListener } from "./tcp-listener.ts";
import { UdpListener } from "./udp-listener.ts";

/** How long a proxied connection waits for a target to accept before trying the next one. */
const CONNECT_TIMEOUT_MS = 5_000;

/** `80/TCP`: a listener's identity within its load balancer. */
export function listenerKey(listener: Pick<ListenerSpec, "port" | "protocol">): string {
  return `${listener.port}/${listener.protocol}`;
}

export interface LocalListener {
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
  nodePort: number;
  readonly group: TargetGroup;
  readonly stats: ListenerStats;
  /** One socket per address of the load balancer, by address. */
  readonly sockets: Map<string, TcpListener | UdpListener>;
}

export interface LocalLoadBalancerOptions {
  readonly ref: LoadBalancerRef;
  readonly settings: LocalSettings;
  readonly onHealthChange?: (probe: ProbeSpec, status: HealthStatus) => void;
}

/** A socket that could not be bound: where, and the system error (see `bind-errors.ts`). */
export class SocketBindError extends Error {
  override readonly name = "SocketBindError";
  readonly address: string;
  readonly listener: Pick<LocalListener, "port" | "protocol">;
  constructor(address: string, listener: Pick<LocalListener, "port" | "protocol">, cause: unknown) {
    super(`cannot bind ${address} ${listenerKey(listener)}`, { cause });
    this.address = address;
    this.listener = listener;
  }
}

export class LocalLoadBalancer {
  readonly ref: LoadBalancerRef;
  readonly listeners = new Map<string, LocalListener>();
  readonly monitor: HealthMonitor;
  /** The address of each family it serves. */
  readonly #addresses = new Map<IPFamily, string>();
  /** The order the Service lists its families in: the order addresses are published in. */
  families: readonly IPFamily[] = [];
  #sourceRanges: readonly string[] = [];
  #filter: SourceFilter = sourceFilter([]);
  #sessionAffinity: SessionAffinitySpec | undefined;
  healthCheck: HealthCheckSpec = { kind: "traffic-port", protocol: "TCP" };
  readonly #settings: LocalSettings;

  constructor(options: LocalLoadBalancerOptions) {
    this.ref = options.ref;
    this.#settings = options.settings;
    this.monitor = new HealthMonitor({
      intervalMs: options.settings.healthCheckIntervalMs,
      timeoutMs: options.settings.healthCheckTimeoutMs,
      healthyThreshold: options.settings.healthyThreshold,
      unhealthyThreshold: options.settings.unhealthyThreshold,
      ...(options.onHealthChange === undefined ? {} : { onChange: options.onHealthChange }),
    });
  }

  get sourceRanges(): readonly string[] {
    return this.#sourceRanges;
  }

  set sourceRanges(ranges: readonly string[]) {
    this.#sourceRanges = [...ranges];
    this.#filter = sourceFilter(ranges);
  }

  get sessionAffinity(): SessionAffinitySpec | undefined {
    return this.#sessionAffinity;
  }

  /** Sets ClientIP affinity (or round robin, for `undefined`) on every listener; pins start afresh. */
  set sessionAffinity(affinity: SessionAffinitySpec | undefined) {
    this.#sessionAffinity = affinity === undefined ? undefined : { ...affinity };
    for (const listener of this.listeners.values()) listener.group.affinity = this.#newAffinity();
  }

  /** The address of `family`, if it serves that family. */
  addressOf(family: IPFamily): string | undefined {
    return this.#addresses.get(family);
  }

  /** Every address, in the Service's family order. */
  addresses(): string[] {
    const ordered = this.families.flatMap((family) => this.#addresses.get(family) ?? []);
    return [...ordered, ...[...this.#addresses.values()].filter((address) => !ordered.includes(address))];
  }

  /**
   * Serves `family` on `address`: every listener gets a socket there, all or nothing. Rejects with a
   * {@link SocketBindError} (and binds nothing) when one cannot be bound.
   */
  async addAddress(family: IPFamily, address: string): Promise<void> {
    const bound: (TcpListener | UdpListener)[] = [];
    try {
      for (const listener of this.listeners.values()) {
        const socket = await this.#bind(address, listener);
        listener.sockets.set(address, socket);
        bound.push(socket);
      }
    } catch (error) {
      for (const listener of this.listeners.values()) {
        const socket = listener.sockets.get(address);
        if (socket !== undefined && bound.includes(socket)) {
          socket.close();
          listener.sockets.delete(address);
        }
      }
      throw error;
    }
    this.#addresses.set(family, address);
  }

  /** Stops serving `family`: its sockets close and their connections are cut. */
  removeAddress(family: IPFamily): void {
    const address = this.#addresses.get(family);
    if (address === undefined) return;
    this.#addresses.delete(family);
    for (const listener of this.listeners.values()) {
      listener.sockets.get(address)?.close();
      listener.sockets.delete(address);
    }
  }

  /**
   * A listener for `spec` on every address, bound and serving but with no targets yet, all or nothing.
   * Rejects with a {@link SocketBindError} when a socket cannot be bound.
   */
  async addListener(spec: ListenerSpec & { protocol: "TCP" | "UDP" }): Promise<LocalListener> {
    const group = new TargetGroup({
      healthOf: (key) => this.monitor.statusOf(key),
      deregistrationDelayMs: this.#settings.deregistrationDelayMs,
    });
    group.affinity = this.#newAffinity();
    const listener: LocalListener = {
      port: spec.port,
      protocol: spec.protocol,
      nodePort: spec.nodePort,
      group,
      stats: new ListenerStats(),
      sockets: new Map(),
    };
    try {
      for (const address of this.#addresses.values())
        listener.sockets.set(address, await this.#bind(address, listener));
    } catch (error) {
      for (const socket of listener.sockets.values()) socket.close();
      throw error;
    }
    this.listeners.set(listenerKey(spec), listener);
    return listener;
  }

  /** Closes the listener's sockets and cuts its connections; a no-op for one that does not exist. */
  removeListener(key: string): void {
    const listener = this.listeners.get(key);
    if (listener === undefined) return;
    this.listeners.delete(key);
    for (const socket of listener.sockets.values()) socket.close();
    listener.group.close();
  }

  /** Probes exactly the targets the listeners have now (draining ones are no longer checked). */
  refreshProbes(): void {
    const probes = new Map<string, ProbeSpec>();
    for (const listener of this.listeners.values()) {
      for (const target of listener.group.active().values()) probes.set(target.probe.key, target.probe);
    }
    this.monitor.watch([...probes.values()]);
  }

  healthOf(target: TargetSpec): HealthStatus {
    return this.monitor.statusOf(target.probe.key);
  }

  /**
   * What the Service publishes: every address, as `Proxy` — clients' connections end here and new
   * ones go to the nodes, so kube-proxy must not take the address over inside the cluster.
   */
  status(): LoadBalancerStatus {
    return { ingress: this.addresses().map((ip) => ({ ip, ipMode: "Proxy" })) };
  }

  /** The load balancer in the provider-neutral terms of `getLoadBalancer`. */
  observe(): ObservedLoadBalancer {
    const listeners: ObservedListener[] = [...this.listeners.values()]
      .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol))
      .map((listener) => ({
        port: listener.port,
        protocol: listener.protocol,
        targetPort: listener.nodePort,
        targets: [...listener.group.active().values()].map(
          (target): ObservedTarget => ({
            id: target.address,
            port: target.port,
            node: target.node,
            health: this.healthOf(target),
          }),
        ),
        healthCheck: observedHealthCheck(this.healthCheck),
      }));
    const served = this.addresses();
    return {
      ref: { clusterName: this.ref.clusterName, service: { ...this.ref.service } },
      status: this.status(),
      listeners,
      sourceRanges: [...this.#sourceRanges],
      ipFamilies: [...this.#addresses.keys()],
      ...(this.#sessionAffinity === undefined ? {} : { sessionAffinity: { ...this.#sessionAffinity } }),
      resources: { address: served.join(",") },
    };
  }

  /** Closes every listener and connection and stops health checks. */
  close(): void {
    for (const key of [...this.listeners.keys()]) this.removeListener(key);
    this.monitor.close();
  }

  #newAffinity(): ClientAffinity | undefined {
    const affinity = this.#sessionAffinity;
    return affinity === undefined ? undefined : new ClientAffinity(affinity.timeoutSeconds * 1000);
  }

  /** A socket for `listener` on `address`, bound. Rejects with a {@link SocketBindError}. */
  async #bind(address: string, listener: LocalListener): Promise<TcpListener | UdpListener> {
    const common = {
      address,
      port: listener.port,
      group: listener.group,
      stats: listener.stats,
      allows: () => this.#filter,
    };
    const socket =
      listener.protocol === "TCP"
        ? new TcpListener({ ...common, connectTimeoutMs: CONNECT_TIMEOUT_MS })
        : new UdpListener({ ...common, idleTimeoutMs: this.#settings.udpIdleTimeoutMs });
    try {
      await socket.listen();
    } catch (error) {
      socket.close();
      throw new SocketBindError(address, listener, error);
    }
    return socket;
  }
}

function observedHealthCheck(healthCheck: HealthCheckSpec): ObservedHealthCheck {
  return healthCheck.kind === "http"
    ? { protocol: "HTTP", port: healthCheck.port, path: healthCheck.path }
    : { protocol: "TCP", port: "traffic-port" };
}
