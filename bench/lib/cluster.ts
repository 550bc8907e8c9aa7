/**
 * A real kube-apiserver + etcd for a benchmark (the embedded control plane the integration tests use),
 * made roomy enough for thousands of Services, and bulk creation of the benchmark's Nodes and Services.
 *
 * The embedded apiserver allocates ClusterIPs from a /24, which holds 253 Services. Kubernetes' own
 * answer to a full Service range is an extra `ServiceCIDR` object (networking.k8s.io/v1): the
 * apiserver's allocator uses every ServiceCIDR, so benchmarks add a /16 instead of changing how the
 * control plane is launched.
 *
 * @module
 */
import {
  CoreV1Api,
  type KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
  type V1Service,
} from "@kubernetes/client-node";
import { type ControlPlane, type ServiceRanges, startControlPlane } from "../../sandbox/control-plane.ts";
import { mapConcurrent, pollUntil } from "./concurrency.ts";
import { reuseOneConnectionPool } from "./connection-reuse.ts";
import { BENCH_NAMESPACE, type BenchServiceOptions, benchNode, benchService } from "./objects.ts";

/**
 * Ranges for 10,000 LoadBalancer Services and more: Kubernetes' default NodePort range holds 2,768
 * (each such Service takes one NodePort per port), so the scale scenarios start the apiserver with
 * 20,000 NodePorts and a /16 of ClusterIPs.
 */
export const WIDE_SERVICE_RANGES: ServiceRanges = { nodePorts: "30000-49999", clusterIPs: "10.0.0.0/16" };

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Extra ClusterIP range: 65,534 addresses, clear of the control plane's own 10.0.0.0/24. */
export const EXTRA_SERVICE_CIDR = "10.64.0.0/16";

/** In-flight API calls while creating objects: enough to keep the apiserver busy, not to swamp 2 cores. */
const CREATE_CONCURRENCY = 8;

export interface BenchCluster {
  readonly controlPlane: ControlPlane;
  /**
   * The harness's own cluster-admin client (creating objects, watching for addresses). It shares one
   * connection pool, so setup is quick and takes little CPU from the controller being measured.
   */
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  /**
   * A fresh cluster-admin client for the controller, as `lb-provisioner run` would build it; with
   * `reuseConnections` patched by {@link reuseOneConnectionPool} (a what-if, see there).
   */
  controllerKubeConfig(reuseConnections: boolean): KubeConfig;
  /** A cluster-admin kubeconfig file, for a controller process. */
  readonly kubeconfigPath: string;
  stop(): Promise<void>;
}

/** Starts the control plane, adds {@link EXTRA_SERVICE_CIDR} and creates the `bench` namespace. */
export async function startBenchCluster(
  log: (line: string) => void,
  options: { readonly serviceRanges?: ServiceRanges } = {},
): Promise<BenchCluster> {
  const started = performance.now();
  const controlPlane = await startControlPlane(options.serviceRanges ? { serviceRanges: options.serviceRanges } : {});
  try {
    const kubeConfig = reuseOneConnectionPool(controlPlane.kubeConfig("admin"));
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await kubeConfig.makeApiClient(NetworkingV1Api).createServiceCIDR({
      body: {
        apiVersion: "networking.k8s.io/v1",
        kind: "ServiceCIDR",
        metadata: { name: "bench-extra" },
        spec: { cidrs: [EXTRA_SERVICE_CIDR] },
      },
    });
    await core.createNamespace({ body: { metadata: { name: BENCH_NAMESPACE } } });
    log(`control plane ready at ${controlPlane.server} in ${Math.round(performance.now() - started)} ms`);
    return {
      controlPlane,
      kubeConfig,
      core,
      kubeconfigPath: controlPlane.kubeconfigPath("admin"),
      controllerKubeConfig: (reuseConnections) => {
        const fresh = controlPlane.kubeConfig("admin");
        return reuseConnections ? reuseOneConnectionPool(fresh) : fresh;
      },
      stop: () => controlPlane.stop(),
    };
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
}

/**
 * Creates Nodes `0 .. count-1` ({@link benchNode}). A Node's status is written on create here; if an
 * apiserver ever drops it, the status subresource is written as a kubelet would.
 */
export async function createBenchNodes(
  core: CoreV1Api,
  count: number,
  first = 0,
  build: (index: number) => V1Node = benchNode,
): Promise<V1Node[]> {
  const indices = Array.from({ length: count }, (_, i) => first + i);
  return mapConcurrent(indices, CREATE_CONCURRENCY, async (index) => {
    const node = build(index);
    const created = await core.createNode({ body: node });
    if ((created.status?.addresses?.length ?? 0) > 0) return created;
    return core.replaceNodeStatus({
      name: created.metadata?.name ?? "",
      body: { ...created, status: node.status ?? {} },
    });
  });
}

/** Creates Services `first .. first+count-1` ({@link benchService}) and returns them as created. */
export function createBenchServices(
  core: CoreV1Api,
  count: number,
  options: BenchServiceOptions & { readonly first?: number } = {},
): Promise<V1Service[]> {
  const first = options.first ?? 0;
  const indices = Array.from({ length: count }, (_, i) => first + i);
  return mapConcurrent(indices, CREATE_CONCURRENCY, (index) =>
    core.createNamespacedService({ namespace: BENCH_NAMESPACE, body: benchService(index, options) }),
  );
}

/** Names of every Service in the benchmark namespace. */
async function benchServiceNames(core: CoreV1Api): Promise<string[]> {
  const list = await core.listNamespacedService({ namespace: BENCH_NAMESPACE });
  return list.items.map((service) => service.metadata?.name ?? "").filter(Boolean);
}

/**
 * Undoes what a controller did to the benchmark's Services, so the next controller finds them as
 * created: no finalizer, no load balancer status. Their NodePorts and ClusterIPs stay. Run with no
 * controller running. Events the controllers wrote are deleted as well.
 */
export async function unprovisionBenchServices(core: CoreV1Api): Promise<void> {
  const names = await benchServiceNames(core);
  await mapConcurrent(names, CREATE_CONCURRENCY, async (name) => {
    await core.patchNamespacedService(
      { name, namespace: BENCH_NAMESPACE, body: { metadata: { finalizers: null } } },
      MERGE_PATCH,
    );
    await core.patchNamespacedServiceStatus(
      { name, namespace: BENCH_NAMESPACE, body: { status: { loadBalancer: null } } },
      MERGE_PATCH,
    );
  });
  await core.deleteCollectionNamespacedEvent({ namespace: BENCH_NAMESPACE });
}

/**
 * Deletes every Service (and Event) of the benchmark namespace, taking off finalizers that no
 * controller is running to remove, and waits until they are gone. Run with no controller running.
 */
export async function deleteBenchServices(core: CoreV1Api): Promise<void> {
  await core.deleteCollectionNamespacedService({ namespace: BENCH_NAMESPACE });
  await mapConcurrent(await benchServiceNames(core), CREATE_CONCURRENCY, (name) =>
    core
      .patchNamespacedService(
        { name, namespace: BENCH_NAMESPACE, body: { metadata: { finalizers: null } } },
        MERGE_PATCH,
      )
      .catch((error: unknown) => {
        // Gone already: it had no finalizer.
        if ((error as { code?: number }).code !== 404) throw error;
      }),
  );
  await pollUntil("the benchmark's Services to be deleted", async () => (await benchServiceNames(core)).length === 0, {
    timeoutMs: 300_000,
    intervalMs: 200,
  });
  await core.deleteCollectionNamespacedEvent({ namespace: BENCH_NAMESPACE });
}
