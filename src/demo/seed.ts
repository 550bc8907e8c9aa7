/**
 * The seed scenario as Kubernetes objects: nodes `node-1`... at 192.168.1.2... and the Service
 * `default/myapp-service` (port 80 -> targetPort 80, nodePort 30008, selector app=myapp,
 * type=myapp-front), first as NodePort. Pure builders; the demo and tests create what they return.
 *
 * @module
 */
import type { V1Node, V1Service } from "@kubernetes/client-node";

export const SEED_NAMESPACE = "default";
export const SEED_SERVICE_NAME = "myapp-service";
export const SEED_PORT = 80;
export const SEED_NODE_PORT = 30008;
export const SEED_SELECTOR: Readonly<Record<string, string>> = { app: "myapp", type: "myapp-front" };

/** Where a node stands in the cloud, when a real provider backs it with an instance. */
export interface NodeBacking {
  readonly providerID: string;
  readonly zone: string;
  readonly privateIp: string;
}

/** `node-<index>` (1-based) with InternalIP `192.168.1.<index + 1>`, or the backing instance's address. */
export function seedNode(index: number, backing?: NodeBacking): V1Node {
  const name = `node-${index}`;
  const address = backing?.privateIp ?? seedNodeAddress(index);
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name,
        ...(backing === undefined ? {} : { "topology.kubernetes.io/zone": backing.zone }),
      },
    },
    spec: backing === undefined ? {} : { providerID: backing.providerID },
    status: {
      addresses: [
        { type: "InternalIP", address },
        { type: "Hostname", address: name },
      ],
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

export function seedNodeAddress(index: number): string {
  return `192.168.1.${index + 1}`;
}

/** The seed Service, as a NodePort Service; the demo switches it to LoadBalancer later. */
export function seedService(): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace: SEED_NAMESPACE, name: SEED_SERVICE_NAME },
    spec: {
      type: "NodePort",
      selector: { ...SEED_SELECTOR },
      ports: [{ port: SEED_PORT, targetPort: SEED_PORT, nodePort: SEED_NODE_PORT, protocol: "TCP" }],
    },
  };
}
