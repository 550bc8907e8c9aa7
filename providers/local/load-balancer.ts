/**
 * One load balancer of the local provider at run time: its address, a listener per Service port and
 * protocol (each with its own target group and counters), the source-range filter they share, and
 * the health monitor that probes their targets. It does what it is told; deciding what to change, and
 * reporting each change as a call, is `local-provider.ts`'s job.
 *
 * @module
 */
import type {
  HealthCheckSpec,
  ListenerSpec,
  LoadBalancerRef,
  ObservedHealthCheck,
  ObservedListener,
  ObservedLoadBalancer,
  ObservedTarget,
} from "../types.ts";
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
  readonly socket: TcpListener | UdpListener;
}

export interface LocalLoadBalancerOptions {
  readonly ref: LoadBalancerRef;
  readonly address: string;
  readonly settings: LocalSettings;
  readonly onHealthChange?: (probe: ProbeSpec, status: HealthStatus) => void;
}

export class LocalLoadBalancer {
  readonly ref: LoadBalancerRef;
  readonly address: string;
  readonly listeners = new Map<string, LocalListener>();
  readonly monitor: HealthMonitor;
  #sourceRanges: readonly string[] = [];
  #filter: SourceFilter = sourceFilter([]);
  healthCheck: HealthCheckSpec = { kind: "traffic-port", protocol: "TCP" };
  readonly #settings: LocalSettings;

  constructor(options: LocalLoadBalancerOptions) {
    this.ref = options.ref;
    this.address = options.address;
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

  /** A listener for `spec`, bound and serving but with no targets yet. Rejects with the system error. */
  async addListener(spec: ListenerSpec & { protocol: "TCP" | "UDP" }): Promise<LocalListener> {
    const group = new TargetGroup({
      healthOf: (key) => this.monitor.statusOf(key),
      deregistrationDelayMs: this.#settings.deregistrationDelayMs,
    });
    const stats = new ListenerStats();
    const common = { address: this.address, port: spec.port, group, stats, allows: () => this.#filter };
    const socket =
      spec.protocol === "TCP"
        ? new TcpListener({ ...common, connectTimeoutMs: CONNECT_TIMEOUT_MS })
        : new UdpListener({ ...common, idleTimeoutMs: this.#settings.udpIdleTimeoutMs });
    try {
      await socket.listen();
    } catch (error) {
      socket.close();
      throw error;
    }
    const listener: LocalListener = {
      port: spec.port,
      protocol: spec.protocol,
      nodePort: spec.nodePort,
      group,
      stats,
      socket,
    };
    this.listeners.set(listenerKey(spec), listener);
    return listener;
  }

  /** Closes the listener and cuts its connections; a no-op for one that does not exist. */
  removeListener(key: string): void {
    const listener = this.listeners.get(key);
    if (listener === undefined) return;
    this.listeners.delete(key);
    listener.socket.close();
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
    return {
      ref: { clusterName: this.ref.clusterName, service: { ...this.ref.service } },
      status: { ingress: [{ ip: this.address }] },
      listeners,
      sourceRanges: [...this.#sourceRanges],
      resources: { address: this.address },
    };
  }

  /** Closes every listener and connection and stops health checks. */
  close(): void {
    for (const key of [...this.listeners.keys()]) this.removeListener(key);
    this.monitor.close();
  }
}

function observedHealthCheck(healthCheck: HealthCheckSpec): ObservedHealthCheck {
  return healthCheck.kind === "http"
    ? { protocol: "HTTP", port: healthCheck.port, path: healthCheck.path }
    : { protocol: "TCP", port: "traffic-port" };
}
