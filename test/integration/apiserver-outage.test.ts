/**
 * kube-apiserver stopped and started again on the same etcd and port while `lb-provisioner run` (a
 * process, leader election on, fake provider) keeps running: while it cannot reach the apiserver its
 * `/readyz` says 503 "cannot reach the API server"; it does not exit and does not give up its Lease
 * (the outage is shorter than the renew deadline); once the apiserver is back it resumes its watches
 * and converges what changed while they were down — a Service deleted, one created, one changed, a
 * node added — with no restart of its own.
 */
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodes, seedNodeSource, seedNodes, seedService, waitFor, withControlPlane } from "../harness/index.ts";
import { type ControllerProcess, startController } from "./cli-process.ts";
import { eventsFor, MERGE_PATCH } from "./controller-support.ts";

const NAMESPACE = "default";
/** How long the apiserver stays stopped (its start-up afterwards adds a few seconds). */
const OUTAGE_MS = Number(process.env.APISERVER_OUTAGE_MS ?? 5_000);

async function readyz(controller: ControllerProcess): Promise<{ status: number; body: string }> {
  const response = await fetch(`${await controller.endpoint("/readyz")}/readyz`);
  return { status: response.status, body: (await response.text()).trim() };
}

describe("kube-apiserver outage while the controller runs", () => {
  const controlPlane = withControlPlane();
  let core: CoreV1Api;
  let controller: ControllerProcess;

  const hostnameOf = (name: string): Promise<string> =>
    waitFor(
      async () => {
        const service: V1Service = await core.readNamespacedService({ namespace: NAMESPACE, name });
        return service.status?.loadBalancer?.ingress?.[0]?.hostname;
      },
      { description: `${name} to get an address`, timeoutMs: 90_000, intervalMs: 250 },
    );

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    await createNodes(core, seedNodes());
    controller = await startController({
      name: "outage",
      args: [
        "--kubeconfig",
        controlPlane.kubeconfigPath(),
        "--provider",
        "fake",
        "--leader-elect-resource-namespace",
        NAMESPACE,
        // A renew deadline longer than the outage: the leader rides it out.
        "--leader-elect-lease-duration",
        "60s",
        "--leader-elect-renew-deadline",
        "45s",
        "--leader-elect-retry-period",
        "2s",
      ],
    });
    await controller.waitForLog((line) => line.msg === "became the leader", "leadership");
  });

  afterAll(async () => {
    await controller?.process.stop(5_000);
  });

  it("is not ready while the apiserver is down, stays up, and converges what changed once it is back", async () => {
    for (const name of ["deleted-meanwhile", "changed-meanwhile"])
      await core.createNamespacedService({
        namespace: NAMESPACE,
        body: seedService({ name, type: "LoadBalancer", nodePort: null }),
      });
    await hostnameOf("deleted-meanwhile");
    await hostnameOf("changed-meanwhile");
    await waitFor(async () => (await readyz(controller)).status === 200, { description: "readiness" });
    expect(await readyz(controller)).toEqual({ status: 200, body: "ok: leader" });

    await controlPlane.stopApiserver();
    const down = Date.now();
    const unready = await waitFor(
      async () => {
        const answer = await readyz(controller);
        return answer.status === 503 ? answer : undefined;
      },
      { description: "/readyz to turn 503 while the apiserver is down", timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(unready.body).toBe("cannot reach the API server");
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - down))));
    expect(controller.process.exit).toBeUndefined();
    await controlPlane.startApiserver();
    const back = Date.now();

    // Changes made as soon as the apiserver answers, while the controller's watches are still down.
    await core.deleteNamespacedService({ namespace: NAMESPACE, name: "deleted-meanwhile" });
    await core.createNamespacedService({
      namespace: NAMESPACE,
      body: seedService({ name: "created-meanwhile", type: "LoadBalancer", nodePort: null }),
    });
    await core.patchNamespacedService(
      {
        namespace: NAMESPACE,
        name: "changed-meanwhile",
        body: {
          spec: {
            ports: [
              { name: "http", port: 80, protocol: "TCP" },
              { name: "alt", port: 8080, protocol: "TCP" },
            ],
          },
        },
      },
      MERGE_PATCH,
    );
    await createNodes(core, seedNodes([seedNodeSource(4)]));

    await hostnameOf("created-meanwhile");
    await waitFor(
      async () => {
        const left = await core.listNamespacedService({ namespace: NAMESPACE });
        return !left.items.some((service) => service.metadata?.name === "deleted-meanwhile");
      },
      { description: "the deleted Service's cleanup (finalizer removed)", timeoutMs: 90_000 },
    );
    await waitFor(
      async () =>
        (await eventsFor(core, NAMESPACE, "changed-meanwhile")).some(
          (event) =>
            event.reason === "EnsuredLoadBalancer" && new Date(event.lastTimestamp ?? 0).getTime() >= back - 1_000,
        ),
      { description: "the changed Service to be ensured again after the outage", timeoutMs: 90_000 },
    );
    await waitFor(async () => (await readyz(controller)).status === 200, {
      description: "readiness after the outage",
      timeoutMs: 60_000,
    });

    // One process, one leadership, all along: no exit, no restart, no new campaign.
    expect(controller.process.exit).toBeUndefined();
    const logs = controller.logs();
    expect(logs.filter((line) => line.msg === "became the leader")).toHaveLength(1);
    expect(logs.filter((line) => line.msg === "starting lb-provisioner")).toHaveLength(1);
    expect(logs.some((line) => line.msg === "list/watch failed; restarting")).toBe(true);
  });
});
