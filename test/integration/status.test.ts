/**
 * `status` against a real kube-apiserver, with the controller and its fake cloud in this process: one
 * row per managed Service with its address, listeners, target count and the controller's last Event.
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeProvider, type FakeProvider } from "../../providers/fake/index.ts";
import { demoParts } from "../../sandbox/demo/parts.ts";
import type { RunningController } from "../../sandbox/demo/scenario.ts";
import { createLogger } from "../../src/observability/logger.ts";
import type { OperatorDeps } from "../../src/plan/run-plan.ts";
import { renderStatusTable, runStatus } from "../../src/plan/service-status.ts";
import { createNodes, seedNodes, seedService, waitFor, withControlPlane } from "../harness/index.ts";

const CLUSTER = "status-test";

describe("status", () => {
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
    await core.createNamespacedService({ namespace: "default", body: seedService({ name: "plain", nodePort: null }) });
    controller = await demoParts("fake", createLogger("silent")).startController({
      kubeConfig: controlPlane.kubeConfig(),
      provider,
      clusterName: CLUSTER,
    });
  });

  afterAll(async () => {
    await controller?.stop();
  });

  it("lists each managed Service with its address, listeners, targets, condition and last result", async () => {
    const rows = await waitFor(
      async () => {
        const current = await runStatus(deps);
        return current[0]?.lastResult === "Normal EnsuredLoadBalancer" && current[0].address !== ""
          ? current
          : undefined;
      },
      { description: "the controller to report EnsuredLoadBalancer" },
    );

    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({
      service: "default/myapp-service",
      provider: "fake",
      listeners: "80/TCP",
      targets: 3,
      ready: { status: "True", reason: "Ensured", message: "Ensured load balancer" },
    });
    expect(row?.address).toMatch(/\.lb\.fake\.invalid$/);
    expect(row?.lastResultAt).toBeInstanceOf(Date);

    const table = renderStatusTable(rows, new Date());
    expect(table).toMatch(/^SERVICE\s+ADDRESS\s+PROVIDER\s+LISTENERS\s+TARGETS\s+READY\s+LAST RESULT\s+AGE\n/);
    expect(table).toContain("default/myapp-service");
    expect(table).not.toContain("default/plain");
  });
});
