/**
 * The fake cloud's resources and the store that holds them.
 *
 * A load balancer owns its listeners and target groups, as in ELBv2 minus the ARNs. Target lists are
 * immutable sorted arrays of node names, shared between target groups whenever they have the same
 * members, so 10,000 load balancers over the same 1,000 nodes cost one array rather than 10,000.
 *
 * The records are mutable on purpose: out-of-band tests change them through
 * `FakeProvider.mutateOutOfBand` the way an operator would in a cloud console.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type {
  IPFamily,
  LoadBalancerRef,
  LoadBalancerStatus,
  ObservedHealthCheck,
  ObservedListener,
  ObservedLoadBalancer,
  SessionAffinitySpec,
} from "../types.ts";
import type { FakeScheme } from "./validation.ts";

/** Domain of every fake load balancer's hostname; `.invalid` can never resolve. */
export const FAKE_HOSTNAME_SUFFIX = ".lb.fake.invalid";

export type FakeProtocol = "TCP" | "UDP";

export interface FakeTargetGroup {
  /** `<listener port>-<protocol>-<nodePort>`: unique within its load balancer. */
  readonly id: string;
  readonly protocol: FakeProtocol;
  /** The nodePort every target receives traffic on. */
  readonly port: number;
  healthCheck: ObservedHealthCheck;
  /** Node names, sorted and unique. Replace the array; never mutate it (it may be shared). */
  targets: readonly string[];
}

export interface FakeListener {
  readonly port: number;
  readonly protocol: FakeProtocol;
  targetGroupId: string;
}

export interface FakeLoadBalancer {
  /** {@link refKey} of `ref`. */
  readonly key: string;
  readonly ref: LoadBalancerRef;
  readonly hostname: string;
  scheme: FakeScheme;
  sourceRanges: readonly string[];
  /** The families it serves clients on, primary first. */
  ipFamilies: readonly IPFamily[];
  sessionAffinity?: SessionAffinitySpec | undefined;
  /** The address `spec.loadBalancerIP` asked for; published instead of the hostname. */
  address?: string | undefined;
  /** Keyed by {@link listenerKey}. */
  readonly listeners: Map<string, FakeListener>;
  /** Keyed by {@link FakeTargetGroup.id}. */
  readonly targetGroups: Map<string, FakeTargetGroup>;
}

/** Stable identity of a ref; unambiguous because it is a JSON array. */
export function refKey(ref: LoadBalancerRef): string {
  return JSON.stringify([ref.clusterName, ref.service.namespace, ref.service.name]);
}

/** `namespace/name`, as the controller keys Services. */
export function serviceKeyOf(ref: LoadBalancerRef): string {
  return `${ref.service.namespace}/${ref.service.name}`;
}

export function listenerKey(port: number, protocol: string): string {
  return `${port}/${protocol}`;
}

export function targetGroupId(port: number, protocol: FakeProtocol, nodePort: number): string {
  return `${port}-${protocol.toLowerCase()}-${nodePort}`;
}

/** The address a ref always gets: a hash of cluster, namespace and name under {@link FAKE_HOSTNAME_SUFFIX}. */
export function fakeHostname(ref: LoadBalancerRef): string {
  return `${createHash("sha256").update(refKey(ref)).digest("hex").slice(0, 24)}${FAKE_HOSTNAME_SUFFIX}`;
}

/**
 * What a fake load balancer publishes: the address `spec.loadBalancerIP` asked for (a VIP, as a cloud's
 * static address is), else its hostname.
 */
export function fakeStatus(hostname: string, address: string | undefined): LoadBalancerStatus {
  return { ingress: [address === undefined ? { hostname } : { ip: address, ipMode: "VIP" }] };
}

/** Load balancers by ref key, with a per-cluster index so listing never scans other clusters. */
export class FakeCloudStore {
  readonly #byKey = new Map<string, FakeLoadBalancer>();
  readonly #keysByCluster = new Map<string, Set<string>>();

  get size(): number {
    return this.#byKey.size;
  }

  get(key: string): FakeLoadBalancer | undefined {
    return this.#byKey.get(key);
  }

  add(loadBalancer: FakeLoadBalancer): void {
    this.#byKey.set(loadBalancer.key, loadBalancer);
    const cluster = loadBalancer.ref.clusterName;
    let keys = this.#keysByCluster.get(cluster);
    if (keys === undefined) {
      keys = new Set();
      this.#keysByCluster.set(cluster, keys);
    }
    keys.add(loadBalancer.key);
  }

  delete(key: string): boolean {
    const loadBalancer = this.#byKey.get(key);
    if (loadBalancer === undefined) return false;
    this.#byKey.delete(key);
    const keys = this.#keysByCluster.get(loadBalancer.ref.clusterName);
    keys?.delete(key);
    if (keys?.size === 0) this.#keysByCluster.delete(loadBalancer.ref.clusterName);
    return true;
  }

  inCluster(clusterName: string): FakeLoadBalancer[] {
    const keys = this.#keysByCluster.get(clusterName);
    if (keys === undefined) return [];
    return [...keys].flatMap((key) => this.#byKey.get(key) ?? []);
  }
}

/** The neutral view of a fake load balancer; fresh objects, safe to hand out. */
export function observe(loadBalancer: FakeLoadBalancer): ObservedLoadBalancer {
  const listeners: ObservedListener[] = [...loadBalancer.listeners.values()]
    .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol))
    .map((listener) => {
      const group = loadBalancer.targetGroups.get(listener.targetGroupId);
      if (group === undefined) return { port: listener.port, protocol: listener.protocol, targetPort: 0, targets: [] };
      return {
        port: listener.port,
        protocol: listener.protocol,
        targetPort: group.port,
        targets: group.targets.map((node) => ({ id: node, port: group.port, node })),
        healthCheck: { ...group.healthCheck },
      };
    });
  return {
    ref: copyRef(loadBalancer.ref),
    status: fakeStatus(loadBalancer.hostname, loadBalancer.address),
    listeners,
    scheme: loadBalancer.scheme,
    sourceRanges: [...loadBalancer.sourceRanges],
    ipFamilies: [...loadBalancer.ipFamilies],
    ...(loadBalancer.sessionAffinity === undefined ? {} : { sessionAffinity: { ...loadBalancer.sessionAffinity } }),
    resources: {
      loadBalancer: loadBalancer.hostname.slice(0, -FAKE_HOSTNAME_SUFFIX.length),
      targetGroups: [...loadBalancer.targetGroups.keys()].sort().join(","),
    },
  };
}

export function copyRef(ref: LoadBalancerRef): LoadBalancerRef {
  const { namespace, name, uid } = ref.service;
  return {
    clusterName: ref.clusterName,
    service: uid === undefined ? { namespace, name } : { namespace, name, uid },
  };
}
