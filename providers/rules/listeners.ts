/**
 * What makes a Service's ports buildable as listeners, and when a listener the cloud has serves a port
 * the spec asks for: one reading for the controller, `plan`, the conformance suite and every provider.
 * A provider states only what differs for its cloud (the protocols it serves, its listener limit);
 * rules of its own (AWS: TCP and UDP on one port share a target group, so one nodePort) stay with it.
 *
 * @module
 */
import type { ListenerSpec, ObservedListener, Protocol, ValidationIssue } from "../types.ts";

/** What one provider (or the controller itself) accepts. */
export interface ListenerRules {
  /** Protocols served, e.g. `["TCP", "UDP"]`. */
  readonly protocols: readonly Protocol[];
  /** Who serves them, for messages: "Network Load Balancers", "the local provider". */
  readonly servedBy: string;
  /** Listeners per load balancer, counted by distinct port number; absent: no limit. */
  readonly maxPorts?: number;
}

/** Whether `value` is a TCP/UDP port number (1-65535). */
export function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65_535;
}

function error(field: string, message: string): ValidationIssue {
  return { field, message, severity: "error" };
}

/** `TCP or UDP`, `TCP, UDP or SCTP`. */
function either(protocols: readonly string[]): string {
  return protocols.length <= 1
    ? (protocols[0] ?? "")
    : `${protocols.slice(0, -1).join(", ")} or ${protocols.at(-1) ?? ""}`;
}

/** One port's problems: a protocol not served, a port or nodePort out of range. */
function portIssues(listener: ListenerSpec, index: number, rules: ListenerRules): ValidationIssue[] {
  const at = `spec.ports[${index}]`;
  const issues: ValidationIssue[] = [];
  if (!rules.protocols.includes(listener.protocol)) {
    issues.push(
      error(
        `${at}.protocol`,
        `${String(listener.protocol)} is not supported by ${rules.servedBy}; use ${either(rules.protocols)}`,
      ),
    );
  }
  if (!isPort(listener.port)) {
    issues.push(error(`${at}.port`, `${String(listener.port)} is not a port; use a number from 1 to 65535`));
  }
  if (!isPort(listener.nodePort)) {
    issues.push(
      error(
        `${at}.nodePort`,
        "has no node port, and the load balancer forwards to node ports; remove `allocateLoadBalancerNodePorts: false` (or set it to true) so every port gets one, or set the nodePort",
      ),
    );
  }
  return issues;
}

/**
 * Every problem with `listeners` under `rules`, in port order: none at all, a protocol not served, a
 * port or nodePort out of range, the same port and protocol twice, more distinct ports than allowed.
 */
export function listenerIssues(listeners: readonly ListenerSpec[], rules: ListenerRules): ValidationIssue[] {
  if (listeners.length === 0) {
    return [error("spec.ports", "a LoadBalancer Service needs at least one port; add one to spec.ports")];
  }
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  for (const [index, listener] of listeners.entries()) {
    issues.push(...portIssues(listener, index, rules));
    const identity = `${listener.port}/${listener.protocol}`;
    const first = seen.get(identity);
    if (first === undefined) seen.set(identity, index);
    else {
      issues.push(
        error(
          `spec.ports[${index}].port`,
          `${identity} repeats spec.ports[${first}]; each port and protocol pair can have only one listener, so remove or renumber one of them`,
        ),
      );
    }
  }
  const ports = new Set(listeners.map((listener) => listener.port)).size;
  if (rules.maxPorts !== undefined && ports > rules.maxPorts) {
    issues.push(
      error(
        "spec.ports",
        `${ports} ports exceed the limit of ${rules.maxPorts} listeners per load balancer of ${rules.servedBy}; split the ports across Services`,
      ),
    );
  }
  return issues;
}

/**
 * Whether a listener the cloud has serves `wanted`, one of `specListeners`: the same port, and its
 * protocol, or `TLS` for a TCP port (TLS terminated at the load balancer), or `TCP_UDP` when the spec
 * has both TCP and UDP on that port (one cloud listener carries both).
 */
export function servesListener(
  observed: Pick<ObservedListener, "port" | "protocol">,
  wanted: ListenerSpec,
  specListeners: readonly ListenerSpec[],
): boolean {
  if (observed.port !== wanted.port) return false;
  const protocol = observed.protocol.toUpperCase();
  if (protocol === wanted.protocol) return true;
  if (protocol === "TLS") return wanted.protocol === "TCP";
  if (protocol !== "TCP_UDP" || (wanted.protocol !== "TCP" && wanted.protocol !== "UDP")) return false;
  const other = wanted.protocol === "TCP" ? "UDP" : "TCP";
  return specListeners.some((listener) => listener.port === wanted.port && listener.protocol === other);
}
