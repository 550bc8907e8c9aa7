/**
 * The controller's Kubernetes traffic — both list/watches, finalizer and status patches, Events —
 * goes over a small, bounded set of connections however many Services it provisions. A TCP proxy in
 * front of the apiserver counts the connections opened through it (TLS passes through untouched). The
 * control shows the proxy counts what it should: the same number of plain client calls without the
 * pool opens a connection each.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_CONNECTIONS } from "../../src/kube/api-client.ts";
import { createNodes, seedNodes, seedService, withControlPlane } from "../harness/index.ts";
import { createNamespace, startController, tearDownSuite, waitForIngress } from "./controller-support.ts";

const SERVICES = 20;

interface CountingProxy {
  readonly server: string;
  readonly accepted: () => number;
  close(): Promise<void>;
}

async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let accepted = 0;
  const proxy: Server = createServer((client) => {
    accepted++;
    const server = tcpConnect(Number(upstream.port), upstream.hostname);
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        server.destroy();
      });
    }
    client.pipe(server).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");
  return {
    server: `https://127.0.0.1:${address.port}`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

/** `kubeConfig` with its cluster's server replaced by `server`. */
function through(kubeConfig: KubeConfig, server: string): KubeConfig {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  if (!cluster || !user) throw new Error("the test kubeconfig has no current cluster and user");
  const proxied = new KubeConfig();
  proxied.loadFromClusterAndUser({ ...cluster, server }, user);
  return proxied;
}

const controlPlane = withControlPlane();
let core: CoreV1Api;
let namespace: string;
let proxy: CountingProxy;

beforeAll(async () => {
  core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  await createNodes(core, seedNodes());
  namespace = await createNamespace(core, "connections");
  proxy = await startCountingProxy(controlPlane.server);
});

afterAll(async () => {
  const cleaner = await startController(controlPlane.kubeConfig());
  await tearDownSuite(core, namespace, [cleaner]);
  await proxy?.close();
});

describe("the controller's connections to the apiserver", () => {
  it(`stay at most ${MAX_CONNECTIONS} while ${SERVICES} Services are provisioned`, async () => {
    const before = proxy.accepted();
    const controller = await startController(through(controlPlane.kubeConfig(), proxy.server), { workers: 5 });
    try {
      await Promise.all(
        Array.from({ length: SERVICES }, (_, index) =>
          core.createNamespacedService({
            namespace,
            body: seedService({ namespace, name: `pooled-${index}`, type: "LoadBalancer", nodePort: null }),
          }),
        ),
      );
      for (let index = 0; index < SERVICES; index++) await waitForIngress(core, namespace, `pooled-${index}`);
    } finally {
      // Stopping flushes the Events: each Service has had a finalizer patch, a status patch and two
      // Events by then, 80 writes besides the two list/watches.
      await controller.stop();
    }
    const opened = proxy.accepted() - before;
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(opened).toBeLessThanOrEqual(MAX_CONNECTIONS);
  });

  it("control: client calls made without the pool open one connection each", async () => {
    const before = proxy.accepted();
    const unpooled = through(controlPlane.kubeConfig(), proxy.server).makeApiClient(CoreV1Api);
    for (let index = 0; index < SERVICES; index++) await unpooled.readNamespace({ name: namespace });
    expect(proxy.accepted() - before).toBeGreaterThanOrEqual(SERVICES);
  });
});
