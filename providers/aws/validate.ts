/**
 * Whether a spec can be built as an NLB: the Service's ports and health check, then its annotations
 * (`annotations.ts`), then its IP families, session affinity and loadBalancerIP (`service-fields.ts`). Pure and synchronous; `ensureLoadBalancer` refuses a spec with any `error` issue
 * before making a single cloud call, so bad input never leaves partial resources behind.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import { isPort, listenerIssues } from "../rules/index.ts";
import type { LoadBalancerSpec, ValidationIssue } from "../types.ts";
import { type AwsServiceConfig, parseAnnotations } from "./annotations.ts";
import { serviceFieldIssues } from "./service-fields.ts";

/** AWS: listeners per Network Load Balancer (not adjustable). */
export const MAX_LISTENERS = 50;

export interface Analysis {
  readonly config: AwsServiceConfig;
  readonly issues: readonly ValidationIssue[];
}

/** Every issue with `spec`, and the annotation config (meaningful only when no issue is an error). */
export function analyzeSpec(spec: LoadBalancerSpec): Analysis {
  const parsed = parseAnnotations(spec);
  const issues = [...checkPorts(spec), ...checkHealthCheck(spec), ...parsed.issues];
  return { config: parsed.config, issues: [...issues, ...serviceFieldIssues(spec, parsed.config)] };
}

/** The config of a valid spec; throws {@link InvalidConfigurationError} for the first error issue. */
export function requireValidSpec(spec: LoadBalancerSpec): Analysis {
  const analysis = analyzeSpec(spec);
  const first = analysis.issues.find((issue) => issue.severity === "error");
  if (first !== undefined) throw new InvalidConfigurationError(first.field, first.message);
  return analysis;
}

/** What Network Load Balancers serve; the shared rules check the rest. */
const NLB_LISTENERS = {
  protocols: ["TCP", "UDP"],
  servedBy: "Network Load Balancers",
  maxPorts: MAX_LISTENERS,
} as const;

/**
 * The shared listener rules, plus the NLB's own: TCP and UDP on one port number become one `TCP_UDP`
 * listener and target group, so they must forward to the same nodePort.
 */
function checkPorts(spec: LoadBalancerSpec): ValidationIssue[] {
  const issues = listenerIssues(spec.listeners, NLB_LISTENERS);
  const firstOnPort = new Map<number, number>();
  spec.listeners.forEach((listener, i) => {
    const other = firstOnPort.get(listener.port);
    if (other === undefined) {
      firstOnPort.set(listener.port, i);
      return;
    }
    const first = spec.listeners[other];
    if (first === undefined || first.protocol === listener.protocol || first.nodePort === listener.nodePort) return;
    issues.push({
      field: `spec.ports[${i}].nodePort`,
      message: `must equal spec.ports[${other}].nodePort (${first.nodePort}): port ${listener.port} carries TCP and UDP, which share one TCP_UDP target group`,
      severity: "error",
    });
  });
  return issues;
}

function checkHealthCheck(spec: LoadBalancerSpec): ValidationIssue[] {
  const check = spec.healthCheck;
  if (check.kind !== "http" || isPort(check.port)) return [];
  return [
    {
      field: "spec.healthCheckNodePort",
      message: `${check.port} is not a port number; externalTrafficPolicy: Local needs a healthCheckNodePort`,
      severity: "error",
    },
  ];
}
