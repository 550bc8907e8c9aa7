/**
 * Whether a spec can be built as an NLB: the Service's ports and health check, then its annotations
 * (`annotations.ts`). Pure and synchronous; `ensureLoadBalancer` refuses a spec with any `error` issue
 * before making a single cloud call, so bad input never leaves partial resources behind.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import type { LoadBalancerSpec, ValidationIssue } from "../types.ts";
import { type AwsServiceConfig, parseAnnotations } from "./annotations.ts";

/** AWS: listeners per Network Load Balancer (not adjustable). */
export const MAX_LISTENERS = 50;

export interface Analysis {
  readonly config: AwsServiceConfig;
  readonly issues: readonly ValidationIssue[];
}

/** Every issue with `spec`, and the annotation config (meaningful only when no issue is an error). */
export function analyzeSpec(spec: LoadBalancerSpec): Analysis {
  const parsed = parseAnnotations(spec);
  return { config: parsed.config, issues: [...checkPorts(spec), ...checkHealthCheck(spec), ...parsed.issues] };
}

/** The config of a valid spec; throws {@link InvalidConfigurationError} for the first error issue. */
export function requireValidSpec(spec: LoadBalancerSpec): Analysis {
  const analysis = analyzeSpec(spec);
  const first = analysis.issues.find((issue) => issue.severity === "error");
  if (first !== undefined) throw new InvalidConfigurationError(first.field, first.message);
  return analysis;
}

function checkPorts(spec: LoadBalancerSpec): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const error = (field: string, message: string) => issues.push({ field, message, severity: "error" });
  if (spec.listeners.length === 0) {
    error("spec.ports", "has no ports; a load balancer needs at least one");
    return issues;
  }
  const byPort = new Map<number, number>();
  spec.listeners.forEach((listener, i) => {
    if (listener.protocol !== "TCP" && listener.protocol !== "UDP")
      error(
        `spec.ports[${i}].protocol`,
        `${listener.protocol} is not supported by Network Load Balancers; use TCP or UDP`,
      );
    if (!Number.isInteger(listener.port) || listener.port < 1 || listener.port > 65535)
      error(`spec.ports[${i}].port`, `${listener.port} is not a port number (1-65535)`);
    if (!Number.isInteger(listener.nodePort) || listener.nodePort < 1 || listener.nodePort > 65535) {
      error(
        `spec.ports[${i}].nodePort`,
        "is not set; the load balancer forwards to node ports, so set spec.allocateLoadBalancerNodePorts to true (or remove it)",
      );
      return;
    }
    const other = byPort.get(listener.port);
    if (other === undefined) {
      byPort.set(listener.port, i);
      return;
    }
    const first = spec.listeners[other];
    if (first === undefined) return;
    if (first.protocol === listener.protocol)
      error(
        `spec.ports[${i}].port`,
        `${listener.port}/${listener.protocol} duplicates spec.ports[${other}]; give each port a different number or protocol`,
      );
    else if (first.nodePort !== listener.nodePort)
      error(
        `spec.ports[${i}].nodePort`,
        `must equal spec.ports[${other}].nodePort (${first.nodePort}): port ${listener.port} carries TCP and UDP, which share one TCP_UDP target group`,
      );
  });
  if (byPort.size > MAX_LISTENERS)
    error("spec.ports", `has ${byPort.size} distinct ports; a Network Load Balancer allows at most ${MAX_LISTENERS}`);
  return issues;
}

function checkHealthCheck(spec: LoadBalancerSpec): ValidationIssue[] {
  const check = spec.healthCheck;
  if (check.kind !== "http") return [];
  if (!Number.isInteger(check.port) || check.port < 1 || check.port > 65535)
    return [
      {
        field: "spec.healthCheckNodePort",
        message: `${check.port} is not a port number; externalTrafficPolicy: Local needs a healthCheckNodePort`,
        severity: "error",
      },
    ];
  return [];
}
