import { describe, expect, it } from "vitest";
import { exampleNodes } from "../../../../providers/conformance/index.ts";
import {
  buildableIpFamilies,
  type IPFamily,
  type IPFamilyPolicy,
  internalAddressOf,
  ipFamiliesOf,
  ipFamilyIssues,
  ipFamilyOfAddress,
  type NodeSpec,
} from "../../../../providers/index.ts";

const IPV4: readonly IPFamily[] = ["IPv4"];
const BOTH: readonly IPFamily[] = ["IPv4", "IPv6"];

describe("ipFamiliesOf and buildableIpFamilies", () => {
  it("read an absent or empty list as IPv4, what every load balancer was before the field", () => {
    expect(ipFamiliesOf({})).toEqual(["IPv4"]);
    expect(ipFamiliesOf({ ipFamilies: [] })).toEqual(["IPv4"]);
    expect(ipFamiliesOf({ ipFamilies: ["IPv6", "IPv4"] })).toEqual(["IPv6", "IPv4"]);
  });

  it("keep the served families in the Service's order, so the first is the family of the targets", () => {
    expect(buildableIpFamilies({ ipFamilies: ["IPv6", "IPv4"] }, BOTH)).toEqual(["IPv6", "IPv4"]);
    expect(buildableIpFamilies({ ipFamilies: ["IPv6", "IPv4"] }, IPV4)).toEqual(["IPv4"]);
    expect(buildableIpFamilies({ ipFamilies: ["IPv6"] }, IPV4)).toEqual([]);
  });
});

describe("ipFamilyIssues", () => {
  const issues = (ipFamilies: IPFamily[], ipFamilyPolicy: IPFamilyPolicy, served = IPV4) =>
    ipFamilyIssues({ ipFamilies, ipFamilyPolicy }, served);

  it("has nothing to say when every family is served", () => {
    expect(issues(["IPv4"], "SingleStack")).toEqual([]);
    expect(issues(["IPv6", "IPv4"], "RequireDualStack", BOTH)).toEqual([]);
    expect(ipFamilyIssues({}, IPV4)).toEqual([]);
  });

  it("warns, and builds the served family, when the Service only prefers dual-stack", () => {
    expect(issues(["IPv6", "IPv4"], "PreferDualStack")).toEqual([
      {
        field: "spec.ipFamilies",
        severity: "warning",
        message:
          "IPv6 is not served: this provider's load balancers serve IPv4 only, so the load balancer is built for IPv4; use a provider that serves IPv6 if clients need it",
      },
    ]);
  });

  it("refuses a Service that requires dual-stack, pointing at PreferDualStack", () => {
    expect(issues(["IPv4", "IPv6"], "RequireDualStack")).toEqual([
      {
        field: "spec.ipFamilies",
        severity: "error",
        message:
          "RequireDualStack needs IPv4 and IPv6, but this provider's load balancers serve IPv4 only; set spec.ipFamilyPolicy to PreferDualStack to accept a load balancer for IPv4, or use a provider that serves both",
      },
    ]);
  });

  it("refuses a single-stack Service of a family not served, rather than build the other family", () => {
    expect(issues(["IPv6"], "SingleStack")).toEqual([
      {
        field: "spec.ipFamilies",
        severity: "error",
        message:
          "IPv6 is not served: this provider's load balancers serve IPv4 only; give the Service a family it serves (spec.ipFamilies: [IPv4], or spec.ipFamilyPolicy: PreferDualStack with both), or use a provider that serves IPv6",
      },
    ]);
    expect(issues(["IPv4"], "SingleStack", ["IPv6"])[0]?.severity).toBe("error");
  });
});

describe("addresses by family", () => {
  it("tells the family of an address, and nothing for a name", () => {
    expect(ipFamilyOfAddress("192.0.2.1")).toBe("IPv4");
    expect(ipFamilyOfAddress("2001:db8::1")).toBe("IPv6");
    expect(ipFamilyOfAddress("node-1")).toBeUndefined();
  });

  it("finds a node's InternalIP of a family", () => {
    const node = exampleNodes(1)[0] as NodeSpec;
    expect(internalAddressOf(node, "IPv4")).toBe("192.168.1.2");
    expect(internalAddressOf(node, "IPv6")).toBe("fd00:1::2");
    const ipv4Only = { ...node, addresses: node.addresses.filter((a) => !a.address.includes(":")) };
    expect(internalAddressOf(ipv4Only, "IPv6")).toBeUndefined();
  });
});
