import type { SecurityGroup } from "@aws-sdk/client-ec2";
import type { LoadBalancer, TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import { describe, expect, it } from "vitest";
import { ANNOTATION } from "../../../providers/aws/annotations.ts";
import { planActions } from "../../../providers/aws/diff.ts";
import type { ServiceResources } from "../../../providers/aws/inventory.ts";
import {
  type AppliedResources,
  actualOf,
  appliedAsIs,
  convergedState,
  onlyTargetChanges,
  type RecordedState,
  resyncView,
} from "../../../providers/aws/known-state.ts";
import { ServiceRecords } from "../../../providers/aws/records.ts";
import type { DesiredState, Tags } from "../../../providers/aws/state.ts";
import type { LoadBalancerSpec } from "../../../providers/types.ts";
import {
  desiredOf,
  newNode,
  newSpec,
  withAnnotations,
  withListeners,
  withLocalTraffic,
  withNodes,
  withSourceRanges,
} from "./fixtures.ts";

/** What a plan run from nothing reports it ended with. */
function appliedFor(desired: DesiredState): AppliedResources {
  return {
    loadBalancer: { arn: "arn:lb", dnsName: "lb.example", vpcId: "vpc-1" },
    attachedSecurityGroups: ["sg-1"],
    securityGroupId: "sg-1",
    targetGroupArns: new Map(desired.targetGroups.map((tg) => [tg.name, `arn:tg/${tg.name}`])),
    listenerArns: new Map(desired.listeners.map((l) => [l.port, `arn:listener/${l.port}`])),
  };
}

const nothing = { listeners: [], targetGroups: [] };

/** The record as an inventory listing would show it, in the SDK's shapes. */
function listedAs(recorded: RecordedState): { resources: ServiceResources; tags: Map<string, Tags> } {
  const lb = recorded.loadBalancer;
  const tags = new Map<string, Tags>();
  const loadBalancer: LoadBalancer | undefined = lb && {
    LoadBalancerArn: lb.arn,
    LoadBalancerName: lb.name,
    DNSName: lb.dnsName,
    Scheme: lb.scheme,
    VpcId: lb.vpcId,
    SecurityGroups: [...lb.securityGroups],
    Type: "network",
  };
  if (lb) tags.set(lb.arn, lb.tags);
  const targetGroups = recorded.targetGroups.map((tg): TargetGroup => {
    tags.set(tg.arn, tg.tags);
    return {
      TargetGroupArn: tg.arn,
      TargetGroupName: tg.name,
      Protocol: tg.protocol as TargetGroup["Protocol"],
      Port: tg.port,
      TargetType: tg.targetType as TargetGroup["TargetType"],
      HealthCheckProtocol: tg.healthCheck.protocol as TargetGroup["HealthCheckProtocol"],
      HealthCheckPort: tg.healthCheck.port,
      ...(tg.healthCheck.path !== undefined && { HealthCheckPath: tg.healthCheck.path }),
      HealthCheckIntervalSeconds: tg.healthCheck.intervalSeconds,
      HealthyThresholdCount: tg.healthCheck.healthyThreshold,
      UnhealthyThresholdCount: tg.healthCheck.unhealthyThreshold,
      LoadBalancerArns: lb ? [lb.arn] : [],
    };
  });
  const sg = recorded.securityGroup;
  const securityGroup: SecurityGroup | undefined = sg && {
    GroupId: sg.id,
    GroupName: sg.name,
    VpcId: "vpc-1",
    Tags: Object.entries(sg.tags).map(([Key, Value]) => ({ Key, Value })),
    IpPermissions: sg.ingress.map((r) => ({
      IpProtocol: r.protocol,
      FromPort: r.fromPort,
      ToPort: r.toPort,
      ...(r.cidr.includes(":") ? { Ipv6Ranges: [{ CidrIpv6: r.cidr }] } : { IpRanges: [{ CidrIp: r.cidr }] }),
    })),
  };
  return {
    resources: {
      owner: { namespace: "default", name: "myapp" },
      ...(loadBalancer && { loadBalancer }),
      targetGroups,
      ...(securityGroup && { securityGroup }),
    },
    tags,
  };
}

const specs: [string, LoadBalancerSpec][] = [
  ["the seed scenario", newSpec()],
  [
    "two ports, source ranges",
    newSpec(
      withListeners(
        { name: "http", port: 80, protocol: "TCP", nodePort: 30008 },
        { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 },
      ),
      withSourceRanges("203.0.113.0/24", "2001:db8::/32"),
    ),
  ],
  [
    "TCP and UDP on one port",
    newSpec(
      withListeners(
        { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30053 },
        { name: "dns-udp", port: 53, protocol: "UDP", nodePort: 30053 },
      ),
    ),
  ],
  ["externalTrafficPolicy Local", newSpec(withLocalTraffic())],
  [
    "TLS, attributes and tags",
    newSpec(
      withAnnotations({
        [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        [ANNOTATION.targetGroupAttributes]: "deregistration_delay.timeout_seconds=30",
        [ANNOTATION.additionalTags]: "team=web",
        [ANNOTATION.crossZone]: "true",
      }),
    ),
  ],
];

describe("convergedState", () => {
  it.each(specs)("records %s so that it plans nothing", (_, spec) => {
    const desired = desiredOf(spec);
    const recorded = convergedState(desired, nothing, appliedFor(desired));
    expect(planActions(desired, actualOf(recorded))).toEqual([]);
  });

  it("keeps tags and attributes AWS had beyond the desired ones, unless the load balancer was replaced", () => {
    const desired = desiredOf(newSpec());
    const first = actualOf(convergedState(desired, nothing, appliedFor(desired)));
    const lb = first.loadBalancer;
    if (lb === undefined) throw new Error("no load balancer recorded");
    const before = { ...first, loadBalancer: { ...lb, tags: { ...lb.tags, extra: "x" }, attributes: { a: "1" } } };
    const again = convergedState(desired, before, appliedFor(desired));
    expect(again.loadBalancer?.tags.extra).toBe("x");
    expect(again.loadBalancer?.attributes.a).toBe("1");
    const replaced = convergedState(desired, before, {
      ...appliedFor(desired),
      loadBalancer: { arn: "arn:lb-2", dnsName: "lb-2.example", vpcId: "vpc-1" },
    });
    expect(replaced.loadBalancer?.tags.extra).toBeUndefined();
    expect(replaced.loadBalancer?.dnsName).toBe("lb-2.example");
  });

  it("records what a plan with nothing to do found, ARNs included", () => {
    const desired = desiredOf(newSpec());
    const actual = actualOf(convergedState(desired, nothing, appliedFor(desired)));
    const applied = appliedAsIs(actual);
    expect(applied).toBeDefined();
    if (applied === undefined) return;
    expect(actualOf(convergedState(desired, actual, applied))).toEqual(actual);
    expect(appliedAsIs(nothing)).toBeUndefined();
  });

  it("shares one list of target ids between target groups with the same targets", () => {
    const desired = desiredOf(
      newSpec(
        withListeners(
          { name: "a", port: 80, protocol: "TCP", nodePort: 30008 },
          { name: "b", port: 81, protocol: "TCP", nodePort: 30009 },
        ),
      ),
    );
    const records = new ServiceRecords({ now: () => 0, sleep: async () => {} }, 1_000);
    const recorded = convergedState(desired, nothing, appliedFor(desired), records.internIds);
    const [a, b] = recorded.targetGroups;
    expect(a?.targetIds).toBe(b?.targetIds);
  });
});

describe("resyncView", () => {
  const spec = newSpec(withSourceRanges("203.0.113.0/24"));
  const desired = desiredOf(spec);
  const recorded = convergedState(desired, nothing, appliedFor(desired));

  it("of a record the inventory agrees with plans nothing", () => {
    const { resources, tags } = listedAs(recorded);
    const view = resyncView(spec, recorded, resources, tags);
    expect(view && planActions(desired, view)).toEqual([]);
  });

  it("sees what the inventory shows changed: load balancer gone, target group gone, a rule revoked, a leftover", () => {
    const listed = listedAs(recorded);
    const { loadBalancer: _gone, ...withoutLb } = listed.resources;
    expect(planActions(desired, resyncView(spec, recorded, withoutLb, listed.tags) ?? nothing)).toContainEqual({
      kind: "createLoadBalancer",
    });

    const noGroups = { ...listed.resources, targetGroups: [] };
    expect(
      planActions(desired, resyncView(spec, recorded, noGroups, listed.tags) ?? nothing).map((a) => a.kind),
    ).toContain("createTargetGroup");

    const group = listed.resources.securityGroup;
    const revoked = { ...listed.resources, ...(group && { securityGroup: { ...group, IpPermissions: [] } }) };
    expect(
      planActions(desired, resyncView(spec, recorded, revoked, listed.tags) ?? nothing).map((a) => a.kind),
    ).toEqual(["authorizeIngress"]);

    const leftover: TargetGroup = {
      TargetGroupArn: "arn:tg/old",
      TargetGroupName: "k8s-default-myapp-0000000000",
      Port: 30007,
    };
    const tags = new Map(listed.tags).set("arn:tg/old", recorded.targetGroups[0]?.tags ?? {});
    const withLeftover = { ...listed.resources, targetGroups: [...listed.resources.targetGroups, leftover] };
    expect(planActions(desired, resyncView(spec, recorded, withLeftover, tags) ?? nothing)).toEqual([
      { kind: "deleteTargetGroup", arn: "arn:tg/old", name: "k8s-default-myapp-0000000000" },
    ]);
  });

  it("takes targets from the record: a node change is a target-only plan", () => {
    const { resources, tags } = listedAs(recorded);
    const joined = desiredOf(
      newSpec(withSourceRanges("203.0.113.0/24"), withNodes(newNode(0), newNode(1), newNode(2), newNode(3))),
    );
    const actions = planActions(joined, resyncView(spec, recorded, resources, tags) ?? nothing);
    expect(actions.map((a) => a.kind)).toEqual(["registerTargets"]);
    expect(onlyTargetChanges(actions)).toBe(true);
    expect(onlyTargetChanges([...actions, { kind: "createListener", port: 80 }])).toBe(false);
  });

  it("gives up when AWS no longer associates a listener's target group with the load balancer", () => {
    const { resources, tags } = listedAs(recorded);
    const detached = {
      ...resources,
      targetGroups: resources.targetGroups.map((tg) => ({ ...tg, LoadBalancerArns: [] })),
    };
    expect(resyncView(spec, recorded, detached, tags)).toBeUndefined();
  });

  it("ignores target groups whose tags name another Service", () => {
    const { resources, tags } = listedAs(recorded);
    const foreign = new Map(
      [...tags].map(([arn, t]) => [
        arn,
        arn.startsWith("arn:tg") ? { ...t, "kubernetes.io/service-name": "default/other" } : t,
      ]),
    );
    expect(resyncView(spec, recorded, resources, foreign)?.targetGroups).toEqual([]);
  });
});

describe("ServiceRecords", () => {
  it("keeps a record until its detail is due (spread over the second half of the bound), then lets it go", () => {
    let now = 0;
    const records = new ServiceRecords({ now: () => now, sleep: async () => {} }, 1_000);
    const ref = newSpec();
    const recorded = convergedState(desiredOf(ref), nothing, appliedFor(desiredOf(ref)));
    records.set(ref, recorded, 0);
    now = 499;
    expect(records.current(ref)?.state).toBe(recorded);
    now = 1_000;
    expect(records.current(ref)).toBeUndefined();
  });

  it("keeps when the detail was read when asked to, and forgets a dropped record", () => {
    let now = 0;
    const records = new ServiceRecords({ now: () => now, sleep: async () => {} }, 1_000);
    const ref = newSpec();
    const recorded = convergedState(desiredOf(ref), nothing, appliedFor(desiredOf(ref)));
    records.set(ref, recorded, 0);
    now = 400;
    records.set(ref, recorded, "kept");
    expect(records.current(ref)?.detailReadAt).toBe(0);
    expect(records.current(ref)?.recordedAt).toBe(400);
    records.drop(ref);
    expect(records.current(ref)).toBeUndefined();
  });

  it("shares equal target id lists, and keeps only a few of them for sharing", () => {
    const records = new ServiceRecords({ now: () => 0, sleep: async () => {} }, 1_000);
    const first = records.internIds(["i-1", "i-2"]);
    expect(records.internIds(["i-1", "i-2"])).toBe(first);
    for (let i = 0; i < 20; i++) records.internIds([`i-${i}`]);
    expect(records.internIds(["i-1", "i-2"])).not.toBe(first);
  });
});
