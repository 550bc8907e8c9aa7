/**
 * What the local data plane cannot serve, found without touching a socket: the shared listener rules
 * with TCP and UDP only (no SCTP). TCP and UDP on one port number are two listeners and fine.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import { listenerIssues } from "../rules/index.ts";
import type { LoadBalancerSpec, ValidationIssue } from "../types.ts";

const LOCAL_LISTENERS = { protocols: ["TCP", "UDP"], servedBy: "the local provider" } as const;

export function validateLocalSpec(spec: LoadBalancerSpec): ValidationIssue[] {
  return listenerIssues(spec.listeners, LOCAL_LISTENERS);
}

/** @throws {InvalidConfigurationError} for the first error issue of `spec`. */
export function assertValidLocalSpec(spec: LoadBalancerSpec): void {
  const error = validateLocalSpec(spec).find((issue) => issue.severity === "error");
  if (error !== undefined) throw new InvalidConfigurationError(error.field, error.message);
}
