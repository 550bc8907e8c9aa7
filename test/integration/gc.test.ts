/**
 * `gc` against a real kube-apiserver with the fake cloud the controller used: a load balancer left behind
 * by a Service whose finalizer was removed by hand and which was deleted while the controller was down is
 * listed (and kept) without `--yes`, and removed with it; a live Service's load balancer is never listed.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeProvider, type FakeProvider } from "../../providers/fake/index.ts";
import { demoParts } from "../../sandbox/demo/parts.ts";
import type { RunningController } from "../../sandbox/demo/scenario.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { renderGc, runGc } from "../../src/plan/gc.ts";
import type { OperatorDeps } from "../../src/plan/run-plan.ts";
import { createNodes, seedNodes, seedService, waitFor, withControlPlane } from "../harness/index.ts";

const CLUSTER = "gc-test";
const ref = (name: string) => ({ clusterName: CLUSTER, service: { namespace: "default", name } });

describe("gc", () => {
  const controlPlane = withControlPlane();
  let core: CoreV1Api;
  let provider: FakeProvider;
  let deps: OperatorDeps;
  let controller: RunningController | undefined;

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    provider = createFakeProvider();
    deps = { kubeConfig: controlPlane.kubeConfig(), provider, clusterName: CLUSTER, selection: {} };
    await createNodes(core, seedNodes());
    await core.createNamespacedService({ namespace: "default", body: seedService({ type: "LoadBalancer" }) });
    await core.createNamespacedService({
      namespace: "default",
      body: seedService({ name: "keeper", type: "LoadBalancer", nodePort: null }),
    });
    controller = await demoParts("fake", createLogger("silent")).startController({
      kubeConfig: controlPlane.kubeConfig(),
      provider,
      clusterName: CLUSTER,
    });
    await waitFor(
      async () =>
        (await provider.getLoadBalancer(ref("myapp-service"))) !== undefined &&
        (await provider.getLoadBalancer(ref("keeper"))) !== undefined,
      { description: "both load balancers to exist" },
    );
  });

  afterAll(async () => {
    await controller?.stop();
  });

  it("finds nothing while every load balancer has its Service", async () => {
    const result = await runGc(deps, { yes: false });
    expect(result.orphans).toEqual([]);
    expect(renderGc(result, CLUSTER)).toBe(`No orphaned load balancers in cluster ${CLUSTER}.\n`);
  });

  it("lists the load balancer of a Service deleted behind the controller's back, and keeps it without --yes", async () => {
    await controller?.stop();
    controller = undefined;
    await core.patchNamespacedService(
      { namespace: "default", name: "myapp-service", body: { metadata: { finalizers: null } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedService({ namespace: "default", name: "myapp-service" });
    await waitFor(
      async () =>
        (await core.listNamespacedService({ namespace: "default" })).items.every(
          (s) => s.metadata?.name !== "myapp-service",
        ),
      { description: "the Service to be gone" },
    );
    const mutatingBefore = provider.mutatingCalls();

    const result = await runGc(deps, { yes: false });

    expect(result.orphans.map((orphan) => [orphan.loadBalancer.ref.service.name, orphan.reason])).toEqual([
      ["myapp-service", "Service not found"],
    ]);
    expect(renderGc(result, CLUSTER)).toContain("1 orphaned load balancer; run again with --yes to delete.");
    expect(provider.mutatingCalls()).toBe(mutatingBefore);
    expect(await provider.getLoadBalancer(ref("myapp-service"))).toBeDefined();
  });

  it("removes it with --yes, and only it", async () => {
    const result = await runGc(deps, { yes: true });

    expect(result.orphans.map((orphan) => orphan.loadBalancer.ref.service.name)).toEqual(["myapp-service"]);
    expect(renderGc(result, CLUSTER)).toContain("Deleted 1 orphaned load balancer.");
    expect(await provider.getLoadBalancer(ref("myapp-service"))).toBeUndefined();
    expect(await provider.getLoadBalancer(ref("keeper"))).toBeDefined();
    expect((await runGc(deps, { yes: false })).orphans).toEqual([]);
  });
});
