/**
 * The Service API on a real, dual-stack API server: a dual-stack Service gets a load balancer for both
 * families; the controller's condition can be waited on as `kubectl wait --for=condition=...` does (a
 * watch on the one Service), `True` for a good Service and `False` with its reason for a bad one; and
 * what other writers put in the status (an ingress entry's `ports`, a condition of their own) survives
 * every reconcile and the clean-up.
 */
import { CoreV1Api, type KubeConfig, type V1Condition, type V1Service, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOAD_BALANCER_CONDITION } from "../../src/controller/condition.ts";
import {
  createNodes,
  DUAL_STACK_SERVICE_RANGES,
  newNode,
  seedNodes,
  seedService,
  waitFor,
  withControlPlane,
} from "../harness/index.ts";
import {
  createNamespace,
  eventsFor,
  MERGE_PATCH,
  patchService,
  type RunningController,
  readService,
  reconcilesWithResult,
  refOf,
  startController,
  tearDownSuite,
} from "./controller-support.ts";

const controlPlane = withControlPlane({ serviceRanges: DUAL_STACK_SERVICE_RANGES });
let core: CoreV1Api;
let controller: RunningController;
let namespace: string;

beforeAll(async () => {
  core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  await createNodes(core, seedNodes());
  namespace = await createNamespace(core, "service-api");
  controller = await startController(controlPlane.kubeConfig());
});

afterAll(() => tearDownSuite(core, namespace, [controller]));

function loadBalancerService(name: string, spec: V1Service["spec"] = {}): V1Service {
  const base = seedService({ name, namespace, type: "LoadBalancer", nodePort: null });
  return { ...base, spec: { ...base.spec, ...spec } };
}

/**
 * What `kubectl wait --for=condition=<type>` does: watch the one Service (from its current version)
 * until its condition of `type` satisfies `until`, and return that condition.
 */
async function waitForCondition(
  kubeConfig: KubeConfig,
  name: string,
  until: (condition: V1Condition) => boolean,
  timeoutMs = 30_000,
): Promise<V1Condition> {
  const matching = (service: V1Service | undefined) =>
    service?.status?.conditions?.find((condition) => condition.type === LOAD_BALANCER_CONDITION && until(condition));
  const current = await readService(core, namespace, name);
  const already = matching(current);
  if (already !== undefined) return already;
  let request: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<V1Condition>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${LOAD_BALANCER_CONDITION} on ${namespace}/${name}`)),
        timeoutMs,
      );
      new Watch(kubeConfig)
        .watch(
          `/api/v1/namespaces/${namespace}/services`,
          { fieldSelector: `metadata.name=${name}`, resourceVersion: current.metadata?.resourceVersion },
          (phase, object: V1Service) => {
            const found = phase === "DELETED" ? undefined : matching(object);
            if (found !== undefined) resolve(found);
          },
          (error) => reject(error ?? new Error("the watch ended before the condition was met")),
        )
        .then((controller) => {
          request = controller;
        }, reject);
    });
  } finally {
    clearTimeout(timer);
    request?.abort();
  }
}

describe("a dual-stack API server", () => {
  it("gives a dual-stack Service a load balancer for both families, and the condition says so", async () => {
    const name = "dual-stack";
    await core.createNamespacedService({
      namespace,
      body: loadBalancerService(name, { ipFamilyPolicy: "RequireDualStack", ipFamilies: ["IPv4", "IPv6"] }),
    });
    const ready = await waitForCondition(controlPlane.kubeConfig(), name, (c) => c.status === "True");
    const service = await readService(core, namespace, name);
    // The API server allocated an address of each family: this cluster is dual-stack.
    expect(service.spec?.clusterIPs).toHaveLength(2);
    expect(ready).toMatchObject({
      status: "True",
      reason: "Ensured",
      message: "Ensured load balancer",
    });
    // The API server keeps no generation for Services, so the generation observed is 0, which it leaves out.
    expect(service.metadata?.generation).toBeUndefined();
    expect(ready.observedGeneration ?? 0).toBe(0);
    const observed = await controller.provider.fake.getLoadBalancer(refOf(namespace, name));
    expect(observed?.ipFamilies).toEqual(["IPv4", "IPv6"]);
    expect(service.status?.loadBalancer?.ingress).toEqual(observed?.status.ingress);
  });

  it("shows False with the reason and the Warning's message for a Service no load balancer can be built from", async () => {
    const name = "bad-protocol";
    await core.createNamespacedService({
      namespace,
      body: loadBalancerService(name, { ports: [{ name: "sctp", protocol: "SCTP", port: 9000 }] }),
    });
    const failed = await waitForCondition(controlPlane.kubeConfig(), name, (c) => c.status === "False");
    expect(failed.reason).toBe("InvalidConfiguration");
    expect(failed.message).toContain("spec.ports[0].protocol");
    const warning = (await eventsFor(core, namespace, name)).find((e) => e.reason === "SyncLoadBalancerFailed");
    expect(failed.message).toBe(warning?.message);
    expect((await readService(core, namespace, name)).status?.loadBalancer?.ingress ?? []).toEqual([]);

    // Fixed, it turns True.
    await patchService(core, namespace, name, { spec: { ports: [{ name: "sctp", protocol: "TCP", port: 9000 }] } });
    const fixed = await waitForCondition(controlPlane.kubeConfig(), name, (c) => c.status === "True");
    expect(fixed).toMatchObject({ reason: "Ensured", message: "Ensured load balancer" });
  });
});

describe("status written by others", () => {
  const name = "shared-status";
  const ports = [{ port: 80, protocol: "TCP", error: "ProbeFailing" }];
  const theirs = {
    type: "example.com/Audited",
    status: "True",
    reason: "Checked",
    message: "seen by an auditor",
    lastTransitionTime: new Date("2026-01-01T00:00:00Z"),
  };

  it("keeps an ingress entry's ports and another writer's condition through reconciles and clean-up", async () => {
    await core.createNamespacedService({ namespace, body: loadBalancerService(name) });
    await waitForCondition(controlPlane.kubeConfig(), name, (c) => c.status === "True");
    const published = (await readService(core, namespace, name)).status?.loadBalancer?.ingress ?? [];
    expect(published).toHaveLength(1);

    // Another client reports its port status on our entry and adds a condition of its own.
    await core.patchNamespacedServiceStatus(
      {
        namespace,
        name,
        body: { status: { loadBalancer: { ingress: [{ ...published[0], ports }] }, conditions: [theirs] } },
      },
      MERGE_PATCH,
    );

    // Reconciles that ensure again and write the status: a Service change, then a node change.
    const successes = await reconcilesWithResult(controller, "success");
    await patchService(core, namespace, name, { metadata: { annotations: { "example.com/touched": "1" } } });
    await waitForCondition(controlPlane.kubeConfig(), name, (c) => c.status === "True" && c.reason === "Ensured");
    await createNodes(core, [newNode({ nodeName: "late-node", privateIp: "10.2.0.9", zone: "us-east-1a" })]);
    await waitFor(
      async () =>
        (await controller.provider.fake.getLoadBalancer(refOf(namespace, name)))?.listeners[0]?.targets.length === 4,
      { description: "the late node among the targets" },
    );
    await waitFor(async () => (await reconcilesWithResult(controller, "success")) >= successes + 2, {
      description: "both reconciles done",
    });

    const after = await readService(core, namespace, name);
    expect(after.status?.loadBalancer?.ingress).toEqual([{ ...published[0], ports }]);
    const conditions = after.status?.conditions ?? [];
    expect(conditions.find((c) => c.type === theirs.type)).toMatchObject({ status: "True", reason: "Checked" });
    expect(conditions.find((c) => c.type === LOAD_BALANCER_CONDITION)?.status).toBe("True");

    // Clean-up takes the load balancer's status and our condition, and leaves theirs.
    await patchService(core, namespace, name, { spec: { type: "ClusterIP" } });
    await waitFor(
      async () => {
        const service = await readService(core, namespace, name);
        const gone = (service.status?.conditions ?? []).every((c) => c.type !== LOAD_BALANCER_CONDITION);
        return gone && (service.metadata?.finalizers ?? []).length === 0 ? service : undefined;
      },
      { description: "the clean-up to finish" },
    ).then((service) => {
      expect(service.status?.loadBalancer?.ingress ?? []).toEqual([]);
      expect((service.status?.conditions ?? []).map((c) => c.type)).toEqual([theirs.type]);
    });
    await core.deleteNode({ name: "late-node" });
  });
});
