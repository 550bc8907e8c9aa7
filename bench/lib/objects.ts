/**
 * The Kubernetes objects benchmarks create: Nodes shaped like the seed scenario's (reusing the test
 * harness's pure builder, which does not load the test runner), and LoadBalancer Services whose
 * NodePorts the apiserver allocates.
 *
 * @module
 */
import type { V1Node, V1Service } from "@kubernetes/client-node";
import { newNode } from "../../test/harness/kube-fixtures.ts";

/** Namespace every benchmark Service lives in. */
export const BENCH_NAMESPACE = "bench";

/** `bench-node-<index>` (0-based) with a unique InternalIP in 10.200.0.0/16 and an AWS-shaped providerID. */
export function benchNode(index: number): V1Node {
  const zone = `us-east-1${"abc"[index % 3]}`;
  return newNode({
    nodeName: `bench-node-${String(index).padStart(5, "0")}`,
    privateIp: `10.200.${Math.floor(index / 250)}.${(index % 250) + 2}`,
    zone,
    providerID: `aws:///${zone}/i-${index.toString(16).padStart(17, "0")}`,
  });
}

export interface BenchServiceOptions {
  /** Service ports, each getting its own apiserver-allocated NodePort. Default 1 (port 80). */
  readonly ports?: number;
}

/** `bench/lb-<index>`: a class-less LoadBalancer Service; NodePorts are left to the apiserver. */
export function benchService(index: number, options: BenchServiceOptions = {}): V1Service {
  const ports = options.ports ?? 1;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace: BENCH_NAMESPACE, name: benchServiceName(index) },
    spec: {
      type: "LoadBalancer",
      selector: { app: `bench-${index}` },
      ports: Array.from({ length: ports }, (_, port) => ({
        name: `p${port}`,
        protocol: "TCP",
        port: 80 + port,
        targetPort: 8080 + port,
      })),
    },
  };
}

export function benchServiceName(index: number): string {
  return `lb-${String(index).padStart(5, "0")}`;
}
