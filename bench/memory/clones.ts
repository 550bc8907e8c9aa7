/**
 * Services for the stub apiserver, cloned from one Service a real apiserver served after the
 * controller converged it (finalizer, status, managedFields and all), so each clone weighs what a real
 * one weighs in the controller's cache. Clones differ where real Services differ: name, uid,
 * resourceVersion, ClusterIP, NodePorts, selector, and the address the fake provider gives them.
 *
 * NodePorts repeat every 2,768 Services (the real range cannot hold more); nothing in the controller or
 * the fake provider compares NodePorts across Services.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { KubernetesObject } from "@kubernetes/client-node";
import { fakeHostname } from "../../providers/fake/index.ts";
import { BENCH_NAMESPACE, benchServiceName } from "../lib/objects.ts";

const NODE_PORTS = 2768;

interface ServiceShape extends KubernetesObject {
  spec?: {
    clusterIP?: string;
    clusterIPs?: string[];
    selector?: Record<string, string>;
    ports?: Array<{ nodePort?: number }>;
  };
  status?: { loadBalancer?: { ingress?: Array<{ hostname?: string }> } };
}

/** `count` clones of `template` (a Service as JSON from the apiserver) for cluster `clusterName`. */
export function cloneServices(template: unknown, count: number, clusterName: string): KubernetesObject[] {
  const clones: KubernetesObject[] = [];
  let nodePort = 0;
  for (let index = 0; index < count; index++) {
    const service = structuredClone(template) as ServiceShape;
    const name = benchServiceName(index);
    service.metadata = {
      ...service.metadata,
      name,
      namespace: BENCH_NAMESPACE,
      uid: randomUUID(),
      resourceVersion: String(1_000 + index),
    };
    const clusterIP = `10.64.${index >> 8}.${index & 255}`;
    if (service.spec) {
      service.spec.clusterIP = clusterIP;
      service.spec.clusterIPs = [clusterIP];
      service.spec.selector = { app: `bench-${index}` };
      for (const port of service.spec.ports ?? []) port.nodePort = 30_000 + (nodePort++ % NODE_PORTS);
    }
    const ingress = service.status?.loadBalancer?.ingress?.[0];
    if (ingress) ingress.hostname = fakeHostname({ clusterName, service: { namespace: BENCH_NAMESPACE, name } });
    clones.push(service);
  }
  return clones;
}
