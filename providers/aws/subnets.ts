/**
 * Where a new load balancer goes: subnet discovery as cloud-provider-aws does it, or the subnets the
 * `aws-load-balancer-subnets` annotation names. Pure selection over data read by `placement.ts`.
 *
 * Discovery: among the VPC's subnets that are tagged for this cluster or for no cluster at all, keep the
 * public ones (a route to an internet gateway) for an internet-facing load balancer, drop Local Zone and
 * Wavelength subnets, then take one per Availability Zone, preferring the role tag
 * (`kubernetes.io/role/elb`, or `kubernetes.io/role/internal-elb` when internal), then the cluster tag,
 * then the lowest subnet id. Role tags break ties; they do not filter. For a dualstack load balancer a
 * subnet with an IPv6 CIDR block comes first in its zone, and every subnet chosen must have one.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import { ANNOTATION, annotationField } from "./annotations.ts";
import type { Scheme, Tags } from "./state.ts";
import { CLUSTER_TAG_PREFIX, clusterTagKey } from "./tags.ts";

export const PUBLIC_ROLE_TAG = "kubernetes.io/role/elb";
export const INTERNAL_ROLE_TAG = "kubernetes.io/role/internal-elb";

export interface SubnetInfo {
  readonly id: string;
  readonly vpcId: string;
  readonly zone: string;
  readonly cidr: string;
  /** Associated IPv6 CIDR blocks; absent or empty when it has none. */
  readonly ipv6Cidrs?: readonly string[];
  readonly tags: Tags;
}

export interface RouteTableInfo {
  /** Subnets explicitly associated with this table. */
  readonly subnetIds: readonly string[];
  /** The VPC's main table, used by subnets without an explicit association. */
  readonly main: boolean;
  /** Has a route through an internet gateway (`igw-...`). */
  readonly internetGateway: boolean;
}

export interface DiscoveryInput {
  readonly subnets: readonly SubnetInfo[];
  readonly routeTables: readonly RouteTableInfo[];
  /** Zone name -> zone type (`availability-zone`, `local-zone`, ...); zones missing here are kept. */
  readonly zoneTypes: ReadonlyMap<string, string>;
  readonly scheme: Scheme;
  readonly clusterName: string;
  /** Placing a dualstack load balancer: subnets with an IPv6 CIDR block are preferred. */
  readonly dualStack?: boolean;
}

/** Whether a subnet routes to an internet gateway (its own table, else the VPC's main table). */
export function isPublicSubnet(subnetId: string, routeTables: readonly RouteTableInfo[]): boolean {
  const table = routeTables.find((t) => t.subnetIds.includes(subnetId)) ?? routeTables.find((t) => t.main);
  return table?.internetGateway ?? false;
}

/** One subnet per Availability Zone, sorted by zone; throws when none qualifies. */
export function discoverSubnets(input: DiscoveryInput): SubnetInfo[] {
  const ownTag = clusterTagKey(input.clusterName);
  const roleTag = input.scheme === "internal" ? INTERNAL_ROLE_TAG : PUBLIC_ROLE_TAG;
  const taggedForUs = (s: SubnetInfo) => s.tags[ownTag] !== undefined;
  const untagged = (s: SubnetInfo) => !Object.keys(s.tags).some((k) => k.startsWith(CLUSTER_TAG_PREFIX));
  const candidates = input.subnets.filter(
    (s) =>
      (taggedForUs(s) || untagged(s)) &&
      (input.scheme === "internal" || isPublicSubnet(s.id, input.routeTables)) &&
      (input.zoneTypes.get(s.zone) ?? "availability-zone") === "availability-zone",
  );
  const rank = (s: SubnetInfo): [number, number, number, string] => [
    input.dualStack === true && !hasIpv6(s) ? 1 : 0,
    s.tags[roleTag] !== undefined ? 0 : 1,
    taggedForUs(s) ? 0 : 1,
    s.id,
  ];
  const best = new Map<string, SubnetInfo>();
  for (const subnet of candidates) {
    const current = best.get(subnet.zone);
    if (current === undefined || compareRank(rank(subnet), rank(current)) < 0) best.set(subnet.zone, subnet);
  }
  const chosen = [...best.values()].sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0));
  if (chosen.length === 0)
    throw new InvalidConfigurationError(
      annotationField(ANNOTATION.subnets),
      `found no suitable subnet for an ${input.scheme} load balancer among ${input.subnets.length} subnets of the VPC: ` +
        `subnets must be tagged ${ownTag} or carry no kubernetes.io/cluster/ tag` +
        (input.scheme === "internet-facing" ? ", and route to an internet gateway (public)" : "") +
        `; tag the subnets (${roleTag}=1 marks the preferred one per zone) or list them in this annotation`,
    );
  return chosen;
}

/**
 * The subnets the annotation names, in annotation order: each entry a subnet id (`subnet-...`) or the
 * value of a subnet's `Name` tag. Every entry must match exactly one subnet, all in one VPC, at most one
 * per Availability Zone.
 */
export function resolveNamedSubnets(entries: readonly string[], found: readonly SubnetInfo[]): SubnetInfo[] {
  const field = annotationField(ANNOTATION.subnets);
  const resolved: SubnetInfo[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const matches = entry.startsWith("subnet-")
      ? found.filter((s) => s.id === entry)
      : found.filter((s) => s.tags.Name === entry);
    if (matches.length === 0) problems.push(`"${entry}" matches no subnet`);
    else if (matches.length > 1) problems.push(`"${entry}" matches ${matches.length} subnets; use subnet ids`);
    else if (matches[0] !== undefined) resolved.push(matches[0]);
  }
  if (problems.length > 0)
    throw new InvalidConfigurationError(field, `${problems.join("; ")}; list existing subnet ids or Name tags`);
  const vpcs = new Set(resolved.map((s) => s.vpcId));
  if (vpcs.size > 1)
    throw new InvalidConfigurationError(field, `names subnets in ${vpcs.size} VPCs; all must be in one VPC`);
  const zones = resolved.map((s) => s.zone);
  const twice = zones.filter((z, i) => zones.indexOf(z) !== i);
  if (twice.length > 0)
    throw new InvalidConfigurationError(
      field,
      `names two subnets in ${[...new Set(twice)].join(", ")}; a load balancer takes one subnet per Availability Zone`,
    );
  return resolved;
}

/** Whether a subnet has an IPv6 CIDR block, which every subnet of a dualstack load balancer needs. */
export function hasIpv6(subnet: Pick<SubnetInfo, "ipv6Cidrs">): boolean {
  return (subnet.ipv6Cidrs?.length ?? 0) > 0;
}

/** Why the load balancer is dualstack: the field to name, and how to ask for IPv4 only there instead. */
export interface DualStackReason {
  readonly field: string;
  readonly instead: string;
  /** An existing load balancer keeps its subnets, so naming others is no fix for it. */
  readonly existing?: boolean;
}

/**
 * Throws, naming the subnets and the fix, unless every subnet has an IPv6 CIDR block: AWS refuses a
 * dualstack load balancer (or a change to dualstack) in a subnet without one.
 */
export function requireIpv6Subnets(subnets: readonly SubnetInfo[], reason: DualStackReason): void {
  const without = subnets.filter((s) => !hasIpv6(s));
  if (without.length === 0) return;
  const names = without.map((s) => `${s.id} (${s.zone})`).join(", ");
  throw new InvalidConfigurationError(
    reason.field,
    `a dualstack load balancer needs an IPv6 CIDR block in each of its subnets, and ${names} ${without.length === 1 ? "has" : "have"} none; ` +
      `associate an IPv6 CIDR block with the VPC and ${without.length === 1 ? "that subnet" : "those subnets"}` +
      (reason.existing === true ? "" : `, list subnets that have one in ${ANNOTATION.subnets}`) +
      `, or ${reason.instead}`,
  );
}

function compareRank(a: readonly (number | string)[], b: readonly (number | string)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
