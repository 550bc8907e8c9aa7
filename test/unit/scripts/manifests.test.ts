/** scripts/manifests.ts: how `helm template` output becomes the files of deploy/. */
import { describe, expect, it } from "vitest";
import { splitByTemplate } from "../../../scripts/manifests.ts";

describe("splitByTemplate", () => {
  it("groups documents by the template they came from, without helm's Source lines, in helm's order", () => {
    const rendered = [
      "---",
      "# Source: lb-provisioner/templates/serviceaccount.yaml",
      "apiVersion: v1",
      "kind: ServiceAccount",
      "---",
      "# Source: lb-provisioner/templates/clusterrole.yaml",
      "# Exactly the verbs the controller uses.",
      "kind: ClusterRole",
      "---",
      "# Source: lb-provisioner/templates/clusterrole.yaml",
      "kind: ClusterRoleBinding",
      "",
    ].join("\n");
    expect([...splitByTemplate(rendered)]).toEqual([
      ["serviceaccount.yaml", "apiVersion: v1\nkind: ServiceAccount\n"],
      [
        "clusterrole.yaml",
        "# Exactly the verbs the controller uses.\nkind: ClusterRole\n---\nkind: ClusterRoleBinding\n",
      ],
    ]);
  });

  it("ignores what is not a rendered template (helm's NOTES, empty output)", () => {
    expect(splitByTemplate("")).toEqual(new Map());
    expect(splitByTemplate("---\n# not a source line\nkind: X\n")).toEqual(new Map());
  });
});
