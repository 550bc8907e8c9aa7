import { Writable } from "node:stream";
import { CoreV1Api, RbacAuthorizationV1Api, type V1Node, type V1Service } from "@kubernetes/client-node";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { KubeApiClient } from "../../src/kube/api-client.ts";
import { EventRecorder } from "../../src/kube/event-recorder.ts";
import { ResilientInformer } from "../../src/kube/informer.ts";
import { createNodes, newNode, seedNodes, seedService, waitFor, withControlPlane } from "../harness/index.ts";
import { createNamespace, eventsFor, MERGE_PATCH, settle } from "./controller-support.ts";

const controlPlane = withControlPlane();
let core: CoreV1Api;

beforeAll(async () => {
  core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  await createNodes(core, seedNodes());
});

/** A logger whose JSON lines the test can read back. */
function capturingLogger() {
  const lines: Array<{ level: string; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const logger = pino({ level: "debug", formatters: { level: (label) => ({ level: label }) } }, stream);
  return { logger, lines };
}

describe("ResilientInformer", () => {
  it("keeps retrying a list the API server refuses and syncs once access is granted; stopping is not a failure", async () => {
    const { logger, lines } = capturingLogger();
    const unprivileged = controlPlane.kubeConfig("unprivileged");
    const nodes = new ResilientInformer<V1Node>({
      name: "nodes",
      api: new KubeApiClient(unprivileged),
      path: "/api/v1/nodes",
      logger,
      restartBaseMs: 100,
      restartMaxMs: 400,
    });
    nodes.start();
    await waitFor(() => lines.filter((line) => line.msg === "list/watch failed; restarting").length >= 2, {
      description: "at least two failed attempts",
    });
    expect(nodes.hasSynced()).toBe(false);

    const rbac = controlPlane.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: "informer-test-node-reader" },
        rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: "informer-test-node-reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "informer-test-node-reader" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "lbp-unprivileged" }],
      },
    });
    expect(await nodes.waitForSync()).toBe(true);
    expect([...nodes.list()].map((node) => node.metadata?.name).sort()).toEqual(["node-1", "node-2", "node-3"]);

    // The watch is live: a new node shows up without a relist.
    await createNodes(core, [newNode({ nodeName: "informer-watch-node", privateIp: "10.9.9.9", zone: "us-east-1a" })]);
    await waitFor(() => nodes.get("/informer-watch-node"), { description: "the new node in the cache" });

    const failuresBeforeStop = lines.filter((line) => line.level === "warn").length;
    await nodes.stop();
    await settle(500);
    expect(lines.filter((line) => line.level === "warn").length).toBe(failuresBeforeStop);
    await core.deleteNode({ name: "informer-watch-node" });
  });

  it("hands update handlers the previous version of the object", async () => {
    const namespace = await createNamespace(core, "informer");
    const services = new ResilientInformer<V1Service>({
      name: "services",
      api: new KubeApiClient(controlPlane.kubeConfig()),
      path: `/api/v1/namespaces/${namespace}/services`,
      logger: pino({ level: "silent" }),
    });
    const updates: Array<[string | undefined, string | undefined]> = [];
    services.addHandlers({
      onUpdate: (previous, current) => updates.push([previous.metadata?.labels?.tier, current.metadata?.labels?.tier]),
    });
    services.start();
    expect(await services.waitForSync()).toBe(true);
    try {
      await core.createNamespacedService({ namespace, body: seedService({ namespace, nodePort: null }) });
      await waitFor(() => services.get(`${namespace}/myapp-service`), { description: "the Service in the cache" });
      await core.patchNamespacedService(
        { namespace, name: "myapp-service", body: { metadata: { labels: { tier: "front" } } } },
        MERGE_PATCH,
      );
      await waitFor(() => updates.length > 0, { description: "an update" });
      expect(updates[0]).toEqual([undefined, "front"]);
    } finally {
      await services.stop();
    }
  });
});

describe("EventRecorder", () => {
  it("folds identical events into one Event with a count, keeps distinct ones apart, and drops a flood", async () => {
    const namespace = await createNamespace(core, "events");
    const service = await core.createNamespacedService({ namespace, body: seedService({ namespace, nodePort: null }) });
    const subject = {
      kind: "Service",
      apiVersion: "v1",
      namespace,
      name: "myapp-service",
      uid: service.metadata?.uid,
    };
    const recorder = new EventRecorder({
      api: new KubeApiClient(controlPlane.kubeConfig()),
      component: "lb-provisioner-test",
      logger: pino({ level: "silent" }),
      burst: 5,
    });

    for (let i = 0; i < 3; i++)
      recorder.record(subject, "Warning", "SyncLoadBalancerFailed", "Error syncing load balancer: x");
    recorder.record(subject, "Normal", "EnsuredLoadBalancer", "Ensured load balancer");
    await recorder.flush();

    const events = await eventsFor(core, namespace, "myapp-service");
    expect(events.map((event) => [event.type, event.reason, event.count])).toEqual(
      expect.arrayContaining([
        ["Warning", "SyncLoadBalancerFailed", 3],
        ["Normal", "EnsuredLoadBalancer", 1],
      ]),
    );
    expect(events).toHaveLength(2);
    const warning = events.find((event) => event.reason === "SyncLoadBalancerFailed");
    expect(warning?.source?.component).toBe("lb-provisioner-test");
    expect(warning?.involvedObject.uid).toBe(service.metadata?.uid);

    // The burst of 5 is spent (4 recorded above); of 10 more distinct events only 1 gets through.
    for (let i = 0; i < 10; i++) recorder.record(subject, "Normal", "Flood", `message ${i}`);
    await recorder.flush();
    const flood = (await eventsFor(core, namespace, "myapp-service")).filter((event) => event.reason === "Flood");
    expect(flood).toHaveLength(1);
  });
});
