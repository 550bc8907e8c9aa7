import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObservedLoadBalancer } from "../../providers/index.ts";
import {
  createNodes,
  isControllerWarning,
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
  settle,
  startController,
  tearDownSuite,
  waitForEvent,
  waitForIngress,
} from "./controller-support.ts";

const controlPlane = withControlPlane();
let core: CoreV1Api;

const UPSTREAM_FINALIZER = "service.kubernetes.io/load-balancer-cleanup";
const CLASSED_FINALIZER = "lb-provisioner.io/load-balancer-cleanup";
const SEED_TARGETS = ["node-1:30008", "node-2:30008", "node-3:30008"];

beforeAll(async () => {
  core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  await createNodes(core, seedNodes());
});

/** `node:port` of every target of every listener, sorted. */
function targetsOf(lb: ObservedLoadBalancer | undefined): string[] {
  return (lb?.listeners ?? []).flatMap((listener) => listener.targets.map((t) => `${t.id}:${t.port}`)).sort();
}

/** The controller's condition on the Service. */
function readyCondition(service: V1Service) {
  return service.status?.conditions?.find((condition) => condition.type === "lb-provisioner.io/LoadBalancerReady");
}

function listenersOf(lb: ObservedLoadBalancer | undefined): string[] {
  return (lb?.listeners ?? []).map((listener) => `${listener.port}/${listener.protocol}->${listener.targetPort}`);
}

function burstNode(index: number) {
  return newNode({ nodeName: `burst-${index}`, privateIp: `10.1.0.${index + 1}`, zone: "us-east-1b" });
}

async function sumOfCounts(namespace: string, name: string, reason: string): Promise<number> {
  return (await eventsFor(core, namespace, name))
    .filter((event) => event.reason === reason)
    .reduce((sum, event) => sum + (event.count ?? 1), 0);
}

describe("the seed scenario, node changes and Service changes", () => {
  let controller: RunningController;
  let namespace: string;
  const name = "myapp-service";
  const key = (service: string) => `${namespace}/${service}`;
  const inspect = (service: string) => controller.provider.fake.inspect(refOf(namespace, service));

  beforeAll(async () => {
    // The production quiet period (1 s, acted on within 10 s however busy): the 20-node burst below
    // must land inside one window for its "once per Service" count, and a loaded machine spreads it out.
    controller = await startController(controlPlane.kubeConfig(), { nodeSyncDelayMs: 1_000 });
    namespace = await createNamespace(core, "seed");
  });
  afterAll(() => tearDownSuite(core, namespace, [controller]));

  it("leaves a NodePort Service alone; as LoadBalancer it gets a finalizer, a load balancer, status and events", async () => {
    await core.createNamespacedService({ namespace, body: seedService({ namespace }) });
    await settle(1_000);
    expect((await readService(core, namespace, name)).metadata?.finalizers ?? []).toEqual([]);
    expect(controller.provider.ensureCount(key(name))).toBe(0);
    expect(controller.provider.fake.calls.filter((call) => call.serviceKey === key(name))).toEqual([]);

    await patchService(core, namespace, name, { spec: { type: "LoadBalancer" } });
    const service = await waitForIngress(core, namespace, name);

    expect(service.metadata?.finalizers).toEqual([UPSTREAM_FINALIZER]);
    // The API server names a write's field manager after its User-Agent: the finalizer and the status are ours.
    const managers = (service.metadata?.managedFields ?? []).map(
      (entry) => `${entry.manager} ${entry.subresource ?? ""}`,
    );
    expect(managers).toEqual(expect.arrayContaining(["lb-provisioner ", "lb-provisioner status"]));
    expect(managers.filter((manager) => manager.startsWith("unknown"))).toEqual([]);
    const lb = inspect(name);
    expect(listenersOf(lb)).toEqual(["80/TCP->30008"]);
    expect(targetsOf(lb)).toEqual(SEED_TARGETS);
    expect(service.status?.loadBalancer?.ingress).toEqual(lb?.status.ingress);
    await waitForEvent(core, namespace, name, "EnsuredLoadBalancer", "Ensured load balancer");
    const events = await eventsFor(core, namespace, name);
    expect(events.find((event) => event.reason === "EnsuringLoadBalancer")?.type).toBe("Normal");
    expect(events.filter(isControllerWarning)).toEqual([]);
  });

  it("follows the eligible node set: a node joins, one is excluded by label, one is tainted for deletion", async () => {
    await createNodes(core, [newNode({ nodeName: "node-4", privateIp: "192.168.1.5", zone: "us-east-1a" })]);
    await waitFor(() => targetsOf(inspect(name)).length === 4, { description: "a fourth target" });
    expect(targetsOf(inspect(name))).toEqual([...SEED_TARGETS, "node-4:30008"]);
    await waitForEvent(core, namespace, name, "UpdatedLoadBalancer", "Updated load balancer with new hosts");

    const exclude = "node.kubernetes.io/exclude-from-external-load-balancers";
    await core.patchNode({ name: "node-2", body: { metadata: { labels: { [exclude]: "true" } } } }, MERGE_PATCH);
    await waitFor(() => !targetsOf(inspect(name)).includes("node-2:30008"), { description: "node-2 excluded" });

    await core.patchNode(
      { name: "node-3", body: { spec: { taints: [{ key: "ToBeDeletedByClusterAutoscaler", effect: "NoSchedule" }] } } },
      MERGE_PATCH,
    );
    await waitFor(() => !targetsOf(inspect(name)).includes("node-3:30008"), { description: "node-3 removed" });
    expect(targetsOf(inspect(name))).toEqual(["node-1:30008", "node-4:30008"]);

    await core.patchNode({ name: "node-2", body: { metadata: { labels: { [exclude]: null } } } }, MERGE_PATCH);
    await core.patchNode({ name: "node-3", body: { spec: { taints: null } } }, MERGE_PATCH);
    await core.deleteNode({ name: "node-4" });
    await waitFor(() => targetsOf(inspect(name)).join() === SEED_TARGETS.join(), {
      description: "the seed targets again",
    });
  });

  it("reconciles each managed Service once for 20 nodes joining at once, with one register call per target group", async () => {
    await core.createNamespacedService({
      namespace,
      body: seedService({ namespace, name: "second", type: "LoadBalancer", nodePort: null }),
    });
    await waitForIngress(core, namespace, "second");
    await settle(1_000);
    const before = {
      seed: controller.provider.ensureCount(key(name)),
      second: controller.provider.ensureCount(key("second")),
    };
    const since = Date.now();

    await Promise.all(Array.from({ length: 20 }, (_, index) => createNodes(core, [burstNode(index)])));
    await waitFor(() => targetsOf(inspect(name)).length === 23 && targetsOf(inspect("second")).length === 23, {
      description: "23 targets on both load balancers",
    });
    await settle(2_000); // room for any extra reconcile to show up before counting

    expect(controller.provider.ensureCount(key(name)) - before.seed).toBe(1);
    expect(controller.provider.ensureCount(key("second")) - before.second).toBe(1);
    const registers = controller.provider.fake.calls.filter(
      (call) => call.operation === "RegisterTargets" && call.time >= since && call.serviceKey === key(name),
    );
    expect(registers).toHaveLength(1);

    await Promise.all(Array.from({ length: 20 }, (_, index) => core.deleteNode({ name: `burst-${index}` })));
    await waitFor(() => targetsOf(inspect(name)).length === 3 && targetsOf(inspect("second")).length === 3, {
      description: "the burst nodes removed again",
    });
  });

  it("follows ports added and removed and a changed nodePort", async () => {
    await patchService(core, namespace, name, {
      spec: {
        ports: [
          { name: "http", protocol: "TCP", port: 80, targetPort: 80, nodePort: 30008 },
          { name: "https", protocol: "TCP", port: 443, targetPort: 443, nodePort: 30443 },
        ],
      },
    });
    await waitFor(() => listenersOf(inspect(name)).join() === "80/TCP->30008,443/TCP->30443", {
      description: "listeners on 80 and 443",
    });

    await patchService(core, namespace, name, {
      spec: { ports: [{ name: "https", protocol: "TCP", port: 443, targetPort: 443, nodePort: 30443 }] },
    });
    await waitFor(() => listenersOf(inspect(name)).join() === "443/TCP->30443", { description: "only 443 left" });

    await patchService(core, namespace, name, {
      spec: { ports: [{ name: "https", protocol: "TCP", port: 443, targetPort: 443, nodePort: 30444 }] },
    });
    await waitFor(() => listenersOf(inspect(name)).join() === "443/TCP->30444", { description: "nodePort 30444" });
    expect(targetsOf(inspect(name))).toEqual(SEED_TARGETS.map((target) => target.replace("30008", "30444")));
  });

  it("health-checks HTTP /healthz on the allocated healthCheckNodePort for externalTrafficPolicy Local", async () => {
    const service = await patchService(core, namespace, name, { spec: { externalTrafficPolicy: "Local" } });
    const healthCheckNodePort = service.spec?.healthCheckNodePort;
    expect(healthCheckNodePort).toBeGreaterThan(0);
    await waitFor(() => inspect(name)?.listeners[0]?.healthCheck?.protocol === "HTTP", {
      description: "an HTTP health check",
    });
    expect(inspect(name)?.listeners[0]?.healthCheck).toEqual({
      protocol: "HTTP",
      port: healthCheckNodePort,
      path: "/healthz",
    });
  });

  it("writes only status.loadBalancer and its own condition: other writers' conditions stay as they were", async () => {
    await core.createNamespacedService({
      namespace,
      body: seedService({ namespace, name: "conditions", nodePort: null }),
    });
    const condition = {
      type: "example.com/Audited",
      status: "True",
      reason: "Audited",
      message: "set by another controller",
      lastTransitionTime: new Date().toISOString(),
    };
    await core.patchNamespacedServiceStatus(
      { namespace, name: "conditions", body: { status: { conditions: [condition] } } },
      MERGE_PATCH,
    );
    await patchService(core, namespace, "conditions", { spec: { type: "LoadBalancer" } });
    const ensured = await waitForIngress(core, namespace, "conditions");
    expect(ensured.status?.conditions?.map((c) => [c.type, c.message]).sort()).toEqual([
      [condition.type, condition.message],
      ["lb-provisioner.io/LoadBalancerReady", "Ensured load balancer"],
    ]);

    await patchService(core, namespace, "conditions", { spec: { type: "ClusterIP" } });
    const cleaned = await waitFor(
      async () => {
        const service = await readService(core, namespace, "conditions");
        return (service.metadata?.finalizers ?? []).length === 0 ? service : undefined;
      },
      { description: "the finalizer removed" },
    );
    expect(cleaned.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(cleaned.status?.conditions?.map((c) => [c.type, c.message])).toEqual([[condition.type, condition.message]]);
  });

  it("switched back to ClusterIP: load balancer deleted, status cleared, finalizer removed", async () => {
    expect(inspect("second")).toBeDefined();
    await patchService(core, namespace, "second", { spec: { type: "ClusterIP" } });
    const service = await waitFor(
      async () => {
        const current = await readService(core, namespace, "second");
        return (current.metadata?.finalizers ?? []).length === 0 ? current : undefined;
      },
      { description: "the finalizer removed" },
    );
    expect(inspect("second")).toBeUndefined();
    expect(service.status?.loadBalancer?.ingress ?? []).toEqual([]);
    await waitForEvent(core, namespace, "second", "DeletedLoadBalancer", "Deleted load balancer");
    expect((await eventsFor(core, namespace, "second")).some((event) => event.reason === "DeletingLoadBalancer")).toBe(
      true,
    );
  });

  it("deleted: load balancer deleted, then the object disappears", async () => {
    expect(inspect(name)).toBeDefined();
    await core.deleteNamespacedService({ namespace, name });
    await waitFor(
      async () => {
        try {
          await readService(core, namespace, name);
          return false;
        } catch {
          return true;
        }
      },
      { description: `${namespace}/${name} to disappear` },
    );
    expect(inspect(name)).toBeUndefined();
  });
});

describe("loadBalancerClass", () => {
  const ourClass = "lb-provisioner.io/integration";
  let ccm: RunningController;
  let classed: RunningController;
  let namespace: string;

  beforeAll(async () => {
    ccm = await startController(controlPlane.kubeConfig());
    classed = await startController(controlPlane.kubeConfig(), { loadBalancerClass: ourClass });
    namespace = await createNamespace(core, "class");
  });
  afterAll(() => tearDownSuite(core, namespace, [ccm, classed]));

  it("leaves a Service of another class untouched", async () => {
    await core.createNamespacedService({
      namespace,
      body: seedService({
        namespace,
        name: "other",
        type: "LoadBalancer",
        nodePort: null,
        loadBalancerClass: "example.com/other",
      }),
    });
    await settle(1_500);
    const service = await readService(core, namespace, "other");
    expect(service.metadata?.finalizers ?? []).toEqual([]);
    expect(service.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(ccm.provider.ensureCount(`${namespace}/other`)).toBe(0);
    expect(classed.provider.ensureCount(`${namespace}/other`)).toBe(0);
    expect(await eventsFor(core, namespace, "other")).toEqual([]);
  });

  it("handles a Service of the configured class with this project's finalizer; CCM mode ignores it", async () => {
    await core.createNamespacedService({
      namespace,
      body: seedService({ namespace, name: "ours", type: "LoadBalancer", nodePort: null, loadBalancerClass: ourClass }),
    });
    const service = await waitForIngress(core, namespace, "ours");
    expect(service.metadata?.finalizers).toEqual([CLASSED_FINALIZER]);
    expect(classed.provider.fake.inspect(refOf(namespace, "ours"))).toBeDefined();
    expect(ccm.provider.ensureCount(`${namespace}/ours`)).toBe(0);

    await core.deleteNamespacedService({ namespace, name: "ours" });
    await waitFor(() => classed.provider.fake.inspect(refOf(namespace, "ours")) === undefined, {
      description: "the classed load balancer deleted",
    });
    const remaining = async () => (await core.listNamespacedService({ namespace })).items.map((s) => s.metadata?.name);
    await waitFor(async () => !(await remaining()).includes("ours"), {
      description: "the classed Service gone once the controller released its finalizer",
    });
  });
});

describe("provider failures and bad input", () => {
  let controller: RunningController;
  let namespace: string;

  beforeAll(async () => {
    controller = await startController(controlPlane.kubeConfig());
    namespace = await createNamespace(core, "bad");
  });
  afterAll(() => tearDownSuite(core, namespace, [controller]));

  it("retries with backoff after 3 failures, with Warning events, then converges", async () => {
    controller.provider.fake.failNext("CreateLoadBalancer", 3);
    await core.createNamespacedService({
      namespace,
      body: seedService({ namespace, name: "flaky", type: "LoadBalancer", nodePort: null }),
    });
    const converged = await waitForIngress(core, namespace, "flaky");
    expect(readyCondition(converged)).toMatchObject({ status: "True", reason: "Ensured" });
    await waitFor(async () => (await sumOfCounts(namespace, "flaky", "SyncLoadBalancerFailed")) === 3, {
      description: "three SyncLoadBalancerFailed occurrences",
    });
    const warning = (await eventsFor(core, namespace, "flaky")).find((e) => e.reason === "SyncLoadBalancerFailed");
    expect(warning?.type).toBe("Warning");
    expect(warning?.message).toContain("injected transient failure");
    expect(controller.provider.ensureCount(`${namespace}/flaky`)).toBe(4);
    const retries = await controller.metrics.queueRetries.get();
    expect(retries.values.find((value) => value.labels.kind === "backoff")?.value).toBe(3);
  });

  const badInputs: Array<{
    readonly title: string;
    readonly name: string;
    readonly service: (namespace: string) => V1Service;
    readonly field: string;
    readonly fix: object;
  }> = [
    {
      title: "allocateLoadBalancerNodePorts: false",
      name: "no-node-ports",
      service: (namespace) => ({
        metadata: { namespace, name: "no-node-ports" },
        spec: {
          type: "LoadBalancer",
          allocateLoadBalancerNodePorts: false,
          selector: { app: "myapp" },
          ports: [{ protocol: "TCP", port: 80, targetPort: 80 }],
        },
      }),
      field: "spec.allocateLoadBalancerNodePorts",
      fix: { spec: { allocateLoadBalancerNodePorts: true } },
    },
    {
      title: "an SCTP port the cloud does not support",
      name: "sctp",
      service: (namespace) => ({
        metadata: { namespace, name: "sctp" },
        spec: {
          type: "LoadBalancer",
          selector: { app: "myapp" },
          ports: [{ protocol: "SCTP", port: 80, targetPort: 80 }],
        },
      }),
      field: "spec.ports[0].protocol",
      fix: { spec: { ports: [{ protocol: "TCP", port: 80, targetPort: 80 }] } },
    },
    {
      title: "a malformed provider annotation",
      name: "bad-annotation",
      service: (namespace) => ({
        metadata: { namespace, name: "bad-annotation", annotations: { "fake.lb-provisioner.io/scheme": "sideways" } },
        spec: {
          type: "LoadBalancer",
          selector: { app: "myapp" },
          ports: [{ protocol: "TCP", port: 80, targetPort: 80 }],
        },
      }),
      field: "fake.lb-provisioner.io/scheme",
      fix: { metadata: { annotations: { "fake.lb-provisioner.io/scheme": "internal" } } },
    },
  ];

  it.each(badInputs)(
    "$title: a Warning naming the field and the condition False, nothing created, no hot retry; fixed, it converges",
    async (bad) => {
      const serviceKey = `${namespace}/${bad.name}`;
      await core.createNamespacedService({ namespace, body: bad.service(namespace) });
      const warning = await waitForEvent(core, namespace, bad.name, "SyncLoadBalancerFailed", bad.field);
      expect(warning.type).toBe("Warning");

      // The Event is written after its reconcile was counted, so the count read here includes it. Nothing
      // about the Service or the nodes changes in the window below: a controller that retried the same
      // bad input would reconcile (and could warn) again in it. A slower machine only shortens what the
      // window sees; it cannot make a correct controller fail.
      const invalidReconciles = await reconcilesWithResult(controller, "invalid");
      await settle(2_000);
      expect(
        await reconcilesWithResult(controller, "invalid"),
        "invalid reconciles while the bad Service and the nodes stayed unchanged",
      ).toBe(invalidReconciles);
      const service = await readService(core, namespace, bad.name);
      expect(service.metadata?.finalizers ?? []).toEqual([]);
      expect(readyCondition(service)).toMatchObject({
        status: "False",
        reason: "InvalidConfiguration",
        message: warning.message,
      });
      expect(controller.provider.fake.inspect(refOf(namespace, bad.name))).toBeUndefined();
      expect(controller.provider.fake.calls.filter((call) => call.serviceKey === serviceKey)).toEqual([]);
      expect(controller.provider.ensureCount(serviceKey)).toBe(0);
      expect(await sumOfCounts(namespace, bad.name, "SyncLoadBalancerFailed")).toBe(1);

      await patchService(core, namespace, bad.name, bad.fix);
      const fixed = await waitForIngress(core, namespace, bad.name);
      expect(controller.provider.fake.inspect(refOf(namespace, bad.name))).toBeDefined();
      expect(readyCondition(fixed)).toMatchObject({ status: "True", reason: "Ensured" });
    },
  );

  it("a source range that is not a CIDR is refused by the API server itself, naming the field; nothing is created", async () => {
    // Current API servers validate the ranges strictly, so such a Service is never stored. The
    // controller's own check (unit-tested in reconcile.test.ts) covers objects stored by older ones.
    const body: V1Service = {
      metadata: {
        namespace,
        name: "bad-range",
        annotations: { "service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8,010.0.0.0/8" },
      },
      spec: {
        type: "LoadBalancer",
        selector: { app: "myapp" },
        ports: [{ protocol: "TCP", port: 80, targetPort: 80 }],
      },
    };
    const refused = await core.createNamespacedService({ namespace, body }).then(
      () => undefined,
      (error: { code?: number; body?: string }) => error,
    );
    expect(refused?.code).toBe(422);
    expect(refused?.body).toContain("metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]");
    await settle(500);
    expect(controller.provider.ensureCount(`${namespace}/bad-range`)).toBe(0);
    expect(controller.provider.fake.inspect(refOf(namespace, "bad-range"))).toBeUndefined();
  });

  it("keeps serving other Services while one stays invalid", async () => {
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { namespace, name: "stays-invalid" },
        spec: {
          type: "LoadBalancer",
          selector: { app: "myapp" },
          ports: [{ protocol: "SCTP", port: 80, targetPort: 80 }],
        },
      },
    });
    await waitForEvent(core, namespace, "stays-invalid", "SyncLoadBalancerFailed", "spec.ports[0].protocol");
    await core.createNamespacedService({
      namespace,
      body: seedService({ namespace, name: "healthy", type: "LoadBalancer", nodePort: null }),
    });
    await waitForIngress(core, namespace, "healthy");
    expect(controller.provider.fake.inspect(refOf(namespace, "stays-invalid"))).toBeUndefined();

    // The earlier bad inputs were fixed and converged: only this one is counted as out of sync, until
    // it is deleted (it never had a finalizer, so only the delete notification brings it back).
    const unsynced = async () => (await controller.metrics.unsyncedServices.get()).values[0]?.value;
    expect(await unsynced()).toBe(1);
    await core.deleteNamespacedService({ namespace, name: "stays-invalid" });
    await waitFor(async () => (await unsynced()) === 0, { description: "lbp_unsynced_services back to 0" });
  });
});

describe("periodic resync", () => {
  let controller: RunningController;
  let namespace: string;

  beforeAll(async () => {
    controller = await startController(controlPlane.kubeConfig(), { resyncPeriodMs: 1_000 });
    namespace = await createNamespace(core, "resync");
  });
  afterAll(() => tearDownSuite(core, namespace, [controller]));

  it("re-ensures with zero mutating calls when nothing drifted, and repairs drift", async () => {
    await core.createNamespacedService({
      namespace,
      body: seedService({ namespace, name: "steady", type: "LoadBalancer", nodePort: null }),
    });
    await waitForIngress(core, namespace, "steady");
    const { fake } = controller.provider;
    const serviceKey = `${namespace}/steady`;
    fake.resetCalls();
    const before = controller.provider.ensureCount(serviceKey);
    // Two resync passes, however long a busy machine takes to run them.
    await waitFor(() => controller.provider.ensureCount(serviceKey) - before >= 2, {
      description: "two resync passes re-ensuring the Service",
    });
    expect(fake.mutatingCalls()).toBe(0);

    const ref = refOf(namespace, "steady");
    expect(fake.deleteOutOfBand(ref)).toBe(true);
    await waitFor(() => targetsOf(fake.inspect(ref)).length === 3, {
      description: "the deleted load balancer recreated",
    });

    fake.mutateOutOfBand(ref, (lb) => {
      for (const group of lb.targetGroups.values()) group.targets = group.targets.slice(1);
    });
    expect(targetsOf(fake.inspect(ref))).toHaveLength(2);
    await waitFor(() => targetsOf(fake.inspect(ref)).length === 3, { description: "the dropped target re-registered" });
  });
});
