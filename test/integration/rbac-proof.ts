/**
 * The proof that a set of RBAC objects (deploy/'s, the Helm chart's) is exactly enough for the
 * controller, as a suite to declare in a test file: the objects are applied to a real apiserver, and the
 * controller — `lb-provisioner run` as a child process, the fake provider — authenticates with a token
 * as the ServiceAccount they bind. The seed scenario converges; its logs never contain the token or the
 * AWS secret it was handed; its metrics count the work. Then, with one rule (services/status patch)
 * taken out of the ClusterRole, the same run fails with a permission error naming that verb and
 * resource, and the Service never gets an address: the negative control showing the proof can fail.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import {
  CoordinationV1Api,
  CoreV1Api,
  type CoreV1Event,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
  type V1ClusterRole,
  type V1Service,
} from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type ControlPlane,
  createNodes,
  isControllerWarning,
  seedNodes,
  seedService,
  waitFor,
  withControlPlane,
} from "../harness/index.ts";
import {
  applyObjects,
  type ControllerProcess,
  parseMetrics,
  quickLeaderElectionFlags,
  startController,
  sumMetric,
} from "./cli-process.ts";

export interface RbacProofOptions {
  /** Names the suite: whose objects are proven. */
  readonly subject: string;
  /** The ServiceAccount the objects bind, which the controller runs as. */
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
  /** Namespace, ServiceAccount, ClusterRole and Role with their bindings; may hold other objects too. */
  readonly objects: () => Promise<readonly KubernetesObject[]>;
  /**
   * Receives the controller's /metrics text once it converged the seed scenario, and once it failed
   * without the services/status rule (errors, retries): between them, every series it exports.
   */
  readonly onMetrics?: (run: "converged" | "forbidden", text: string) => void;
}

// Handed to the controller's environment as an AWS secret would be; must never be printed.
const AWS_SECRET = `lbp-test-secret-${randomBytes(12).toString("hex")}`;
const IDENTITY_NAME = "lb-provisioner-sa";

function eventsFor(events: readonly CoreV1Event[], service: string): CoreV1Event[] {
  return events.filter((event) => event.involvedObject.name === service);
}

/**
 * Declares the proof's tests in the calling file, on a control plane of their own (which the caller
 * may use too: it is returned), after applying {@link RbacProofOptions.objects}.
 */
export function describeRbacProof(options: RbacProofOptions): ControlPlane {
  const { namespace, name } = options.serviceAccount;
  const identity = {
    name: IDENTITY_NAME,
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
  };
  const controlPlane = withControlPlane({ identities: [identity] });
  let core: CoreV1Api;
  let clusterRole: V1ClusterRole & KubernetesObject;
  let running: ControllerProcess | undefined;

  const controllerArgs = (): string[] => [
    "--kubeconfig",
    controlPlane.kubeconfigPath(IDENTITY_NAME),
    "--provider",
    "fake",
    "--cluster-name",
    "rbac-test",
    // Short lease timings so the second run need not wait out the first one's Lease.
    ...quickLeaderElectionFlags(namespace),
  ];
  const scrape = async (controller: ControllerProcess): Promise<string> =>
    (await fetch(`${await controller.endpoint("/metrics")}/metrics`)).text();

  describe(`${options.subject}: RBAC proven by running the controller as its ServiceAccount`, () => {
    beforeAll(async () => {
      core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
      const objects = await options.objects();
      const role = objects.find((object) => object.kind === "ClusterRole");
      if (!role) throw new Error(`${options.subject} has no ClusterRole`);
      clusterRole = role as V1ClusterRole & KubernetesObject;
      await applyObjects(controlPlane.kubeConfig(), objects);
      await createNodes(core, seedNodes());
    });

    afterEach(async () => {
      await running?.process.stop(30_000);
      running = undefined;
    });

    afterAll(async () => {
      await running?.process.stop(5_000);
    });

    it("gives the ServiceAccount nothing it does not need", async () => {
      const asServiceAccount = controlPlane.kubeConfig(IDENTITY_NAME).makeApiClient(CoreV1Api);
      await expect(asServiceAccount.listNamespacedSecret({ namespace })).rejects.toMatchObject({ code: 403 });
      await expect(asServiceAccount.deleteNamespacedService({ name: "x", namespace: "default" })).rejects.toMatchObject(
        { code: 403 },
      );
    });

    it("converges the seed scenario as the ServiceAccount, logs no credential, and stops cleanly", async () => {
      const token = controlPlane.kubeConfig(IDENTITY_NAME).getCurrentUser()?.token ?? "";
      expect(token.length).toBeGreaterThan(16);
      running = await startController({
        args: controllerArgs(),
        env: { AWS_SECRET_ACCESS_KEY: AWS_SECRET, AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", LBP_LOG_LEVEL: "trace" },
        name: "lb-provisioner-rbac",
      });
      const controller = running;
      await controller.waitForLog((line) => line.msg === "became the leader", "leadership");

      await core.createNamespacedService({ namespace: "default", body: seedService() });
      await core.patchNamespacedService(
        { namespace: "default", name: "myapp-service", body: { spec: { type: "LoadBalancer" } } },
        // Merge patch: the Service becomes a LoadBalancer and keeps its nodePort 30008.
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      const service = await waitFor(
        async () => {
          const current: V1Service = await core.readNamespacedService({ namespace: "default", name: "myapp-service" });
          return (current.status?.loadBalancer?.ingress?.length ?? 0) > 0 ? current : undefined;
        },
        { description: "default/myapp-service to get an address", timeoutMs: 60_000 },
      );
      expect(service.metadata?.finalizers).toContain("service.kubernetes.io/load-balancer-cleanup");
      expect(service.spec?.ports?.[0]?.nodePort).toBe(30008);

      const events = await waitFor(
        async () => {
          const list = eventsFor((await core.listNamespacedEvent({ namespace: "default" })).items, "myapp-service");
          return list.some((event) => event.reason === "EnsuredLoadBalancer") ? list : undefined;
        },
        { description: "an EnsuredLoadBalancer event" },
      );
      expect(events.map((event) => event.reason)).toContain("EnsuringLoadBalancer");
      expect(events.filter(isControllerWarning)).toEqual([]);

      const leases = controlPlane.kubeConfig().makeApiClient(CoordinationV1Api);
      const lease = await leases.readNamespacedLease({ namespace, name: "lb-provisioner" });
      expect(lease.spec?.holderIdentity).toBeTruthy();

      const readyz = await fetch(`${await controller.endpoint("/readyz")}/readyz`);
      expect([readyz.status, (await readyz.text()).trim()]).toEqual([200, "ok: leader"]);
      const text = await scrape(controller);
      const metrics = parseMetrics(text);
      expect(sumMetric(metrics, "lbp_reconcile_total", ['result="success"'])).toBeGreaterThan(0);
      expect(sumMetric(metrics, "lbp_provider_calls_total", ['provider="fake"', 'outcome="success"'])).toBeGreaterThan(
        0,
      );
      expect(sumMetric(metrics, "lbp_reconcile_duration_seconds_count")).toBeGreaterThan(0);
      expect(sumMetric(metrics, "lbp_managed_load_balancers")).toBe(1);
      expect(sumMetric(metrics, "lbp_unsynced_services")).toBe(0);
      expect(sumMetric(metrics, "lbp_leader")).toBe(1);
      options.onMetrics?.("converged", text);

      // Every line of the Service's reconcile carries its key.
      const reconcileLines = controller.logs().filter((line) => line.key === "default/myapp-service");
      expect(reconcileLines.length).toBeGreaterThan(0);

      controller.process.stop(30_000);
      const exit = await controller.process.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      const released = await leases.readNamespacedLease({ namespace, name: "lb-provisioner" });
      expect(released.spec?.holderIdentity ?? "").toBe("");

      const output = controller.output();
      expect(output).toContain("starting lb-provisioner");
      expect(output).not.toContain(token);
      expect(output).not.toContain(AWS_SECRET);
      for (const line of controller.logs()) expect(line.level, line.raw).toBeDefined();
    });

    it("fails with a permission error naming services/status when that rule is removed", async () => {
      const admin = controlPlane.kubeConfig();
      const crippled: V1ClusterRole & KubernetesObject = {
        ...clusterRole,
        rules: (clusterRole.rules ?? []).filter((rule) => !rule.resources?.includes("services/status")),
      };
      expect(crippled.rules?.length).toBe((clusterRole.rules?.length ?? 0) - 1);
      await applyObjects(admin, [crippled]);
      try {
        running = await startController({ args: controllerArgs(), name: "lb-provisioner-rbac-negative" });
        await core.createNamespacedService({
          namespace: "default",
          body: seedService({ name: "forbidden-status", type: "LoadBalancer", nodePort: null }),
        });
        const warning = await waitFor(
          async () =>
            eventsFor((await core.listNamespacedEvent({ namespace: "default" })).items, "forbidden-status").find(
              isControllerWarning,
            ),
          { description: "a Warning event on default/forbidden-status", timeoutMs: 60_000 },
        );
        expect(warning.reason).toBe("SyncLoadBalancerFailed");
        expect(warning.message).toMatch(/forbidden/i);
        expect(warning.message).toContain('cannot patch resource "services/status"');
        await running.waitForLog(
          (line) => line.key === "default/forbidden-status" && /services\/status/.test(line.raw),
          "the forbidden status patch",
        );
        const service = await core.readNamespacedService({ namespace: "default", name: "forbidden-status" });
        expect(service.status?.loadBalancer?.ingress ?? []).toEqual([]);
        const text = await scrape(running);
        expect(sumMetric(parseMetrics(text), "lbp_unsynced_services")).toBe(1);
        options.onMetrics?.("forbidden", text);
      } finally {
        await applyObjects(admin, [clusterRole]);
      }
    });
  });
  return controlPlane;
}
