/**
 * Proves the integration tier runs against a real kube-apiserver + etcd: the seed Nodes and NodePort
 * Service are stored as sent, the apiserver's own NodePort allocator keeps 30008 and refuses it twice,
 * an informer receives the Service over a real watch, and RBAC really denies an unprivileged user.
 */
import { ApiException, CoreV1Api, makeInformer, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodes,
  SEED_NODE_IPS,
  SEED_NODE_PORT,
  SEED_SELECTOR,
  seedNodes,
  seedService,
  waitFor,
  withControlPlane,
} from "../harness/index.ts";

async function statusCodeOf(request: Promise<unknown>): Promise<number> {
  try {
    await request;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
  throw new Error("the request succeeded; an error status was expected");
}

describe("control plane smoke", () => {
  const controlPlane = withControlPlane();
  let core: CoreV1Api;
  let informer: ReturnType<typeof makeInformer<V1Service>>;
  const added: string[] = [];

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    informer = makeInformer<V1Service>(controlPlane.kubeConfig(), "/api/v1/namespaces/default/services", () =>
      core.listNamespacedService({ namespace: "default" }),
    );
    informer.on("add", (service) => added.push(service.metadata?.name ?? ""));
    await informer.start();
  });

  afterAll(async () => {
    await informer?.stop();
  });

  it("stores the three seed Nodes with their addresses", async () => {
    await createNodes(core, seedNodes());
    const nodes = await core.listNode();
    const internalIps = nodes.items.map(
      (node) => node.status?.addresses?.find((address) => address.type === "InternalIP")?.address,
    );
    expect(nodes.items.map((node) => node.metadata?.name)).toEqual(["node-1", "node-2", "node-3"]);
    expect(internalIps).toEqual([...SEED_NODE_IPS]);
  });

  it("keeps the requested nodePort 30008 on the seed Service", async () => {
    const created = await core.createNamespacedService({ namespace: "default", body: seedService() });
    expect(created.spec?.type).toBe("NodePort");
    expect(created.spec?.ports?.[0]).toMatchObject({ port: 80, targetPort: 80, nodePort: SEED_NODE_PORT });
    expect(created.spec?.selector).toEqual(SEED_SELECTOR);
    expect(created.spec?.clusterIP).toMatch(/^10\.0\.0\.\d+$/);
  });

  it("rejects a second Service asking for nodePort 30008 (422)", async () => {
    const clash = seedService({ name: "myapp-service-clash" });
    expect(await statusCodeOf(core.createNamespacedService({ namespace: "default", body: clash }))).toBe(422);
  });

  it("delivers the Service through an informer watching the real apiserver", async () => {
    await waitFor(() => added.includes("myapp-service"), { description: "the informer's add event" });
    const cached = informer.get("myapp-service", "default");
    expect(cached?.spec?.ports?.[0]?.nodePort).toBe(SEED_NODE_PORT);
    expect(added).not.toContain("myapp-service-clash");
  });

  it("enforces RBAC: the unprivileged identity may not list Services (403)", async () => {
    const unprivileged = controlPlane.kubeConfig("unprivileged").makeApiClient(CoreV1Api);
    expect(await statusCodeOf(unprivileged.listNamespacedService({ namespace: "default" }))).toBe(403);
  });
});
