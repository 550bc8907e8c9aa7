/**
 * Deterministic AWS names for a Service's load balancer, target groups and security group.
 *
 * Shape `k8s-<namespace:8>-<name:8>-<hash:10>` (at most 32 characters, alphanumerics and hyphens, never
 * starting or ending with a hyphen, never starting with `internal-`), as both cloud-provider-aws and the
 * AWS Load Balancer Controller do, so operators recognise them. The readable parts are only a hint: the
 * hash covers the cluster name, the full namespace and name, and, for target groups, every field AWS
 * cannot change in place. Two Services, two clusters or two ports therefore never share a name, and a
 * change to an immutable field yields a new target group name (create new, repoint, delete old).
 *
 * Names address resources only; ownership is always proven by tags (see `tags.ts`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { HealthCheckProtocol, TargetGroupAddressType, TargetGroupProtocol, TargetType } from "./state.ts";

/** How every name this provider makes starts; a cheap filter before names and tags are checked. */
export const NAME_PREFIX = "k8s-";

/** AWS limit for load balancer and target group names. */
export const MAX_NAME_LENGTH = 32;

/** What makes a target group what it is: any change here needs a new target group. */
export interface TargetGroupIdentity {
  /** The listener (Service) port the target group serves. */
  readonly servicePort: number;
  readonly protocol: TargetGroupProtocol;
  /** The target group's port: the Service port's nodePort. */
  readonly nodePort: number;
  readonly targetType: TargetType;
  /** Immutable on TCP target groups of older NLBs (kubernetes/kubernetes#80996), so part of identity. */
  readonly healthCheckProtocol: HealthCheckProtocol;
  /** The family of the targets' addresses; absent means `ipv4`. */
  readonly ipAddressType?: TargetGroupAddressType;
}

/** The Service a name is for, within a cluster. */
export interface NameScope {
  readonly clusterName: string;
  readonly namespace: string;
  readonly name: string;
}

/** Name of the Network Load Balancer of a Service. */
export function loadBalancerName(scope: NameScope): string {
  return build(scope, ["load-balancer"]);
}

/** Name of the security group owned by a Service's load balancer. */
export function securityGroupName(scope: NameScope): string {
  return build(scope, ["security-group"]);
}

/** Name of the target group behind one listener. */
export function targetGroupName(scope: NameScope, identity: TargetGroupIdentity): string {
  return build(scope, [
    "target-group",
    identity.servicePort,
    identity.protocol,
    identity.nodePort,
    identity.targetType,
    identity.healthCheckProtocol,
    // Only IPv6 adds to the hash, so every IPv4 target group keeps the name it had before families.
    ...(identity.ipAddressType === "ipv6" ? ["ipv6"] : []),
  ]);
}

/**
 * The common prefix of every name made for a Service (`k8s-<ns:8>-<name:8>-`). Not unique — only a cheap
 * pre-filter before tags are checked, e.g. when sweeping target groups a failed delete left behind.
 */
export function namePrefix(scope: Pick<NameScope, "namespace" | "name">): string {
  return `${NAME_PREFIX}${readable(scope.namespace)}-${readable(scope.name)}-`;
}

function build(scope: NameScope, parts: readonly (string | number)[]): string {
  // JSON keeps the fields apart: ("a-b", "c") and ("a", "b-c") hash differently.
  const input = JSON.stringify([scope.clusterName, scope.namespace, scope.name, ...parts]);
  const hash = createHash("sha256").update(input).digest("hex").slice(0, 10);
  return `${namePrefix(scope)}${hash}`;
}

function readable(value: string): string {
  return value
    .replace(/[^a-zA-Z0-9]/g, "")
    .toLowerCase()
    .slice(0, 8);
}
