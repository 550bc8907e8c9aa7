import { CoordinationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceController } from "../../src/controller/index.ts";
import { LeadershipLostError, runWithLeaderElection } from "../../src/kube/leader-election.ts";
import { ControllerMetrics } from "../../src/observability/metrics.ts";
import { createNodes, seedNodes, seedService, waitFor, withControlPlane } from "../harness/index.ts";
import {
  CLUSTER_NAME,
  createNamespace,
  deleteServices,
  InstrumentedProvider,
  startController,
  testLogger,
  waitForIngress,
} from "./controller-support.ts";

const controlPlane = withControlPlane();
let core: CoreV1Api;
let coordination: CoordinationV1Api;
let namespace: string;

/** Short durations so a takeover is quick; same ratios as the defaults (15/10/2). */
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 400 };

interface Candidate {
  readonly identity: string;
  readonly provider: InstrumentedProvider;
  readonly leading: () => boolean;
  /** The election's outcome: resolves on a clean stop, rejects when the Lease is lost. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

function candidate(identity: string, leaseName: string): Candidate {
  const provider = new InstrumentedProvider();
  const stopping = new AbortController();
  let leading = false;
  const controller = createServiceController({
    kubeConfig: controlPlane.kubeConfig(),
    provider,
    clusterName: CLUSTER_NAME,
    workers: 2,
    resyncPeriodMs: 0,
    logger: testLogger(),
    metrics: new ControllerMetrics({ processMetrics: false }),
    backoff: { baseMs: 200, maxMs: 2_000 },
    drainTimeoutMs: 1_000,
  });
  const done = runWithLeaderElection(
    {
      kubeConfig: controlPlane.kubeConfig(),
      namespace,
      name: leaseName,
      identity,
      ...TIMING,
      logger: testLogger(),
      signal: stopping.signal,
      onStartedLeading: () => {
        leading = true;
      },
      onStoppedLeading: () => {
        leading = false;
      },
    },
    (signal) => controller.run(signal),
  );
  // Observed by the tests that expect it; never an unhandled rejection.
  done.catch(() => {});
  return {
    identity,
    provider,
    leading: () => leading,
    done,
    stop: async () => {
      stopping.abort();
      await done;
    },
  };
}

async function holderOf(leaseName: string): Promise<string | undefined> {
  const lease = await coordination.readNamespacedLease({ namespace, name: leaseName });
  return lease.spec?.holderIdentity ?? undefined;
}

beforeAll(async () => {
  core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  coordination = controlPlane.kubeConfig().makeApiClient(CoordinationV1Api);
  await createNodes(core, seedNodes());
  namespace = await createNamespace(core, "leader");
});

afterAll(async () => {
  const cleaner = await startController(controlPlane.kubeConfig());
  await deleteServices(core, namespace);
  await cleaner.stop();
});

describe("leader election", () => {
  it("only the leader calls the provider; stopping it hands over to the standby at once", async () => {
    const a = candidate("candidate-a", "lbp-handover");
    const b = candidate("candidate-b", "lbp-handover");
    const leader = await waitFor(() => (a.leading() ? a : b.leading() ? b : undefined), { description: "a leader" });
    const standby = leader === a ? b : a;
    expect(await holderOf("lbp-handover")).toBe(leader.identity);

    await core.createNamespacedService({
      namespace,
      body: seedService({ namespace, name: "first", type: "LoadBalancer", nodePort: null }),
    });
    await waitForIngress(core, namespace, "first");
    expect(leader.provider.ensureCount(`${namespace}/first`)).toBeGreaterThan(0);
    expect(standby.provider.ensures).toEqual([]);
    expect(standby.provider.fake.calls).toEqual([]);

    await leader.stop();
    const lease = await coordination.readNamespacedLease({ namespace, name: "lbp-handover" });
    // Released (or already taken over by the standby), never left to expire under the old leader's name.
    expect(lease.spec?.holderIdentity ?? "").not.toBe(leader.identity);
    if (!lease.spec?.holderIdentity) expect(lease.spec?.leaseDurationSeconds).toBe(1);

    await waitFor(() => standby.leading(), { description: "the standby to take over" });
    const callsByOldLeader = leader.provider.fake.calls.length;

    await core.createNamespacedService({
      namespace,
      body: seedService({ namespace, name: "second", type: "LoadBalancer", nodePort: null }),
    });
    await waitForIngress(core, namespace, "second");
    expect(standby.provider.ensureCount(`${namespace}/second`)).toBeGreaterThan(0);
    expect(leader.provider.fake.calls.length).toBe(callsByOldLeader);
    expect(await holderOf("lbp-handover")).toBe(standby.identity);
    await standby.stop();
  });

  it("a leader that cannot renew stops its work and reports the loss", async () => {
    const a = candidate("candidate-lost", "lbp-lost");
    await waitFor(() => a.leading(), { description: "the only candidate to lead" });

    // Someone else takes the Lease over (as after a network partition): the leader's renewals fail.
    const lease = await coordination.readNamespacedLease({ namespace, name: "lbp-lost" });
    await coordination.replaceNamespacedLease({
      namespace,
      name: "lbp-lost",
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "intruder", leaseDurationSeconds: 3600 } },
    });

    await expect(a.done).rejects.toBeInstanceOf(LeadershipLostError);
    expect(a.leading()).toBe(false);
    expect(await holderOf("lbp-lost")).toBe("intruder");
  });
});
