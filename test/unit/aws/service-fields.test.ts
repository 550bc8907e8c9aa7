/** IP families, session affinity and loadBalancerIP in the AWS provider: the decisions, the model, the diff and validate. */
import { describe, expect, it } from "vitest";
import { ANNOTATION, annotationField } from "../../../providers/aws/annotations.ts";
import { planActions } from "../../../providers/aws/diff.ts";
import { resolveTargets } from "../../../providers/aws/model.ts";
import { targetGroupName } from "../../../providers/aws/names.ts";
import { AWS_CAPABILITIES, loadBalancerAddressType } from "../../../providers/aws/service-fields.ts";
import type { ActualState, DesiredState } from "../../../providers/aws/state.ts";
import { discoverSubnets, requireIpv6Subnets, type SubnetInfo } from "../../../providers/aws/subnets.ts";
import { analyzeSpec, requireValidSpec } from "../../../providers/aws/validate.ts";
import { InvalidConfigurationError } from "../../../providers/errors.ts";
import type { IPFamily, IPFamilyPolicy, LoadBalancerSpec, ValidationIssue } from "../../../providers/types.ts";
import {
  desiredOf,
  inSync,
  newNode,
  newSpec,
  type SpecTweak,
  withAnnotations,
  withListeners,
  withNodes,
  withSourceRanges,
} from "./fixtures.ts";

const withFamilies =
  (policy: IPFamilyPolicy, ...families: IPFamily[]): SpecTweak =>
  (spec) => {
    spec.ipFamilies = families;
    spec.ipFamilyPolicy = policy;
  };
const withAffinity =
  (timeoutSeconds = 10800): SpecTweak =>
  (spec) => {
    spec.sessionAffinity = { type: "ClientIP", timeoutSeconds };
  };
const withLoadBalancerIP =
  (address: string): SpecTweak =>
  (spec) => {
    spec.loadBalancerIP = address;
  };
/** Nodes with an IPv6 InternalIP beside the IPv4 one. */
const dualStackNodes = [0, 1, 2].map((i) =>
  newNode(i, {
    addresses: [
      { type: "InternalIP", address: `192.168.1.${i + 2}` },
      { type: "InternalIP", address: `2600:1f18::${i + 2}` },
    ],
  }),
);

const issuesOf = (spec: LoadBalancerSpec): [string, string][] =>
  analyzeSpec(spec).issues.map((i: ValidationIssue) => [i.field, i.severity]);
const IP_ADDRESS_TYPE = annotationField(ANNOTATION.ipAddressType);
const TARGET_TYPE = annotationField(ANNOTATION.targetType);

describe("the IP address type of the NLB", () => {
  it.each([
    [[], undefined, "ipv4"],
    [["IPv4"], undefined, "ipv4"],
    [["IPv4", "IPv6"], undefined, "dualstack"],
    [["IPv6"], undefined, "dualstack"],
    [["IPv4"], "dualstack", "dualstack"],
    [["IPv4", "IPv6"], "ipv4", "ipv4"],
  ] as const)("families %j with annotation %s -> %s", (ipFamilies, ipAddressType, expected) => {
    expect(loadBalancerAddressType({ ipFamilies }, ipAddressType === undefined ? {} : { ipAddressType })).toBe(
      expected,
    );
  });

  it("declares both families, and answers sessionAffinity and loadBalancerIP", () => {
    expect(AWS_CAPABILITIES).toEqual({
      ipFamilies: ["IPv4", "IPv6"],
      sessionAffinity: "answered",
      loadBalancerIP: "answered",
    });
  });

  it("refuses a bad ip-address-type, naming the annotation and the values", () => {
    const spec = newSpec(withAnnotations({ [ANNOTATION.ipAddressType]: "ipv6" }));
    const error = (() => {
      try {
        requireValidSpec(spec);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe(IP_ADDRESS_TYPE);
    expect((error as Error).message).toMatch(/"ipv6" is not one of ipv4, dualstack/);
  });

  it("refuses ip-address-type: ipv4 for a Service that needs IPv6 clients, and warns when it only prefers them", () => {
    const ipv4 = withAnnotations({ [ANNOTATION.ipAddressType]: "ipv4" });
    expect(issuesOf(newSpec(ipv4, withFamilies("RequireDualStack", "IPv4", "IPv6")))).toEqual([
      [IP_ADDRESS_TYPE, "error"],
    ]);
    expect(issuesOf(newSpec(ipv4, withFamilies("SingleStack", "IPv6")))).toEqual([[IP_ADDRESS_TYPE, "error"]]);
    expect(issuesOf(newSpec(ipv4, withFamilies("PreferDualStack", "IPv6", "IPv4")))).toEqual([
      [IP_ADDRESS_TYPE, "error"],
    ]);
    expect(issuesOf(newSpec(ipv4, withFamilies("PreferDualStack", "IPv4", "IPv6")))).toEqual([
      [IP_ADDRESS_TYPE, "warning"],
    ]);
    expect(desiredOf(newSpec(ipv4, withFamilies("PreferDualStack", "IPv4", "IPv6"))).loadBalancer.ipAddressType).toBe(
      "ipv4",
    );
  });

  it("has no issue with a dual-stack or IPv6 Service", () => {
    for (const families of [["IPv4", "IPv6"], ["IPv6", "IPv4"], ["IPv6"]] as IPFamily[][])
      expect(issuesOf(newSpec(withNodes(...dualStackNodes), withFamilies("RequireDualStack", ...families)))).toEqual(
        [],
      );
  });
});

describe("targets and target groups by family", () => {
  it("gives an IPv6-primary Service ip targets of the nodes' IPv6 InternalIP in an ipv6 target group", () => {
    const spec = newSpec(withNodes(...dualStackNodes), withFamilies("RequireDualStack", "IPv6", "IPv4"));
    const desired = desiredOf(spec);
    expect(desired.loadBalancer.ipAddressType).toBe("dualstack");
    const [tg] = desired.targetGroups;
    expect(tg?.targetType).toBe("ip");
    expect(tg?.ipAddressType).toBe("ipv6");
    expect(tg?.targets.map((t) => t.id)).toEqual(["2600:1f18::2", "2600:1f18::3", "2600:1f18::4"]);
  });

  it("keeps instance targets in an IPv4 target group, with its old name, for an IPv4-primary dual-stack Service", () => {
    const desired = desiredOf(newSpec(withFamilies("RequireDualStack", "IPv4", "IPv6")));
    const [tg] = desired.targetGroups;
    expect([tg?.targetType, tg?.ipAddressType]).toEqual(["instance", "ipv4"]);
    const identity = {
      servicePort: 80,
      protocol: "TCP",
      nodePort: 30008,
      targetType: "instance",
      healthCheckProtocol: "TCP",
    } as const;
    const scope = { clusterName: "prod", namespace: "default", name: "myapp" };
    expect(tg?.name).toBe(targetGroupName(scope, identity));
    expect(targetGroupName(scope, { ...identity, targetType: "ip", ipAddressType: "ipv6" })).not.toBe(
      targetGroupName(scope, { ...identity, targetType: "ip" }),
    );
  });

  it("skips nodes without an InternalIP of the family, saying which family", () => {
    const spec = newSpec(withFamilies("SingleStack", "IPv6"));
    const { config } = requireValidSpec(spec);
    const result = resolveTargets(
      [dualStackNodes[0], newNode(5)].filter((n) => n !== undefined),
      config,
      "IPv6",
    );
    expect(result).toMatchObject({ targetType: "ip", family: "IPv6", ids: ["2600:1f18::2"] });
    expect(result.skipped).toEqual([{ node: "node-5", reason: "has no IPv6 InternalIP address" }]);
  });

  it("refuses instance targets for an IPv6-only Service, and warns for an IPv6-primary dual-stack one", () => {
    const instance = withAnnotations({ [ANNOTATION.targetType]: "instance" });
    expect(issuesOf(newSpec(instance, withFamilies("SingleStack", "IPv6")))).toEqual([[TARGET_TYPE, "error"]]);
    expect(issuesOf(newSpec(instance, withFamilies("RequireDualStack", "IPv6", "IPv4")))).toEqual([
      [TARGET_TYPE, "warning"],
    ]);
  });
});

describe("IPv6 source NAT for UDP", () => {
  it("is asked for when a dualstack NLB has a UDP port, and only then", () => {
    const udp = withListeners({ name: "dns", port: 53, protocol: "UDP", nodePort: 30053 });
    const dualStack = withFamilies("RequireDualStack", "IPv4", "IPv6");
    expect(desiredOf(newSpec(udp, dualStack)).loadBalancer.ipv6SourceNat).toBe(true);
    expect(desiredOf(newSpec(udp)).loadBalancer.ipv6SourceNat).toBe(false);
    expect(desiredOf(newSpec(dualStack)).loadBalancer.ipv6SourceNat).toBe(false);
  });
});

describe("security group rules for both families", () => {
  it("opens a dualstack NLB to 0.0.0.0/0 and ::/0 when the Service has no source ranges", () => {
    const desired = desiredOf(newSpec(withFamilies("RequireDualStack", "IPv4", "IPv6")));
    expect(desired.securityGroup.ingress.map((r) => r.cidr)).toEqual(["0.0.0.0/0", "::/0"]);
    expect(desiredOf(newSpec()).securityGroup.ingress.map((r) => r.cidr)).toEqual(["0.0.0.0/0"]);
  });

  it("keeps the Service's ranges of both families as they are", () => {
    const spec = newSpec(
      withFamilies("RequireDualStack", "IPv4", "IPv6"),
      withSourceRanges("10.0.0.0/8", "2001:db8::/32"),
    );
    expect(
      desiredOf(spec)
        .securityGroup.ingress.map((r) => r.cidr)
        .sort(),
    ).toEqual(["10.0.0.0/8", "2001:db8::/32"]);
  });
});

/** An existing NLB of `desired`'s at `ipAddressType`, with its listeners on no target group yet. */
function existing(desired: DesiredState, ipAddressType: "ipv4" | "dualstack"): ActualState {
  const synced = inSync(desired);
  const loadBalancer = synced.loadBalancer === undefined ? undefined : { ...synced.loadBalancer, ipAddressType };
  return { ...synced, ...(loadBalancer !== undefined && { loadBalancer }), targetGroups: [] };
}

describe("changing the address type of an existing NLB", () => {
  it("sets dualstack before any target group is made, so IPv6 target groups have a dualstack NLB", () => {
    const desired = desiredOf(newSpec(withNodes(...dualStackNodes), withFamilies("SingleStack", "IPv6")));
    const kinds = planActions(desired, existing(desired, "ipv4")).map((a) => a.kind);
    expect(kinds.indexOf("setIpAddressType")).toBeGreaterThan(-1);
    expect(kinds.indexOf("setIpAddressType")).toBeLessThan(kinds.indexOf("createTargetGroup"));
    expect(kinds).not.toContain("deleteLoadBalancer");
  });

  it("sets ipv4 last, after the target groups nothing uses are deleted", () => {
    const desired = desiredOf(newSpec());
    const actual = existing(desired, "dualstack");
    const stale = {
      ...actual,
      targetGroups: [
        {
          arn: "arn:tg/old",
          name: "old",
          protocol: "TCP",
          port: 30008,
          targetType: "ip",
          healthCheck: { protocol: "TCP", port: "traffic-port" },
          tags: {},
          targets: [],
        },
      ],
    };
    const actions = planActions(desired, stale);
    expect(actions.at(-1)).toEqual({ kind: "setIpAddressType", ipAddressType: "ipv4" });
    expect(actions.map((a) => a.kind)).toContain("deleteTargetGroup");
  });

  it("changes nothing when the address type is right, and reads an unreported one as ipv4", () => {
    const desired = desiredOf(newSpec());
    const { ipAddressType: _, ...unreported } = existing(desired, "ipv4").loadBalancer ?? {};
    const actual = { ...existing(desired, "ipv4"), loadBalancer: unreported } as ActualState;
    expect(planActions(desired, actual).map((a) => a.kind)).not.toContain("setIpAddressType");
  });
});

describe("subnets of a dualstack NLB", () => {
  const v4 = (id: string, zone: string): SubnetInfo => ({ id, vpcId: "vpc-1", zone, cidr: "10.0.0.0/24", tags: {} });
  const v6 = (id: string, zone: string): SubnetInfo => ({ ...v4(id, zone), ipv6Cidrs: ["2600:1f18:0:1::/64"] });
  const discover = (subnets: SubnetInfo[], dualStack: boolean) =>
    discoverSubnets({
      subnets,
      routeTables: [{ subnetIds: [], main: true, internetGateway: true }],
      zoneTypes: new Map(),
      scheme: "internet-facing",
      clusterName: "prod",
      dualStack,
    }).map((s) => s.id);

  it("prefers, in each zone, a subnet with an IPv6 CIDR block", () => {
    const subnets = [v4("subnet-a", "us-east-1a"), v6("subnet-b", "us-east-1a")];
    expect(discover(subnets, true)).toEqual(["subnet-b"]);
    expect(discover(subnets, false)).toEqual(["subnet-a"]);
  });

  it("refuses subnets without one, naming each and the fixes", () => {
    const reason = { field: "spec.ipFamilies", instead: "give the Service IPv4 only" };
    expect(() => requireIpv6Subnets([v6("subnet-b", "us-east-1b")], reason)).not.toThrow();
    const attempt = () => requireIpv6Subnets([v4("subnet-a", "us-east-1a"), v6("subnet-b", "us-east-1b")], reason);
    expect(attempt).toThrow(InvalidConfigurationError);
    expect(attempt).toThrow(/subnet-a \(us-east-1a\) has none; associate an IPv6 CIDR block/);
    expect(attempt).toThrow(
      new RegExp(`list subnets that have one in ${ANNOTATION.subnets}, or give the Service IPv4 only`),
    );
    expect(() => requireIpv6Subnets([v4("subnet-a", "us-east-1a")], { ...reason, existing: true })).toThrow(
      /that subnet, or give the Service IPv4 only/,
    );
  });
});

describe("session affinity", () => {
  it("turns source-IP stickiness on for ClientIP, and off without it", () => {
    expect(desiredOf(newSpec(withAffinity())).targetGroups[0]?.attributes).toEqual({
      "stickiness.enabled": "true",
      "stickiness.type": "source_ip",
    });
    expect(desiredOf(newSpec()).targetGroups[0]?.attributes).toEqual({ "stickiness.enabled": "false" });
  });

  it("lets the target-group-attributes annotation decide stickiness when it sets it", () => {
    const annotated = withAnnotations({ [ANNOTATION.targetGroupAttributes]: "stickiness.enabled=true" });
    expect(desiredOf(newSpec(annotated)).targetGroups[0]?.attributes).toEqual({ "stickiness.enabled": "true" });
  });

  it("warns that the timeout has no effect, and refuses stickiness.enabled=false beside ClientIP", () => {
    const [issue] = analyzeSpec(newSpec(withAffinity(600))).issues;
    expect(issue).toMatchObject({ field: "spec.sessionAffinity", severity: "warning" });
    expect(issue?.message).toMatch(/stickiness\.type=source_ip.*timeoutSeconds \(600\) has no effect/);
    const off = withAnnotations({ [ANNOTATION.targetGroupAttributes]: "stickiness.enabled=false" });
    expect(issuesOf(newSpec(withAffinity(), off))).toContainEqual([
      annotationField(ANNOTATION.targetGroupAttributes),
      "error",
    ]);
  });

  it("costs no call on a new target group without affinity, and one attribute call with it", () => {
    const empty: ActualState = { listeners: [], targetGroups: [] };
    const kinds = (spec: LoadBalancerSpec) => planActions(desiredOf(spec), empty).map((a) => a.kind);
    expect(kinds(newSpec())).not.toContain("modifyTargetGroupAttributes");
    expect(kinds(newSpec(withAffinity()))).toContain("modifyTargetGroupAttributes");
  });
});

describe("spec.loadBalancerIP", () => {
  it("warns, naming the Elastic IP annotation for an internet-facing NLB and the private one for an internal NLB", () => {
    const [publicIssue] = analyzeSpec(newSpec(withLoadBalancerIP("203.0.113.7"))).issues;
    expect(publicIssue).toMatchObject({ field: "spec.loadBalancerIP", severity: "warning" });
    expect(publicIssue?.message).toContain(ANNOTATION.eipAllocations);
    const internal = withAnnotations({ [ANNOTATION.internal]: "true" });
    const [privateIssue] = analyzeSpec(newSpec(internal, withLoadBalancerIP("10.0.1.7"))).issues;
    expect(privateIssue?.message).toContain(ANNOTATION.privateIpv4Addresses);
  });
});
