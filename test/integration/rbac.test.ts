/**
 * deploy/'s RBAC is exactly enough: the shared proof (rbac-proof.ts) runs the controller as the
 * ServiceAccount deploy/ binds, under deploy/'s roles. The Deployment and PodDisruptionBudget pass the
 * apiserver's schema.
 */
import { describe, expect, it } from "vitest";
import { applyObjects, deployManifests } from "./cli-process.ts";
import { describeRbacProof } from "./rbac-proof.ts";

const RBAC_FILES = ["namespace.yaml", "serviceaccount.yaml", "clusterrole.yaml", "role.yaml"];

const controlPlane = describeRbacProof({
  subject: "deploy/",
  serviceAccount: { namespace: "lb-provisioner", name: "lb-provisioner" },
  objects: async () => RBAC_FILES.flatMap(deployManifests),
});

describe("deploy/ workload", () => {
  it("validates the Deployment and PodDisruptionBudget against the apiserver's schema", async () => {
    await expect(
      applyObjects(controlPlane.kubeConfig(), [...deployManifests("deployment.yaml"), ...deployManifests("pdb.yaml")], {
        dryRun: true,
      }),
    ).resolves.toBeUndefined();
  });
});
