import { describe, expect, it } from "vitest";
import {
  holdUnreadyRepoints,
  judgeLegacyLoadBalancer,
  legacyLoadBalancerName,
  unenforcedSourceRanges,
} from "../../../providers/aws/adopt.ts";
import { planActions } from "../../../providers/aws/diff.ts";
import type { ActualState, ActualTargetGroup, DesiredState } from "../../../providers/aws/state.ts";
import type { LoadBalancerRef } from "../../../providers/types.ts";
import { desiredOf, newSpec, withSourceRanges } from "./fixtures.ts";

const UID = "0b6f1c1e-8a0d-4f7c-9d1e-3c2b1a000001";
const ref: LoadBalancerRef = { clusterName: "prod", service: { namespace: "default", name: "myapp", uid: UID } };
const legacyTags = { "kubernetes.io/cluster/prod": "owned", "kubernetes.io/service-name": "default/myapp" };

describe("legacyLoadBalancerName", () => {
  it("is `a` and the uid without hyphens, cut to 32 characters, as the legacy cloud provider names it", () => {
    expect(legacyLoadBalancerName(UID)).toBe("a0b6f1c1e8a0d4f7c9d1e3c2b1a00000");
    expect(legacyLoadBalancerName(UID)).toHaveLength(32);
  });
});

describe("judgeLegacyLoadBalancer: only this Service's, in this cluster, is adopted", () => {
  it("adopts a load balancer whose cluster and service tags are this Service's", () => {
    expect(judgeLegacyLoadBalancer(legacyTags, ref, true)).toEqual({ kind: "adopt" });
  });

  it("keeps extra tags (additional-resource-tags, the legacy KubernetesCluster) out of the decision", () => {
    expect(judgeLegacyLoadBalancer({ ...legacyTags, KubernetesCluster: "prod", team: "web" }, ref, true)).toEqual({
      kind: "adopt",
    });
  });

  it.each([
    [
      "another cluster's",
      { ...legacyTags, "kubernetes.io/cluster/prod": undefined, "kubernetes.io/cluster/dev": "owned" },
    ],
    ["a cluster that only shares it", { ...legacyTags, "kubernetes.io/cluster/prod": "shared" }],
    ["another Service's", { ...legacyTags, "kubernetes.io/service-name": "default/other" }],
    ["another namespace's", { ...legacyTags, "kubernetes.io/service-name": "staging/myapp" }],
    ["without a service tag", { "kubernetes.io/cluster/prod": "owned" }],
    ["without a cluster tag", { "kubernetes.io/service-name": "default/myapp" }],
    ["untagged", {}],
  ])("refuses one that is %s: a conflict naming the tags it lacks", (_, tags) => {
    const defined = Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    const verdict = judgeLegacyLoadBalancer(defined, ref, true);
    expect(verdict.kind).toBe("conflict");
    expect(verdict.kind === "conflict" && verdict.reason).toContain(
      "kubernetes.io/cluster/prod=owned, kubernetes.io/service-name=default/myapp",
    );
  });

  it("refuses when adoption is turned off, naming the setting", () => {
    const verdict = judgeLegacyLoadBalancer(legacyTags, ref, false);
    expect(verdict.kind).toBe("conflict");
    expect(verdict.kind === "conflict" && verdict.reason).toContain("adoptLegacy=false");
  });

  it("treats one carrying this Service's uid tag as ours, even with adoption turned off since", () => {
    const adopted = { ...legacyTags, "lb-provisioner/service-uid": UID };
    expect(judgeLegacyLoadBalancer(adopted, ref, true)).toEqual({ kind: "ours" });
    expect(judgeLegacyLoadBalancer(adopted, ref, false)).toEqual({ kind: "ours" });
  });

  it("refuses one carrying another Service object's uid (same name, recreated Service)", () => {
    const verdict = judgeLegacyLoadBalancer({ ...legacyTags, "lb-provisioner/service-uid": "other-uid" }, ref, true);
    expect(verdict.kind).toBe("conflict");
  });
});

const legacyGroup = (arn: string, port: number): ActualTargetGroup => ({
  arn,
  name: `k8s-default-myapp-legacy${port}`,
  protocol: "TCP",
  port: 30008,
  targetType: "instance",
  healthCheck: { protocol: "TCP", port: "traffic-port", intervalSeconds: 30, healthyThreshold: 3 },
  tags: legacyTags,
  targets: [],
});

/** The legacy provider's NLB for the seed Service: no security group, one listener on its target group. */
function legacyState(desired: DesiredState, extra: Partial<ActualState> = {}): ActualState {
  return {
    loadBalancer: {
      arn: "arn:lb/legacy",
      name: legacyLoadBalancerName(UID),
      dnsName: "a0b6f1c1e8a0d4f7c9d1e3c2b1a00000-1.elb.us-east-1.amazonaws.com",
      scheme: desired.loadBalancer.scheme,
      vpcId: "vpc-1",
      securityGroups: [],
      tags: legacyTags,
      attributes: {},
    },
    listeners: [{ arn: "arn:listener/80", port: 80, protocol: "TCP", targetGroupArn: "arn:tg/legacy" }],
    targetGroups: [legacyGroup("arn:tg/legacy", 80)],
    adopt: true,
    ...extra,
  };
}

describe("unenforcedSourceRanges", () => {
  it("names the ranges an NLB without a security group cannot enforce", () => {
    const desired = desiredOf(newSpec(withSourceRanges("203.0.113.0/24", "198.51.100.0/24")));
    expect(unenforcedSourceRanges(desired, legacyState(desired))).toEqual(["198.51.100.0/24", "203.0.113.0/24"]);
  });

  it("is empty when the Service admits everyone, or the NLB has a security group", () => {
    const open = desiredOf(newSpec());
    expect(unenforcedSourceRanges(open, legacyState(open))).toEqual([]);
    const narrow = desiredOf(newSpec(withSourceRanges("203.0.113.0/24")));
    const lb = legacyState(narrow).loadBalancer as NonNullable<ActualState["loadBalancer"]>;
    expect(
      unenforcedSourceRanges(narrow, { ...legacyState(narrow), loadBalancer: { ...lb, securityGroups: ["sg-1"] } }),
    ).toEqual([]);
  });
});

describe("planActions on a legacy load balancer", () => {
  const desired = desiredOf(newSpec());
  const ours = desired.targetGroups[0];

  it("adopts first (this provider's tags), then fills a new target group, repoints, deletes the legacy one", () => {
    const actions = planActions(desired, legacyState(desired));
    expect(actions[0]).toEqual({
      kind: "adoptLoadBalancer",
      arn: "arn:lb/legacy",
      name: legacyLoadBalancerName(UID),
      tags: { "lb-provisioner/service-uid": UID },
    });
    expect(actions.map((a) => a.kind)).toEqual([
      "adoptLoadBalancer",
      "createTargetGroup",
      "registerTargets",
      "modifyListener",
      "deleteTargetGroup",
    ]);
    expect(actions.at(-1)).toEqual({ kind: "deleteTargetGroup", arn: "arn:tg/legacy", name: legacyGroup("", 80).name });
  });

  it("gives an NLB built without security groups none (AWS cannot add one), and makes none", () => {
    const kinds = planActions(desired, legacyState(desired)).map((a) => a.kind);
    expect(kinds).not.toContain("createSecurityGroup");
    expect(kinds).not.toContain("setSecurityGroups");
    expect(kinds).not.toContain("authorizeIngress");
  });

  it("holds the repoint, and keeps the legacy target group, until the new one's targets are healthy", () => {
    if (ours === undefined) throw new Error("no target group");
    const ourGroup: ActualTargetGroup = {
      ...legacyGroup("arn:tg/ours", 80),
      name: ours.name,
      tags: ours.tags,
      targets: ours.targets,
    };
    // Adopted in an earlier pass: our tags are on, our target group is there and filled.
    const { adopt: _adopted, ...earlier } = legacyState(desired, {
      targetGroups: [legacyGroup("arn:tg/legacy", 80), ourGroup],
    });
    const lb = earlier.loadBalancer as NonNullable<ActualState["loadBalancer"]>;
    const actual: ActualState = { ...earlier, loadBalancer: { ...lb, tags: desired.loadBalancer.tags } };
    const planned = planActions(desired, actual);
    const health = (state: string) => new Map([["arn:tg/ours", ours.targets.map((t) => ({ id: t.id, state }))]]);

    const waiting = holdUnreadyRepoints(planned, desired, actual, health("initial"));
    expect(waiting.waiting).toEqual([80]);
    expect(waiting.actions.map((a) => a.kind)).not.toContain("modifyListener");
    expect(waiting.actions.map((a) => a.kind)).not.toContain("deleteTargetGroup");

    const partial = new Map([["arn:tg/ours", ours.targets.slice(1).map((t) => ({ id: t.id, state: "healthy" }))]]);
    expect(holdUnreadyRepoints(planned, desired, actual, partial).waiting).toEqual([80]);

    // Some healthy, some not: AWS has its verdicts, and the group can serve.
    const mixed = new Map([
      ["arn:tg/ours", ours.targets.map((t, i) => ({ id: t.id, state: i === 0 ? "healthy" : "unhealthy" }))],
    ]);
    expect(holdUnreadyRepoints(planned, desired, actual, mixed).waiting).toEqual([]);
    // None healthy yet: wait.
    expect(holdUnreadyRepoints(planned, desired, actual, health("unhealthy")).waiting).toEqual([80]);
    // AWS checks a target group only once a listener uses it: registered everywhere is ready.
    expect(holdUnreadyRepoints(planned, desired, actual, health("unused")).waiting).toEqual([]);

    const ready = holdUnreadyRepoints(planned, desired, actual, health("healthy"));
    expect(ready.waiting).toEqual([]);
    expect(ready.actions.map((a) => a.kind)).toEqual(["modifyListener", "deleteTargetGroup"]);
  });

  it("holds a repoint to a target group this very plan creates", () => {
    const result = holdUnreadyRepoints(
      planActions(desired, legacyState(desired)),
      desired,
      legacyState(desired),
      new Map(),
    );
    expect(result.waiting).toEqual([80]);
    expect(result.actions.map((a) => a.kind)).toEqual(["adoptLoadBalancer", "createTargetGroup", "registerTargets"]);
  });

  it("leaves the plan of a load balancer with this provider's name alone", () => {
    const actual: ActualState = {
      ...legacyState(desired),
      loadBalancer: {
        ...(legacyState(desired).loadBalancer as NonNullable<ActualState["loadBalancer"]>),
        name: desired.loadBalancer.name,
      },
    };
    const planned = planActions(desired, actual);
    expect(holdUnreadyRepoints(planned, desired, actual, new Map())).toEqual({ actions: planned, waiting: [] });
  });
});
