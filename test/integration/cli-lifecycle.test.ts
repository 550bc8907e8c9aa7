/**
 * The process lifecycle of `lb-provisioner run` against a real apiserver (fake provider): two replicas
 * share a Lease and the standby takes over when the leader is killed; a leader whose Lease is taken
 * from it exits 1; SIGTERM with a reconcile stuck in a slow cloud call still exits 0 within the pod's
 * termination grace period, because the drain is bounded.
 */
import { CoordinationV1Api, CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createNodes, seedNodes, seedService, waitFor, withControlPlane } from "../harness/index.ts";
import { type ControllerProcess, quickLeaderElectionFlags, startController, takeLease } from "./cli-process.ts";

const LEASE_NAMESPACE = "default";
// The Deployment's terminationGracePeriodSeconds: a stopping process must be gone before the kubelet kills it.
const TERMINATION_GRACE_MS = 30_000;

function electionArgs(kubeconfig: string, leaseName: string): string[] {
  return ["--kubeconfig", kubeconfig, "--provider", "fake", ...quickLeaderElectionFlags(LEASE_NAMESPACE, leaseName)];
}

const becameLeader = (line: { msg?: string }): boolean => line.msg === "became the leader";

describe("lb-provisioner run lifecycle", () => {
  const controlPlane = withControlPlane();
  let core: CoreV1Api;
  let leases: CoordinationV1Api;
  const started: ControllerProcess[] = [];

  async function start(leaseName: string, name: string, extra: readonly string[] = []): Promise<ControllerProcess> {
    const controller = await startController({
      args: [...electionArgs(controlPlane.kubeconfigPath(), leaseName), ...extra],
      name,
    });
    started.push(controller);
    return controller;
  }

  async function addressOf(name: string): Promise<string> {
    return waitFor(
      async () => {
        const service: V1Service = await core.readNamespacedService({ namespace: "default", name });
        const ingress = service.status?.loadBalancer?.ingress?.[0];
        return ingress?.hostname ?? ingress?.ip;
      },
      { description: `default/${name} to get an address`, timeoutMs: 60_000 },
    );
  }

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    leases = controlPlane.kubeConfig().makeApiClient(CoordinationV1Api);
    await createNodes(core, seedNodes());
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((controller) => controller.process.stop(5_000)));
  });

  it("runs one leader of two replicas, and the standby takes over when the leader is killed", async () => {
    const first = await start("failover", "replica-a");
    const second = await start("failover", "replica-b");
    const leader = await waitFor(() => [first, second].find((replica) => replica.logs().some(becameLeader)), {
      description: "one replica to become the leader",
      timeoutMs: 60_000,
    });
    const standby = leader === first ? second : first;
    expect(standby.logs().some(becameLeader)).toBe(false);
    const standbyReady = await fetch(`${await standby.endpoint("/readyz")}/readyz`);
    expect([standbyReady.status, (await standbyReady.text()).trim()]).toEqual([200, "ok: standby"]);

    await core.createNamespacedService({
      namespace: "default",
      body: seedService({ name: "before-failover", type: "LoadBalancer" }),
    });
    await addressOf("before-failover");

    const killedAt = Date.now();
    process.kill(leader.pid, "SIGKILL");
    await leader.process.exited;
    await standby.waitForLog(becameLeader, "leadership after the leader was killed", 60_000);
    const lease = await leases.readNamespacedLease({ namespace: LEASE_NAMESPACE, name: "failover" });
    expect(lease.spec?.holderIdentity).toBeTruthy();
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    console.info(`standby took over ${Date.now() - killedAt} ms after the leader was killed (lease 6 s)`);

    await core.createNamespacedService({
      namespace: "default",
      body: seedService({ name: "after-failover", type: "LoadBalancer", nodePort: null }),
    });
    await addressOf("after-failover");
  });

  it("exits 1 when its Lease is taken from it", async () => {
    const controller = await start("stolen", "replica-robbed");
    await controller.waitForLog(becameLeader, "leadership");
    await takeLease(controlPlane.kubeConfig(), LEASE_NAMESPACE, "stolen", 3600);
    const exit = await waitFor(() => controller.process.exit, {
      description: "the robbed leader to exit",
      timeoutMs: TERMINATION_GRACE_MS,
    });
    expect(exit).toEqual({ code: 1, signal: null });
    expect(controller.logs().some((line) => line.level === "error" && /lost/.test(String(line.msg)))).toBe(true);
  });

  it("exits 0 on SIGTERM within the grace period even with a cloud call in flight", async () => {
    const controller = await start("draining", "replica-draining", [
      "--provider-config",
      "latencyMs=600000",
      "--graceful-shutdown-timeout",
      "2s",
    ]);
    await controller.waitForLog(becameLeader, "leadership");
    await core.createNamespacedService({
      namespace: "default",
      body: seedService({ name: "slow-cloud", type: "LoadBalancer", nodePort: null }),
    });
    // The finalizer is added right before the first cloud call, which then takes ten minutes.
    await waitFor(
      async () => {
        const service = await core.readNamespacedService({ namespace: "default", name: "slow-cloud" });
        return service.metadata?.finalizers?.includes("service.kubernetes.io/load-balancer-cleanup");
      },
      { description: "default/slow-cloud to get its finalizer", timeoutMs: 60_000 },
    );

    process.kill(controller.pid, "SIGTERM");
    const exit = await waitFor(() => controller.process.exit, {
      description: "the process to exit after SIGTERM",
      timeoutMs: TERMINATION_GRACE_MS,
    });
    expect(exit).toEqual({ code: 0, signal: null });
    const lease = await leases.readNamespacedLease({ namespace: LEASE_NAMESPACE, name: "draining" });
    expect(lease.spec?.holderIdentity ?? "").toBe("");
  });
});
