import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  loadAllYaml,
  type V1ClusterRole,
  type V1Deployment,
  type V1PodDisruptionBudget,
  type V1Role,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { runCommand } from "../../../src/commands/run.ts";
import { resolveConfig } from "../../../src/config/index.ts";

const DEPLOY = fileURLToPath(new URL("../../../deploy/", import.meta.url));

function manifest<T>(file: string, kind: string): T {
  const objects = loadAllYaml(readFileSync(`${DEPLOY}${file}`, "utf8")) as { kind: string }[];
  const found = objects.find((object) => object.kind === kind);
  if (!found) throw new Error(`${file} has no ${kind}`);
  return found as T;
}

const deployment = manifest<V1Deployment>("deployment.yaml", "Deployment");
const pod = deployment.spec?.template.spec;
const container = pod?.containers[0];

/** The Deployment's args as the CLI parses them, with the env the Pod gets. */
function deployedConfig() {
  const command = runCommand().exitOverride();
  const [subcommand, ...args] = container?.args ?? [];
  expect(subcommand).toBe("run");
  command.parseOptions(args);
  return resolveConfig({
    flags: command.opts(),
    env: { POD_NAMESPACE: "lb-provisioner" },
    serviceAccountNamespace: () => "lb-provisioner",
  });
}

describe("deploy/deployment.yaml", () => {
  it("passes only valid flags to lb-provisioner run", () => {
    const config = deployedConfig();
    expect(config.provider).toBe("aws");
    expect(config.leaderElection).toMatchObject({ enabled: true, namespace: "lb-provisioner", name: "lb-provisioner" });
  });

  it("probes and exposes the ports the flags bind", () => {
    const config = deployedConfig();
    const ports = Object.fromEntries((container?.ports ?? []).map((port) => [port.name, port.containerPort]));
    expect(ports.metrics).toBe(config.metricsBindAddress?.port);
    expect(ports.health).toBe(config.healthProbeBindAddress?.port);
    expect(container?.livenessProbe?.httpGet).toMatchObject({ path: "/healthz", port: "health" });
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: "/readyz", port: "health" });
  });

  it("drains within the termination grace period", () => {
    const config = deployedConfig();
    expect(pod?.terminationGracePeriodSeconds).toBe(30);
    expect(config.gracefulShutdownTimeoutMs).toBeLessThan((pod?.terminationGracePeriodSeconds ?? 0) * 1000);
  });

  it("runs two replicas, locked down", () => {
    expect(deployment.spec?.replicas).toBe(2);
    expect(pod?.serviceAccountName).toBe("lb-provisioner");
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(container?.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container?.resources?.limits).toMatchObject({ memory: expect.any(String) });
    expect(container?.env).toContainEqual({
      name: "POD_NAMESPACE",
      valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } },
    });
  });
});

describe("deploy/pdb.yaml", () => {
  it("keeps one replica and selects the Deployment's pods", () => {
    const pdb = manifest<V1PodDisruptionBudget>("pdb.yaml", "PodDisruptionBudget");
    expect(pdb.spec?.minAvailable).toBe(1);
    expect(pdb.spec?.selector?.matchLabels).toEqual(deployment.spec?.selector.matchLabels);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(pdb.spec?.selector?.matchLabels ?? {});
  });
});

describe("deploy RBAC", () => {
  it("grants exactly the verbs the controller uses", () => {
    const role = manifest<V1ClusterRole>("clusterrole.yaml", "ClusterRole");
    const granted = (role.rules ?? []).flatMap((rule) =>
      (rule.resources ?? []).map((resource) => `${rule.apiGroups?.join(",")}/${resource}: ${rule.verbs.join(",")}`),
    );
    expect(granted).toEqual([
      "/services: get,list,watch,patch",
      "/services/status: patch",
      "/nodes: get,list,watch",
      "/events: create,patch",
    ]);
    const leases = manifest<V1Role>("role.yaml", "Role");
    expect(leases.metadata?.namespace).toBe("lb-provisioner");
    expect(leases.rules).toEqual([
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
    ]);
  });
});
