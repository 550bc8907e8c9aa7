/**
 * What the local data plane cannot serve, found without touching a socket: SCTP, and the same port and
 * protocol twice. TCP and UDP on one port number are two listeners and fine.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import type { LoadBalancerSpec, ValidationIssue } from "../types.ts";

export function validateLocalSpec(spec: LoadBalancerSpec): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  for (const [index, listener] of spec.listeners.entries()) {
    if (listener.protocol === "SCTP") {
      issues.push({
        field: `spec.ports[${index}].protocol`,
        message: "SCTP is not supported by the local provider; use TCP or UDP",
        severity: "error",
      });
      continue;
    }
    const id = `${listener.port}/${listener.protocol}`;
    const first = seen.get(id);
    if (first !== undefined) {
      issues.push({
        field: `spec.ports[${index}].port`,
        message: `${id} is already spec.ports[${first}]; remove one or change its port`,
        severity: "error",
      });
      continue;
    }
    seen.set(id, index);
    if (listener.nodePort <= 0 || listener.nodePort > 65535) {
      issues.push({
        field: `spec.ports[${index}].nodePort`,
        message: "the local provider forwards to node ports; let the API server allocate one",
        severity: "error",
      });
    }
  }
  return issues;
}

/** @throws {InvalidConfigurationError} for the first error issue of `spec`. */
export function assertValidLocalSpec(spec: LoadBalancerSpec): void {
  const error = validateLocalSpec(spec).find((issue) => issue.severity === "error");
  if (error !== undefined) throw new InvalidConfigurationError(error.field, error.message);
}
