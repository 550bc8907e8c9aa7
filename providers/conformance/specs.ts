/**
 * Spec builders for the conformance suite and for any provider's own tests. Every spec they return is
 * deeply frozen, so a provider that writes to its input fails loudly (the contract says inputs are
 * read-only).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { ipFamilyOfAddress } from "../rules/ip-families.ts";
import type {
  HealthCheckSpec,
  IPFamily,
  IPFamilyPolicy,
  ListenerSpec,
  LoadBalancerRef,
  LoadBalancerSpec,
  NodeSpec,
  SessionAffinitySpec,
} from "../types.ts";

/** Namespace the suite's Services live in unless told otherwise. */
export const CONFORMANCE_NAMESPACE = "lbp-conformance";

/** What {@link conformanceSpec} needs; everything but the identity and nodes has a default. */
export interface ConformanceSpecInput {
  readonly clusterName: string;
  /** Default {@link CONFORMANCE_NAMESPACE}. */
  readonly namespace?: string;
  readonly name: string;
  /** Default: a UUID derived from cluster, namespace and name. */
  readonly uid?: string;
  /** Default: the seed scenario's single port, 80/TCP to nodePort 30008. */
  readonly listeners?: readonly ListenerSpec[];
  /** Sorted by name in the spec, as the controller sorts them. */
  readonly nodes: readonly NodeSpec[];
  /** Default `Cluster`, with the matching health check. */
  readonly externalTrafficPolicy?: "Cluster" | "Local";
  /** Default: TCP on the traffic port for `Cluster`; HTTP `/healthz` on 32000 for `Local`. */
  readonly healthCheck?: HealthCheckSpec;
  readonly sourceRanges?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  /** Default: absent (IPv4). */
  readonly ipFamilies?: readonly IPFamily[];
  readonly ipFamilyPolicy?: IPFamilyPolicy;
  readonly sessionAffinity?: SessionAffinitySpec;
  readonly loadBalancerIP?: string;
}

/** The seed scenario's port: 80/TCP, forwarded to nodePort 30008. */
export const SEED_LISTENER: ListenerSpec = Object.freeze({ name: "", port: 80, protocol: "TCP", nodePort: 30008 });

/** A listener spec; `name` defaults to the protocol and port, e.g. `tcp-80`. */
export function listener(
  port: number,
  nodePort: number,
  protocol: ListenerSpec["protocol"] = "TCP",
  name = `${protocol.toLowerCase()}-${port}`,
): ListenerSpec {
  return Object.freeze({ name, port, protocol, nodePort });
}

/** A complete, frozen {@link LoadBalancerSpec}. */
export function conformanceSpec(input: ConformanceSpecInput): LoadBalancerSpec {
  const namespace = input.namespace ?? CONFORMANCE_NAMESPACE;
  const policy = input.externalTrafficPolicy ?? "Cluster";
  const healthCheck: HealthCheckSpec =
    input.healthCheck ??
    (policy === "Local"
      ? { kind: "http", protocol: "HTTP", port: 32000, path: "/healthz" }
      : { kind: "traffic-port", protocol: "TCP" });
  return deepFreeze({
    clusterName: input.clusterName,
    service: { namespace, name: input.name, uid: input.uid ?? uidFor(input.clusterName, namespace, input.name) },
    listeners: (input.listeners ?? [SEED_LISTENER]).map((l) => ({ ...l })),
    nodes: [...input.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(copyNode),
    healthCheck: { ...healthCheck },
    externalTrafficPolicy: policy,
    sourceRanges: [...(input.sourceRanges ?? [])],
    annotations: { ...(input.annotations ?? {}) },
    ...(input.ipFamilies === undefined ? {} : { ipFamilies: [...input.ipFamilies] }),
    ...(input.ipFamilyPolicy === undefined ? {} : { ipFamilyPolicy: input.ipFamilyPolicy }),
    ...(input.sessionAffinity === undefined ? {} : { sessionAffinity: { ...input.sessionAffinity } }),
    ...(input.loadBalancerIP === undefined ? {} : { loadBalancerIP: input.loadBalancerIP }),
  });
}

/** The ref of a spec, without the spec's other fields. */
export function refOf(spec: LoadBalancerRef): LoadBalancerRef {
  return { clusterName: spec.clusterName, service: { ...spec.service } };
}

/**
 * `count` nodes named `node-1`, `node-2`, ... with IPv4 InternalIPs from the seed scenario's
 * 192.168.1.2 upwards and IPv6 InternalIPs from fd00:1::2 upwards (dual-stack nodes), spread over three
 * zones. For providers whose targets need no real machines.
 */
export function exampleNodes(count = 5): NodeSpec[] {
  if (!Number.isInteger(count) || count < 0 || count > 250) throw new RangeError("count must be from 0 to 250");
  const zones = ["zone-a", "zone-b", "zone-c"];
  return Array.from({ length: count }, (_, i) => {
    const name = `node-${i + 1}`;
    const zone = zones[i % zones.length] as string;
    return deepFreeze({
      name,
      providerID: `fake:///${zone}/${name}`,
      addresses: [
        { type: "InternalIP", address: `192.168.1.${i + 2}` },
        { type: "InternalIP", address: `fd00:1::${(i + 2).toString(16)}` },
        { type: "Hostname", address: name },
      ],
      zone,
      labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone },
    });
  });
}

/** `node` with its InternalIP of `address`'s family replaced by `address` (first, as the primary). */
export function withInternalIP(node: NodeSpec, address: string): NodeSpec {
  const family = ipFamilyOfAddress(address);
  const others = node.addresses.filter((a) => a.type !== "InternalIP" || ipFamilyOfAddress(a.address) !== family);
  return deepFreeze({ ...copyNode(node), addresses: [{ type: "InternalIP", address }, ...others] });
}

function copyNode(node: NodeSpec): NodeSpec {
  return {
    ...node,
    addresses: node.addresses.map((a) => ({ ...a })),
    labels: { ...node.labels },
  };
}

function uidFor(clusterName: string, namespace: string, name: string): string {
  const hex = createHash("sha256")
    .update(JSON.stringify([clusterName, namespace, name]))
    .digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
