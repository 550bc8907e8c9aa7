import { describe, expect, it } from "vitest";
import { eligibleNodeSpecs, isNodeEligible, toNodeSpec } from "../../../src/controller/node-eligibility.ts";
import { newNode, tweakLabel, tweakNodeDeleting, tweakProviderID, tweakTaint } from "./fixtures.ts";

const EXCLUDE = "node.kubernetes.io/exclude-from-external-load-balancers";

describe("isNodeEligible", () => {
  it.each([
    ["plain node", newNode("n", "10.0.0.1"), true],
    ["being deleted", newNode("n", "10.0.0.1", tweakNodeDeleting), false],
    ["exclude label true", newNode("n", "10.0.0.1", tweakLabel(EXCLUDE, "true")), false],
    ["exclude label True", newNode("n", "10.0.0.1", tweakLabel(EXCLUDE, "True")), false],
    ["exclude label 1", newNode("n", "10.0.0.1", tweakLabel(EXCLUDE, "1")), false],
    ["exclude label false", newNode("n", "10.0.0.1", tweakLabel(EXCLUDE, "false")), true],
    ["exclude label 0", newNode("n", "10.0.0.1", tweakLabel(EXCLUDE, "0")), true],
    ["exclude label empty (presence excludes)", newNode("n", "10.0.0.1", tweakLabel(EXCLUDE, "")), false],
    ["exclude label not a bool", newNode("n", "10.0.0.1", tweakLabel(EXCLUDE, "yes")), false],
    ["autoscaler taint", newNode("n", "10.0.0.1", tweakTaint("ToBeDeletedByClusterAutoscaler")), false],
    ["other taint", newNode("n", "10.0.0.1", tweakTaint("node.kubernetes.io/unschedulable")), true],
    [
      "NotReady is not a filter",
      newNode("n", "10.0.0.1", (node) => {
        node.status = { ...node.status, conditions: [{ type: "Ready", status: "False" }] };
      }),
      true,
    ],
  ])("%s -> %s", (_, node, expected) => {
    expect(isNodeEligible(node)).toBe(expected);
  });
});

describe("toNodeSpec", () => {
  it("carries name, providerID, addresses, zone and labels", () => {
    const node = newNode(
      "ip-10-0-0-1",
      "10.0.0.1",
      tweakProviderID("aws:///us-east-1a/i-0123"),
      tweakLabel("topology.kubernetes.io/zone", "us-east-1a"),
    );
    expect(toNodeSpec(node)).toEqual({
      name: "ip-10-0-0-1",
      providerID: "aws:///us-east-1a/i-0123",
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
      zone: "us-east-1a",
      labels: { "kubernetes.io/hostname": "ip-10-0-0-1", "topology.kubernetes.io/zone": "us-east-1a" },
    });
  });

  it("falls back to the legacy zone label and omits what the node lacks", () => {
    const node = newNode("n", "10.0.0.1", tweakLabel("failure-domain.beta.kubernetes.io/zone", "z1"));
    const spec = toNodeSpec(node);
    expect(spec.zone).toBe("z1");
    expect("providerID" in spec).toBe(false);
  });
});

describe("eligibleNodeSpecs", () => {
  it("keeps eligible nodes only, sorted by name", () => {
    const specs = eligibleNodeSpecs([
      newNode("c", "192.168.1.4"),
      newNode("a", "192.168.1.2"),
      newNode("x", "192.168.1.9", tweakLabel(EXCLUDE, "true")),
      newNode("b", "192.168.1.3"),
    ]);
    expect(specs.map((spec) => spec.name)).toEqual(["a", "b", "c"]);
  });
});
