/**
 * The data plane's Prometheus metrics, per load balancer (`namespace/name`) and listener (`80/TCP`),
 * on the controller's registry. Listeners count in plain numbers ({@link ListenerStats}); these metrics
 * read them when scraped, so the series of a deleted load balancer disappear with it.
 *
 * @module
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { type LocalListener, type LocalLoadBalancer, listenerKey } from "./load-balancer.ts";
import { hostPort } from "./targets.ts";

type Source = () => readonly LocalLoadBalancer[];

function labelsOf(lb: LocalLoadBalancer, listener: LocalListener) {
  return { load_balancer: `${lb.ref.service.namespace}/${lb.ref.service.name}`, listener: listenerKey(listener) };
}

/** Registers the local provider's metrics on `registry`, reading the load balancers from `source`. */
export function registerLocalMetrics(registry: Registry, source: Source): void {
  const each = (visit: (lb: LocalLoadBalancer, listener: LocalListener) => void): void => {
    for (const lb of source()) for (const listener of lb.listeners.values()) visit(lb, listener);
  };
  new Gauge({
    name: "lbp_local_connections_active",
    help: "Proxied TCP connections open (UDP: flows remembered), by load balancer and listener.",
    labelNames: ["load_balancer", "listener"] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((lb, l) => this.set(labelsOf(lb, l), l.stats.active));
    },
  });
  new Counter({
    name: "lbp_local_connections_total",
    help: "TCP connections accepted (UDP: flows started), by load balancer and listener.",
    labelNames: ["load_balancer", "listener"] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((lb, l) => this.inc(labelsOf(lb, l), l.stats.total));
    },
  });
  new Counter({
    name: "lbp_local_rejected_connections_total",
    help: "Connections closed (datagrams dropped) before reaching a target, by reason (source_range, no_target).",
    labelNames: ["load_balancer", "listener", "reason"] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((lb, l) => {
        this.inc({ ...labelsOf(lb, l), reason: "source_range" }, l.stats.rejectedBySourceRange);
        this.inc({ ...labelsOf(lb, l), reason: "no_target" }, l.stats.rejectedNoTarget);
      });
    },
  });
  new Counter({
    name: "lbp_local_bytes_total",
    help: "Bytes proxied, by direction: in (clients to targets) and out (targets to clients).",
    labelNames: ["load_balancer", "listener", "direction"] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((lb, l) => {
        this.inc({ ...labelsOf(lb, l), direction: "in" }, l.stats.bytesIn);
        this.inc({ ...labelsOf(lb, l), direction: "out" }, l.stats.bytesOut);
      });
    },
  });
  new Gauge({
    name: "lbp_local_target_healthy",
    help: "1 when a target passes its health check, 0 while initial or unhealthy; draining targets are not listed.",
    labelNames: ["load_balancer", "listener", "node", "target"] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((lb, l) => {
        for (const target of l.group.active().values()) {
          const labels = { ...labelsOf(lb, l), node: target.node, target: hostPort(target.address, target.port) };
          this.set(labels, lb.healthOf(target) === "healthy" ? 1 : 0);
        }
      });
    },
  });
}
