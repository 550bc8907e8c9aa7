import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeProvider } from "../../providers/fake/index.ts";
import { createNodes, seedNodes, seedService, waitFor, withControlPlane } from "../harness/index.ts";
import {
  CLUSTER_NAME,
  createNamespace,
  eventsFor,
  InstrumentedProvider,
  readService,
  reconcilesWithResult,
  refOf,
  startController,
  tearDownSuite,
  waitForEvent,
  waitForIngress,
} from "./controller-support.ts";

const controlPlane = withControlPlane();
let core: CoreV1Api;
let namespace: string;

beforeAll(async () => {
  core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  await createNodes(core, seedNodes());
  namespace = await createNamespace(core, "restart");
});

afterAll(async () => {
  // Release the finalizers with a controller that shares nothing with the tests.
  const cleaner = await startController(controlPlane.kubeConfig());
  await tearDownSuite(core, namespace, [cleaner]);
});

describe("a controller stopped in the middle of a reconcile, then started again", () => {
  it.each([
    ["after adding the finalizer, before ensuring", "before-ensure" as const, "mid-finalizer"],
    ["between ensuring and patching status", "after-ensure" as const, "mid-status"],
  ])("%s: converges with exactly one load balancer", async (_, gate, name) => {
    // One fake cloud outlives both controller processes, as the real cloud would.
    const cloud = createFakeProvider();
    const first = new InstrumentedProvider(cloud);
    first.gate = gate;
    const firstRun = await startController(controlPlane.kubeConfig(), { provider: first, drainTimeoutMs: 200 });
    await core.createNamespacedService({
      namespace,
      body: seedService({ namespace, name, type: "LoadBalancer", nodePort: null }),
    });
    await first.held;
    const interrupted = await readService(core, namespace, name);
    expect(interrupted.metadata?.finalizers).toEqual(["service.kubernetes.io/load-balancer-cleanup"]);
    await firstRun.stop();

    const afterStop = await readService(core, namespace, name);
    expect(afterStop.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(cloud.loadBalancerCount).toBe(gate === "before-ensure" ? 0 : 1);

    const second = new InstrumentedProvider(cloud);
    const secondRun = await startController(controlPlane.kubeConfig(), { provider: second });
    try {
      const service = await waitForIngress(core, namespace, name);
      expect(cloud.loadBalancerCount).toBe(1);
      const lb = cloud.inspect(refOf(namespace, name));
      expect(lb?.status.ingress).toEqual(service.status?.loadBalancer?.ingress);
      expect((await cloud.listLoadBalancers(CLUSTER_NAME)).map((found) => found.ref.service.name)).toEqual([name]);
      await waitFor(() => second.ensureCount(`${namespace}/${name}`) >= 1, {
        description: "the restarted controller's ensure",
      });

      await core.deleteNamespacedService({ namespace, name });
      await waitFor(() => cloud.loadBalancerCount === 0, { description: "the load balancer deleted" });
    } finally {
      await secondRun.stop();
    }
  });
});

describe("a controller restarted over provisioned Services", () => {
  it("re-ensures each one without writing the Service or an Event", async () => {
    const cloud = createFakeProvider();
    const names = ["quiet-a", "quiet-b", "quiet-c"];
    const firstRun = await startController(controlPlane.kubeConfig(), { provider: new InstrumentedProvider(cloud) });
    try {
      for (const name of names) {
        await core.createNamespacedService({
          namespace,
          body: seedService({ namespace, name, type: "LoadBalancer", nodePort: null }),
        });
      }
      for (const name of names) await waitForEvent(core, namespace, name, "EnsuredLoadBalancer");
    } finally {
      await firstRun.stop();
    }
    const before = await Promise.all(names.map((name) => readService(core, namespace, name)));
    const eventsBefore = await Promise.all(names.map((name) => eventsFor(core, namespace, name)));

    const second = new InstrumentedProvider(cloud);
    const secondRun = await startController(controlPlane.kubeConfig(), { provider: second });
    try {
      await waitFor(async () => (await reconcilesWithResult(secondRun, "success")) >= names.length, {
        description: "the restarted controller to re-ensure every Service",
      });
      expect(names.map((name) => second.ensureCount(`${namespace}/${name}`))).toEqual([1, 1, 1]);
    } finally {
      await secondRun.stop();
    }
    // Stopping waited for the Events it had recorded: there were none.
    const written = (await secondRun.metrics.events.get()).values.filter((value) => value.value > 0);
    expect(written).toEqual([]);
    const after = await Promise.all(names.map((name) => readService(core, namespace, name)));
    expect(after.map((service) => service.metadata?.resourceVersion)).toEqual(
      before.map((service) => service.metadata?.resourceVersion),
    );
    const eventsAfter = await Promise.all(names.map((name) => eventsFor(core, namespace, name)));
    const summary = (events: typeof eventsAfter) =>
      events.map((list) => list.map((event) => `${event.reason}:${event.count}`).sort());
    expect(summary(eventsAfter)).toEqual(summary(eventsBefore));
  });
});
