import type { V1Node, V1Service } from "@kubernetes/client-node";

export type ServiceTweak = (service: V1Service) => void;
export type NodeTweak = (node: V1Node) => void;

/** The seed Service: port 80 -> targetPort 80, nodePort 30008, type LoadBalancer unless tweaked. */
export function newService(name: string, ...tweaks: ServiceTweak[]): V1Service {
  const service: V1Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace: "default", name, uid: `uid-${name}`, resourceVersion: "1" },
    spec: {
      type: "LoadBalancer",
      selector: { app: "myapp", type: "myapp-front" },
      ports: [{ name: "", protocol: "TCP", port: 80, targetPort: 80, nodePort: 30008 }],
      externalTrafficPolicy: "Cluster",
    },
    status: {},
  };
  for (const tweak of tweaks) tweak(service);
  return service;
}

export const tweakType =
  (type: string): ServiceTweak =>
  (service) => {
    service.spec = { ...service.spec, type };
  };
export const tweakClass =
  (loadBalancerClass: string): ServiceTweak =>
  (service) => {
    service.spec = { ...service.spec, loadBalancerClass };
  };
export const tweakFinalizers =
  (...finalizers: string[]): ServiceTweak =>
  (service) => {
    service.metadata = { ...service.metadata, finalizers };
  };
export const tweakDeleting: ServiceTweak = (service) => {
  service.metadata = { ...service.metadata, deletionTimestamp: new Date("2026-01-01T00:00:00Z") };
};
export const tweakAnnotations =
  (annotations: Record<string, string>): ServiceTweak =>
  (service) => {
    service.metadata = { ...service.metadata, annotations };
  };
export const tweakSpec =
  (patch: Partial<NonNullable<V1Service["spec"]>>): ServiceTweak =>
  (service) => {
    service.spec = { ...service.spec, ...patch };
  };

export function newNode(name: string, ip: string, ...tweaks: NodeTweak[]): V1Node {
  const node: V1Node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name }, resourceVersion: "1" },
    spec: {},
    status: { addresses: [{ type: "InternalIP", address: ip }] },
  };
  for (const tweak of tweaks) tweak(node);
  return node;
}

export const tweakLabel =
  (key: string, value: string): NodeTweak =>
  (node) => {
    node.metadata = { ...node.metadata, labels: { ...node.metadata?.labels, [key]: value } };
  };
export const tweakTaint =
  (key: string): NodeTweak =>
  (node) => {
    node.spec = { ...node.spec, taints: [...(node.spec?.taints ?? []), { key, effect: "NoSchedule" }] };
  };
export const tweakNodeDeleting: NodeTweak = (node) => {
  node.metadata = { ...node.metadata, deletionTimestamp: new Date("2026-01-01T00:00:00Z") };
};
export const tweakProviderID =
  (providerID: string): NodeTweak =>
  (node) => {
    node.spec = { ...node.spec, providerID };
  };
