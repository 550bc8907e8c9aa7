/**
 * Which nodes a load balancer sends traffic to, and the neutral {@link NodeSpec} of each.
 *
 * A node is eligible unless it is being deleted, carries a truthy
 * `node.kubernetes.io/exclude-from-external-load-balancers` label, or is tainted
 * `ToBeDeletedByClusterAutoscaler` — the upstream service controller's predicates. Readiness is
 * deliberately not a filter: the load balancer's health check takes a NotReady node out of rotation
 * without reconfiguring every load balancer in the cluster whenever a node flaps.
 *
 * @module
 */
import type { V1Node } from "@kubernetes/client-node";
import type { NodeSpec } from "../../providers/index.ts";
import { parseGoBool } from "../../providers/rules/index.ts";

export const EXCLUDE_FROM_LOAD_BALANCERS_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
export const TO_BE_DELETED_BY_AUTOSCALER_TAINT = "ToBeDeletedByClusterAutoscaler";
export const ZONE_LABEL = "topology.kubernetes.io/zone";
/** The zone label before `topology.kubernetes.io/zone` (still set by some older clouds). */
export const LEGACY_ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone";

/**
 * Whether the exclude label keeps a node out. Absent: included. `"false"` (or another false spelling):
 * included. `"true"`, or any value that is not a boolean — including the empty value that older
 * clusters set, where the label's mere presence excluded the node — excluded.
 */
export function isExcludedByLabel(node: V1Node): boolean {
  const value = node.metadata?.labels?.[EXCLUDE_FROM_LOAD_BALANCERS_LABEL];
  if (value === undefined) return false;
  // Read with Go's strconv.ParseBool, as the upstream controller reads it.
  return parseGoBool(value) !== false;
}

export function isNodeEligible(node: V1Node): boolean {
  if (node.metadata?.deletionTimestamp) return false;
  if (isExcludedByLabel(node)) return false;
  return !(node.spec?.taints ?? []).some((taint) => taint.key === TO_BE_DELETED_BY_AUTOSCALER_TAINT);
}

/** The neutral view of a node, as a provider sees it. */
export function toNodeSpec(node: V1Node): NodeSpec {
  const labels = node.metadata?.labels ?? {};
  const zone = labels[ZONE_LABEL] ?? labels[LEGACY_ZONE_LABEL];
  const providerID = node.spec?.providerID;
  return {
    name: node.metadata?.name ?? "",
    ...(providerID ? { providerID } : {}),
    addresses: (node.status?.addresses ?? []).map(({ type, address }) => ({ type, address })),
    ...(zone ? { zone } : {}),
    labels: { ...labels },
  };
}

/** The node as a load balancer sees it, or `undefined` when it is not eligible. */
export function eligibleNodeSpec(node: V1Node | undefined): NodeSpec | undefined {
  return node && isNodeEligible(node) ? toNodeSpec(node) : undefined;
}

/** Every eligible node, sorted by name (the order {@link LoadBalancerSpec.nodes} promises). */
export function eligibleNodeSpecs(nodes: Iterable<V1Node>): NodeSpec[] {
  const specs: NodeSpec[] = [];
  for (const node of nodes) {
    const spec = eligibleNodeSpec(node);
    if (spec) specs.push(spec);
  }
  return specs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
