/**
 * What the local data plane cannot serve, found without touching a socket: the shared listener rules
 * with TCP and UDP only (no SCTP; TCP and UDP on one port number are two listeners and fine); the IP
 * families the address pool has addresses of; and a `spec.loadBalancerIP` outside the pool or of a
 * family the Service does not get.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import { ipFamilyIssues, ipFamilyOfAddress, listenerIssues, loadBalancerIPIssues } from "../rules/index.ts";
import type { LoadBalancerSpec, ValidationIssue } from "../types.ts";
import type { AddressPool } from "./address-pool.ts";

const LOCAL_LISTENERS = { protocols: ["TCP", "UDP"], servedBy: "the local provider" } as const;

export function validateLocalSpec(spec: LoadBalancerSpec, pool: AddressPool): ValidationIssue[] {
  return [
    ...listenerIssues(spec.listeners, LOCAL_LISTENERS),
    ...ipFamilyIssues(spec, pool.families),
    ...requestedAddressIssues(spec, pool),
  ];
}

/** `spec.loadBalancerIP` is honoured when it is a pool address, of a family the load balancer serves. */
function requestedAddressIssues(spec: LoadBalancerSpec, pool: AddressPool): ValidationIssue[] {
  const address = spec.loadBalancerIP;
  if (address === undefined || !ipFamilyOfAddress(address) || pool.contains(address)) {
    return loadBalancerIPIssues(spec, pool.families);
  }
  return [
    {
      field: "spec.loadBalancerIP",
      severity: "error",
      message: `${address} is not in the local provider's address pool (--provider-config addresses ${pool.description}); ask for an address of the pool, or remove the field`,
    },
  ];
}

/** @throws {InvalidConfigurationError} for the first error issue of `spec`. */
export function assertValidLocalSpec(spec: LoadBalancerSpec, pool: AddressPool): void {
  const error = validateLocalSpec(spec, pool).find((issue) => issue.severity === "error");
  if (error !== undefined) throw new InvalidConfigurationError(error.field, error.message);
}
