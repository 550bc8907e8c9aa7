import { describe, expect, it } from "vitest";
import { conformanceSpec, exampleNodes } from "../../../../providers/conformance/index.ts";
import { undeclaredFieldIssues } from "../../../../providers/index.ts";

const everything = conformanceSpec({
  clusterName: "unit",
  name: "web",
  nodes: exampleNodes(1),
  ipFamilies: ["IPv4", "IPv6"],
  ipFamilyPolicy: "RequireDualStack",
  sessionAffinity: { type: "ClientIP", timeoutSeconds: 10800 },
  loadBalancerIP: "192.0.2.10",
});

describe("undeclaredFieldIssues", () => {
  it("warns, naming each field, for a provider that declares nothing", () => {
    const issues = undeclaredFieldIssues(everything, undefined, "acme");
    expect(issues.map((issue) => [issue.field, issue.severity])).toEqual([
      ["spec.ipFamilies", "warning"],
      ["spec.sessionAffinity", "warning"],
      ["spec.loadBalancerIP", "warning"],
    ]);
    expect(issues[0]?.message).toBe(
      "IPv4,IPv6 asks for IPv6, and the acme provider does not declare the families it serves, so its load balancer is built as before: for IPv4 clients, sending traffic to the nodes' IPv4 addresses; use a provider that serves IPv6, or give the Service IPv4",
    );
    expect(issues[2]?.message).toContain("192.0.2.10 is not read by the acme provider");
  });

  it("says nothing of what the provider declares, honoured or answered by its own validate", () => {
    expect(
      undeclaredFieldIssues(
        everything,
        { ipFamilies: ["IPv4"], sessionAffinity: "answered", loadBalancerIP: "honoured" },
        "acme",
      ),
    ).toEqual([]);
  });

  it("says nothing of fields the Service does not set, or of IPv4", () => {
    const plain = conformanceSpec({ clusterName: "unit", name: "web", nodes: [], ipFamilies: ["IPv4"] });
    expect(undeclaredFieldIssues(plain, undefined, "acme")).toEqual([]);
  });
});
