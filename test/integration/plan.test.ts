/**
 * `plan` against a real kube-apiserver with the same fake cloud the controller used (in this process):
 * nothing to do once converged; a listener change after a port edit made while the controller is down;
 * a cleanup once the Service stops wanting a load balancer; and never a mutating call of its own.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeProvider, type FakeProvider } from "../../providers/fake/index.ts";
import { demoParts } from "../../sandbox/demo/parts.ts";
import type { RunningController } from "../../sandbox/demo/scenario.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { planExitCode, renderPlanJson, renderPlanText } from "../../src/plan/render.ts";
import { type OperatorDeps, runPlan, ServiceNotFoundError } from "../../src/plan/run-plan.ts";
import { createNodes, seedNodes, seedService, waitFor, withControlPlane } from "../harness/index.ts";

const CLUSTER = "plan-test";
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("plan", () => {
  const controlPlane = withControlPlane();
  let core: CoreV1Api;
  let provider: FakeProvider;
  let deps: OperatorDeps;
  let controller: RunningController | undefined;

  const startController = async () => {
    controller = await demoParts("fake", createLogger("silent")).startController({
      kubeConfig: controlPlane.kubeConfig(),
      provider,
      clusterName: CLUSTER,
    });
  };
  const stopController = async () => {
    await controller?.stop();
    controller = undefined;
  };
  const addressOf = async (name: string) => {
    const service = await core.readNamespacedService({ namespace: "default", name });
    return service.status?.loadBalancer?.ingress?.[0]?.hostname;
  };

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    provider = createFakeProvider();
    deps = { kubeConfig: controlPlane.kubeConfig(), provider, clusterName: CLUSTER, selection: {} };
    await createNodes(core, seedNodes());
    await core.createNamespacedService({ namespace: "default", body: seedService({ type: "LoadBalancer" }) });
    await core.createNamespacedService({
      namespace: "default",
      body: seedService({ name: "second", type: "LoadBalancer", nodePort: null }),
    });
    await core.createNamespacedService({ namespace: "default", body: seedService({ name: "plain", nodePort: null }) });
    await startController();
    await waitFor(async () => (await addressOf("myapp-service")) && (await addressOf("second")), {
      description: "both LoadBalancer Services to get an address",
    });
  });

  afterAll(async () => {
    await stopController();
  });

  it("reports nothing to do on a converged cluster, and changes nothing", async () => {
    await waitFor(async () => (await runPlan(deps)).every((plan) => plan.action === "none"), {
      description: "the controller to finish converging",
    });
    const mutatingBefore = provider.mutatingCalls();
    const plans = await runPlan(deps);
    expect(plans.map((plan) => [plan.service, plan.action])).toEqual([
      ["default/myapp-service", "none"],
      ["default/second", "none"],
    ]);
    expect(planExitCode(plans)).toBe(0);
    expect(renderPlanText(plans)).toContain("No changes: 2 Services up to date.");
    expect(provider.mutatingCalls()).toBe(mutatingBefore);
  });

  it("reports a listener change after a port edit made while the controller is down", async () => {
    await stopController();
    await core.patchNamespacedService(
      {
        namespace: "default",
        name: "myapp-service",
        body: { spec: { ports: [{ port: 8080, targetPort: 80, nodePort: 30008, protocol: "TCP" }] } },
      },
      mergePatch,
    );
    const mutatingBefore = provider.mutatingCalls();

    const plans = await runPlan(deps);
    const edited = plans.find((plan) => plan.service === "default/myapp-service");
    expect(edited?.action).toBe("update");
    expect(edited?.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: "create", subject: "listener", name: "8080/TCP" }),
        expect.objectContaining({ action: "delete", subject: "listener", name: "80/TCP" }),
        expect.objectContaining({ action: "create", subject: "target", name: "node-1:30008" }),
      ]),
    );
    expect(plans.find((plan) => plan.service === "default/second")?.action).toBe("none");
    expect(planExitCode(plans)).toBe(2);
    expect(JSON.parse(renderPlanJson(plans)).changed).toBe(true);
    expect(provider.mutatingCalls()).toBe(mutatingBefore);
  });

  it("plans one Service when named, and says so for one it does not manage", async () => {
    const [one] = await runPlan(deps, { namespace: "default", name: "second" });
    expect(one).toMatchObject({ service: "default/second", action: "none" });
    const [plain] = await runPlan(deps, { namespace: "default", name: "plain" });
    expect(plain).toMatchObject({ service: "default/plain", action: "none", note: "not managed (type NodePort)" });
    await expect(runPlan(deps, { namespace: "default", name: "missing" })).rejects.toThrow(ServiceNotFoundError);
  });

  it("reports a cleanup when a Service with the finalizer leaves type LoadBalancer", async () => {
    await core.patchNamespacedService(
      { namespace: "default", name: "second", body: { spec: { type: "NodePort" } } },
      mergePatch,
    );
    const mutatingBefore = provider.mutatingCalls();
    const [second] = await runPlan(deps, { namespace: "default", name: "second" });
    expect(second?.action).toBe("delete");
    expect(second?.changes[0]).toMatchObject({ action: "delete", subject: "load-balancer", name: "default/second" });
    expect(provider.mutatingCalls()).toBe(mutatingBefore);
  });

  it("reports nothing again once the controller has converged the edits", async () => {
    await startController();
    await waitFor(async () => planExitCode(await runPlan(deps)) === 0, {
      description: "the controller to apply the port edit and the cleanup",
    });
    const plans = await runPlan(deps);
    expect(plans.map((plan) => plan.service)).toEqual(["default/myapp-service"]);
    expect(
      await provider.getLoadBalancer({ clusterName: CLUSTER, service: { namespace: "default", name: "second" } }),
    ).toBeUndefined();
  });
});
