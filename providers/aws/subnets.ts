/**
 * Where a new load balancer goes: subnet discovery as cloud-provider-aws does it, or the subnets the
 * `aws-load-balancer-subnets` annotation names. Pure selection over data read by `placement.ts`.
 *
 * Discovery: among the VPC's subnets that are tagged for this cluster or for no cluster at all, keep the
 * public ones (a route to an internet gateway) for an internet-facing load balancer, drop Local Zone and
 * Wavelength subnets, then take one per Availability Zone, preferring the role tag
 * (`kubernetes.io/role/elb`, or `kubernetes.io/role/internal-elb` when internal), then the cluster tag,
 * then the lowest subnet id. Role tags break ties; they do not filter.
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
  const rank = (s: SubnetInfo): [number, number, string] => [
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

function compareRank(a: readonly [number, number, string], b: readonly [number, number, string]): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}
