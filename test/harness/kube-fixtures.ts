/**
 * The seed scenario as Kubernetes objects: three Nodes (node-1..3 at 192.168.1.2, .3, .4) and the
 * NodePort Service `default/myapp-service` (port 80 -> targetPort 80, nodePort 30008). Builders return
 * plain objects; tests create or tweak them.
 *
 * @module
 */
import type { CoreV1Api, V1Node, V1Service } from "@kubernetes/client-node";

/** The Service's selector in the seed scenario. */
export const SEED_SELECTOR = Object.freeze({ app: "myapp", type: "myapp-front" });
export const SEED_NODE_PORT = 30008;
export const SEED_SERVICE_PORT = 80;
export const SEED_NODE_IPS = Object.freeze(["192.168.1.2", "192.168.1.3", "192.168.1.4"]);

/** Where a Node comes from: a seeded instance (see `seedAwsNetwork`) or the defaults below. */
export interface SeedNodeSource {
  readonly nodeName: string;
  readonly privateIp: string;
  readonly zone: string;
  /** Omit for a Node without `spec.providerID`. */
  readonly providerID?: string;
}

const DEFAULT_ZONE = "us-east-1a";

/**
 * The seed scenario's node sources: node-1..3 at 192.168.1.2-.4 in `us-east-1a`, with AWS-shaped
 * providerIDs whose instance ids are placeholders (use `seedAwsNetwork`'s instances for real ones).
 */
export const SEED_NODE_SOURCES: readonly SeedNodeSource[] = Object.freeze(
  SEED_NODE_IPS.map((privateIp, index) => ({
    nodeName: `node-${index + 1}`,
    privateIp,
    zone: DEFAULT_ZONE,
    providerID: `aws:///${DEFAULT_ZONE}/i-${String(index + 1).padStart(17, "0")}`,
  })),
);

/** A Ready Node with an InternalIP, a Hostname address and the well-known topology labels. */
export function newNode(source: SeedNodeSource): V1Node {
  const region = source.zone.replace(/[a-z]$/, "");
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: source.nodeName,
      labels: {
        "kubernetes.io/hostname": source.nodeName,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": source.zone,
        "topology.kubernetes.io/region": region,
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
          message: "seeded by the test harness",
          lastHeartbeatTime: new Date(),
          lastTransitionTime: new Date(),
        },
      ],
    },
  };
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
}

/** `default/myapp-service`: TCP port 80 -> targetPort 80 on nodePort 30008, selector {app: myapp, type: myapp-front}. */
export function seedService(options: SeedServiceOptions = {}): V1Service {
  const nodePort = options.nodePort === undefined ? SEED_NODE_PORT : options.nodePort;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: options.name ?? "myapp-service", namespace: options.namespace ?? "default" },
    spec: {
      type: options.type ?? "NodePort",
      selector: { ...SEED_SELECTOR },
      ports: [
        {
          protocol: "TCP",
          port: SEED_SERVICE_PORT,
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
 * would report, and is written separately so it holds whatever the apiserver does on create.
 */
export async function createNodes(core: CoreV1Api, nodes: readonly V1Node[]): Promise<V1Node[]> {
  const created: V1Node[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name as string;
    const fresh = await core.createNode({ body: node });
    const withStatus = await core.replaceNodeStatus({
      name,
      body: { ...fresh, status: node.status ?? {} },
    });
    created.push(withStatus);
  }
  return created;
}
