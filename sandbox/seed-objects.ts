/**
 * The seed scenario as Kubernetes objects: Nodes `node-1`, `node-2`, ... at 192.168.1.2, .3, ... and the
 * NodePort Service `default/myapp-service` (port 80 -> targetPort 80, nodePort 30008, selector
 * {app: myapp, type: myapp-front}). Builders are pure and return plain objects that the demo and the
 * tests create or tweak; `createNodes` writes Nodes as a kubelet would.
 *
 * @module
 */
import type { CoreV1Api, V1Node, V1Service } from "@kubernetes/client-node";

export const SEED_NAMESPACE = "default";
export const SEED_SERVICE_NAME = "myapp-service";
/** The Service's selector in the seed scenario. */
export const SEED_SELECTOR = Object.freeze({ app: "myapp", type: "myapp-front" });
export const SEED_NODE_PORT = 30008;
export const SEED_SERVICE_PORT = 80;

/** Where a Node comes from: a seeded instance (see `seedAwsNetwork`), a seed node, or a test's own. */
export interface SeedNodeSource {
  readonly nodeName: string;
  readonly privateIp: string;
  /** Omit for a Node without topology labels (no cloud says where it stands). */
  readonly zone?: string;
  /** Omit for a Node without `spec.providerID`. */
  readonly providerID?: string;
}

/** `node-<index>` (1-based) at 192.168.1.<index + 1>, with nothing a cloud would add. */
export function seedNodeSource(index: number): SeedNodeSource {
  return { nodeName: `node-${index}`, privateIp: `192.168.1.${index + 1}` };
}

const SEED_NODE_COUNT = 3;
const DEFAULT_ZONE = "us-east-1a";

export const SEED_NODE_IPS: readonly string[] = Object.freeze(
  Array.from({ length: SEED_NODE_COUNT }, (_, offset) => seedNodeSource(offset + 1).privateIp),
);

/**
 * The seed scenario's node sources: node-1..3 at 192.168.1.2-.4 in `us-east-1a`, with AWS-shaped
 * providerIDs whose instance ids are placeholders (use `seedAwsNetwork`'s instances for real ones).
 */
export const SEED_NODE_SOURCES: readonly SeedNodeSource[] = Object.freeze(
  Array.from({ length: SEED_NODE_COUNT }, (_, offset) => ({
    ...seedNodeSource(offset + 1),
    zone: DEFAULT_ZONE,
    providerID: `aws:///${DEFAULT_ZONE}/i-${String(offset + 1).padStart(17, "0")}`,
  })),
);

/** A Ready Node with an InternalIP, a Hostname address and, when it has a zone, the topology labels. */
export function newNode(source: SeedNodeSource): V1Node {
  const now = new Date();
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: source.nodeName,
      labels: {
        "kubernetes.io/hostname": source.nodeName,
        "kubernetes.io/os": "linux",
        ...(source.zone === undefined ? {} : topologyLabels(source.zone)),
      },
    },
    spec: source.providerID ? { providerID: source.providerID } : {},
    status: {
      addresses: [
        { type: "InternalIP", address: source.privateIp },
        { type: "Hostname", address: source.nodeName },
      ],
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          message: "seed scenario Node; no kubelet reports for it",
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
    },
  };
}

function topologyLabels(zone: string): Record<string, string> {
  // AWS zone names are the region plus one letter.
  return { "topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": zone.replace(/[a-z]$/, "") };
}

/** The seed scenario's three Nodes, or one Node per given source (e.g. seeded AWS instances). */
export function seedNodes(sources: readonly SeedNodeSource[] = SEED_NODE_SOURCES): V1Node[] {
  return sources.map(newNode);
}

/** Variations of the seed Service. */
export interface SeedServiceOptions {
  readonly name?: string;
  readonly namespace?: string;
  /** Default `NodePort`, as in the seed scenario; `LoadBalancer` asks for a load balancer. */
  readonly type?: "NodePort" | "LoadBalancer";
  /** Default 30008; `null` lets the apiserver allocate one. */
  readonly nodePort?: number | null;
  readonly loadBalancerClass?: string;
  /** Default 80 (the load balancer's port; targetPort stays 80). */
  readonly port?: number;
}

/** `default/myapp-service`: TCP port 80 -> targetPort 80 on nodePort 30008, selector {app: myapp, type: myapp-front}. */
export function seedService(options: SeedServiceOptions = {}): V1Service {
  const nodePort = options.nodePort === undefined ? SEED_NODE_PORT : options.nodePort;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: options.name ?? SEED_SERVICE_NAME, namespace: options.namespace ?? SEED_NAMESPACE },
    spec: {
      type: options.type ?? "NodePort",
      selector: { ...SEED_SELECTOR },
      ports: [
        {
          protocol: "TCP",
          port: options.port ?? SEED_SERVICE_PORT,
          targetPort: SEED_SERVICE_PORT,
          ...(nodePort === null ? {} : { nodePort }),
        },
      ],
      ...(options.loadBalancerClass ? { loadBalancerClass: options.loadBalancerClass } : {}),
    },
  };
}

/**
 * Creates Nodes, then writes their status (addresses, Ready): the status subresource is what a kubelet
 * would report, and the API server may drop status on create.
 */
export async function createNodes(core: CoreV1Api, nodes: readonly V1Node[]): Promise<V1Node[]> {
  const created: V1Node[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name ?? "";
    const fresh = await core.createNode({ body: node });
    const withStatus = await core.replaceNodeStatus({
      name,
      body: { ...fresh, status: node.status ?? {} },
    });
    created.push(withStatus);
  }
  return created;
}
