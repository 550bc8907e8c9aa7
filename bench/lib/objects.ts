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
  readonly annotations?: Readonly<Record<string, string>>;
}

/** `bench/lb-<index>`: a class-less LoadBalancer Service; NodePorts are left to the apiserver. */
export function benchService(index: number, options: BenchServiceOptions = {}): V1Service {
  const ports = options.ports ?? 1;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      namespace: BENCH_NAMESPACE,
      name: benchServiceName(index),
      ...(options.annotations ? { annotations: { ...options.annotations } } : {}),
    },
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

/** Container images a node of a typical cluster has pulled (name, size in bytes). */
const NODE_IMAGES: ReadonlyArray<readonly [string, number]> = [
  ["registry.k8s.io/kube-proxy:v1.37.2", 31_500_000],
  ["registry.k8s.io/pause:3.10", 320_000],
  ["registry.k8s.io/coredns/coredns:v1.12.1", 22_400_000],
  ["registry.k8s.io/metrics-server/metrics-server:v0.8.0", 19_100_000],
  ["public.ecr.aws/eks/aws-load-balancer-controller:v2.13.3", 40_200_000],
  ["public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.45.0", 72_800_000],
  ["public.ecr.aws/csi-components/csi-node-driver-registrar:v2.14.0", 10_600_000],
  ["public.ecr.aws/csi-components/livenessprobe:v2.16.0", 9_700_000],
  ["quay.io/cilium/cilium:v1.18.1", 211_000_000],
  ["quay.io/cilium/operator-generic:v1.18.1", 33_900_000],
  ["quay.io/prometheus/node-exporter:v1.9.1", 12_400_000],
  ["docker.io/grafana/alloy:v1.10.0", 151_000_000],
  ["docker.io/fluent/fluent-bit:4.0.3", 38_700_000],
  ["docker.io/library/nginx:1.29.0", 72_200_000],
  ["docker.io/library/redis:8.0.3", 52_600_000],
  ["docker.io/library/postgres:17.5", 158_000_000],
  ["ghcr.io/example/payments-api:3.14.2", 88_400_000],
  ["ghcr.io/example/orders-worker:2.7.0", 64_100_000],
  ["ghcr.io/example/web-frontend:5.1.9", 47_300_000],
  ["ghcr.io/example/search-indexer:1.22.4", 121_000_000],
];

/** A stable fake digest for `name` (hex, 64 characters): real nodes list images by digest too. */
function digestOf(name: string): string {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619) >>> 0;
  return hash.toString(16).padStart(8, "0").repeat(8);
}

/**
 * {@link benchNode} as a kubelet on a cloud instance would report it: well-known and provider
 * labels, kubelet annotations, a pod CIDR, InternalIP/InternalDNS/Hostname addresses, capacity and
 * allocatable, the four kubelet conditions, node info and the images pulled. About 8 KB of JSON, like
 * a Node of a production cluster, so caches and decoding cost what they would there.
 */
export function realisticNode(index: number): V1Node {
  const base = benchNode(index);
  const name = base.metadata?.name ?? "";
  const ip = base.status?.addresses?.find((address) => address.type === "InternalIP")?.address ?? "";
  const zone = base.metadata?.labels?.["topology.kubernetes.io/zone"] ?? "us-east-1a";
  const dns = `ip-${ip.replaceAll(".", "-")}.ec2.internal`;
  const now = new Date();
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const resources = (memoryKi: number, pods: number) => ({
    cpu: "4",
    "ephemeral-storage": "104845292Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: `${memoryKi}Ki`,
    pods: String(pods),
  });
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        ...base.metadata?.labels,
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": "m6i.xlarge",
        "beta.kubernetes.io/os": "linux",
        "failure-domain.beta.kubernetes.io/region": "us-east-1",
        "failure-domain.beta.kubernetes.io/zone": zone,
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": dns,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "m6i.xlarge",
        "topology.ebs.csi.aws.com/zone": zone,
        "topology.k8s.aws/zone-id": `use1-az${(index % 3) + 1}`,
        "eks.amazonaws.com/capacityType": "ON_DEMAND",
        "eks.amazonaws.com/nodegroup": "general-purpose",
        "eks.amazonaws.com/nodegroup-image": "ami-0a1b2c3d4e5f67890",
        "eks.amazonaws.com/sourceLaunchTemplateId": "lt-0123456789abcdef0",
        "eks.amazonaws.com/sourceLaunchTemplateVersion": "7",
        "k8s.io/cloud-provider-aws": digestOf("bench").slice(0, 32),
      },
      annotations: {
        "alpha.kubernetes.io/provided-node-ip": ip,
        "csi.volume.kubernetes.io/nodeid": JSON.stringify({
          "ebs.csi.aws.com": base.spec?.providerID?.split("/").at(-1),
        }),
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: {
      ...base.spec,
      podCIDR: `10.${100 + Math.floor(index / 256)}.${index % 256}.0/24`,
      podCIDRs: [`10.${100 + Math.floor(index / 256)}.${index % 256}.0/24`],
    },
    status: {
      addresses: [
        { type: "InternalIP", address: ip },
        { type: "InternalDNS", address: dns },
        { type: "Hostname", address: dns },
      ],
      capacity: resources(16_093_492, 58),
      allocatable: resources(15_078_708, 58),
      conditions: [
        condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: "amd64",
        bootID: digestOf(`boot-${name}`).slice(0, 36),
        containerRuntimeVersion: "containerd://2.1.4",
        kernelVersion: "6.12.40-63.114.amzn2023.x86_64",
        kubeProxyVersion: "",
        kubeletVersion: "v1.37.2",
        machineID: digestOf(`machine-${name}`).slice(0, 32),
        operatingSystem: "linux",
        osImage: "Amazon Linux 2023.8.20250818",
        systemUUID: digestOf(`uuid-${name}`).slice(0, 32),
      },
      images: NODE_IMAGES.map(([image, sizeBytes]) => ({
        names: [`${image.split(":")[0]}@sha256:${digestOf(image)}`, image],
        sizeBytes,
      })),
    },
  };
}
