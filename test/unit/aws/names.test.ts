import { describe, expect, it } from "vitest";
import {
  loadBalancerName,
  MAX_NAME_LENGTH,
  namePrefix,
  securityGroupName,
  type TargetGroupIdentity,
  targetGroupName,
} from "../../../providers/aws/names.ts";

const scope = { clusterName: "prod", namespace: "default", name: "myapp" };
const identity: TargetGroupIdentity = {
  servicePort: 80,
  protocol: "TCP",
  nodePort: 30008,
  targetType: "instance",
  healthCheckProtocol: "TCP",
};
const VALID = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

describe("AWS names", () => {
  it("look like k8s-<ns8>-<name8>-<hash10> and are deterministic", () => {
    expect(loadBalancerName(scope)).toMatch(/^k8s-default-myapp-[0-9a-f]{10}$/);
    expect(loadBalancerName(scope)).toBe(loadBalancerName({ ...scope }));
    expect(targetGroupName(scope, identity)).toBe(targetGroupName(scope, { ...identity }));
  });

  it.each([
    ["short", { clusterName: "c", namespace: "a", name: "b" }],
    ["long", { clusterName: "x".repeat(100), namespace: "n".repeat(63), name: "s".repeat(63) }],
    ["punctuated", { clusterName: "prod.eu", namespace: "team-a.b", name: "web.v2-api" }],
  ])("stay within AWS rules for %s inputs", (_label, s) => {
    for (const name of [loadBalancerName(s), securityGroupName(s), targetGroupName(s, identity)]) {
      expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
      expect(name).toMatch(VALID);
      expect(name.startsWith("internal-")).toBe(false);
    }
  });

  it("differ between clusters, namespaces and names even when the readable parts match", () => {
    const names = new Set([
      loadBalancerName(scope),
      loadBalancerName({ ...scope, clusterName: "staging" }),
      loadBalancerName({ ...scope, namespace: "default2" }),
      // Same sanitized prefix ("ab"/"c" vs "a"/"bc"), different Services.
      loadBalancerName({ clusterName: "prod", namespace: "a-b", name: "c" }),
      loadBalancerName({ clusterName: "prod", namespace: "a", name: "b-c" }),
      // Readable parts truncated to the same 8 characters.
      loadBalancerName({ ...scope, name: "myapplication-frontend" }),
      loadBalancerName({ ...scope, name: "myapplication-backend" }),
    ]);
    expect(names.size).toBe(7);
  });

  it("give each port and each immutable field its own target group name", () => {
    const variants: TargetGroupIdentity[] = [
      identity,
      { ...identity, servicePort: 443 },
      { ...identity, nodePort: 30009 },
      { ...identity, protocol: "UDP" },
      { ...identity, protocol: "TCP_UDP" },
      { ...identity, targetType: "ip" },
      { ...identity, healthCheckProtocol: "HTTP" },
    ];
    const names = new Set(variants.map((v) => targetGroupName(scope, v)));
    expect(names.size).toBe(variants.length);
    expect(targetGroupName({ ...scope, clusterName: "other" }, identity)).not.toBe(targetGroupName(scope, identity));
  });

  it("keep load balancer, security group and target group names apart", () => {
    const all = [loadBalancerName(scope), securityGroupName(scope), targetGroupName(scope, identity)];
    expect(new Set(all).size).toBe(3);
    for (const name of all) expect(name.startsWith(namePrefix(scope))).toBe(true);
  });
});
