import { describe, expect, it } from "vitest";
import { ANNOTATION } from "../../../providers/aws/annotations.ts";
import {
  diffIngress,
  diffTargets,
  healthCheckDiffers,
  planActions,
  TARGETS_PER_CALL,
} from "../../../providers/aws/diff.ts";
import { buildDesiredState } from "../../../providers/aws/model.ts";
import type { Action, DesiredState } from "../../../providers/aws/state.ts";
import { requireValidSpec } from "../../../providers/aws/validate.ts";
import { ConflictError } from "../../../providers/errors.ts";
import type { LoadBalancerSpec } from "../../../providers/types.ts";
import {
  arnOf,
  inSync,
  newNode,
  newSpec,
  withAnnotations,
  withListeners,
  withLocalTraffic,
  withNodes,
  withSourceRanges,
} from "./fixtures.ts";

function desiredOf(spec: LoadBalancerSpec): DesiredState {
  return buildDesiredState(spec, requireValidSpec(spec).config);
}

const kinds = (actions: readonly Action[]) => actions.map((a) => a.kind);

describe("planActions", () => {
  it("creates everything, in dependency order, when nothing exists", () => {
    const desired = desiredOf(newSpec());
    const tg = desired.targetGroups[0]?.name ?? "";
    expect(planActions(desired, { listeners: [], targetGroups: [] })).toEqual([
      { kind: "createSecurityGroup" },
      { kind: "authorizeIngress", rules: [{ protocol: "tcp", fromPort: 80, toPort: 80, cidr: "0.0.0.0/0" }] },
      { kind: "createLoadBalancer" },
      { kind: "createTargetGroup", name: tg },
      { kind: "registerTargets", name: tg, targets: desired.targetGroups[0]?.targets },
      { kind: "createListener", port: 80 },
    ]);
  });

  it.each([
    ["the seed Service", newSpec()],
    ["a Local Service", newSpec(withLocalTraffic())],
    [
      "TLS, attributes, tags, source ranges, several ports",
      newSpec(
        withListeners(
          { name: "https", port: 443, protocol: "TCP", nodePort: 30443 },
          { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 },
          { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30053 },
        ),
        withSourceRanges("10.0.0.0/8"),
        withAnnotations({
          [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:1:certificate/x",
          [ANNOTATION.crossZone]: "true",
          [ANNOTATION.targetGroupAttributes]: "deregistration_delay.timeout_seconds=30",
          [ANNOTATION.additionalTags]: "team=web",
        }),
      ),
    ],
    [
      "the annotations charts ship",
      newSpec(
        withListeners({ name: "https", port: 443, protocol: "TCP", nodePort: 30443 }),
        withAnnotations({
          [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:1:certificate/x",
          [ANNOTATION.alpnPolicy]: "HTTP2Preferred",
          [ANNOTATION.proxyProtocol]: "*",
          [ANNOTATION.healthCheckProtocol]: "http",
          [ANNOTATION.healthCheckSuccessCodes]: "200,204",
          [ANNOTATION.attributes]: "deletion_protection.enabled=false",
        }),
      ),
    ],
  ])("plans nothing for %s when AWS already matches", (_label, spec) => {
    const desired = desiredOf(spec);
    expect(planActions(desired, inSync(desired))).toEqual([]);
  });

  it("registers exactly the joining node, in one call per target group", () => {
    const twoPorts = withListeners(
      { name: "a", port: 80, protocol: "TCP", nodePort: 30080 },
      { name: "b", port: 443, protocol: "TCP", nodePort: 30443 },
    );
    const before = desiredOf(newSpec(twoPorts));
    const after = desiredOf(newSpec(twoPorts, withNodes(newNode(0), newNode(1), newNode(2), newNode(3))));
    const actions = planActions(after, inSync(before));
    expect(actions).toEqual(
      after.targetGroups.map((tg) => ({
        kind: "registerTargets",
        name: tg.name,
        targets: [{ id: "i-00000000000000003", port: tg.port }],
      })),
    );
  });

  it("deregisters before it registers when a node is replaced", () => {
    const before = desiredOf(newSpec());
    const after = desiredOf(newSpec(withNodes(newNode(0), newNode(1), newNode(5))));
    const name = after.targetGroups[0]?.name ?? "";
    expect(planActions(after, inSync(before))).toEqual([
      { kind: "deregisterTargets", name, targets: [{ id: "i-00000000000000002", port: 30008 }] },
      { kind: "registerTargets", name, targets: [{ id: "i-00000000000000005", port: 30008 }] },
    ]);
  });

  it(`registers at most ${TARGETS_PER_CALL} targets a call`, () => {
    const nodes = Array.from({ length: 450 }, (_, i) =>
      newNode(i, { providerID: `aws:///us-east-1a/i-${String(i).padStart(17, "0")}` }),
    );
    const desired = desiredOf(newSpec(withNodes(...nodes)));
    const registers = planActions(desired, { listeners: [], targetGroups: [] }).filter(
      (a) => a.kind === "registerTargets",
    );
    expect(registers.map((a) => (a.kind === "registerTargets" ? a.targets.length : 0))).toEqual([200, 200, 50]);
  });

  it("replaces only the target group whose health check protocol changed: create, repoint, delete old", () => {
    const twoPorts = withListeners(
      { name: "a", port: 80, protocol: "TCP", nodePort: 30080 },
      { name: "b", port: 443, protocol: "TCP", nodePort: 30443 },
    );
    const before = desiredOf(newSpec(twoPorts));
    const after = desiredOf(newSpec(twoPorts, withLocalTraffic()));
    const actual = inSync(before);
    const actions = planActions(after, actual);
    const [newA, newB] = after.targetGroups.map((tg) => tg.name);
    const [oldA, oldB] = before.targetGroups;
    expect(kinds(actions)).toEqual([
      "createTargetGroup",
      "registerTargets",
      "createTargetGroup",
      "registerTargets",
      "modifyListener",
      "modifyListener",
      "deleteTargetGroup",
      "deleteTargetGroup",
    ]);
    expect(actions).toContainEqual({
      kind: "modifyListener",
      arn: "arn:listener/0",
      port: 80,
      changes: ["targetGroup"],
    });
    expect(actions.slice(-2)).toEqual([
      { kind: "deleteTargetGroup", arn: arnOf(oldA?.name ?? ""), name: oldA?.name },
      { kind: "deleteTargetGroup", arn: arnOf(oldB?.name ?? ""), name: oldB?.name },
    ]);
    expect(actions).toContainEqual({ kind: "createTargetGroup", name: newA });
    expect(actions).toContainEqual({ kind: "createTargetGroup", name: newB });
  });

  it("touches no other port when one port's nodePort changes", () => {
    const before = desiredOf(
      newSpec(
        withListeners(
          { name: "a", port: 80, protocol: "TCP", nodePort: 30080 },
          { name: "b", port: 443, protocol: "TCP", nodePort: 30443 },
        ),
      ),
    );
    const after = desiredOf(
      newSpec(
        withListeners(
          { name: "a", port: 80, protocol: "TCP", nodePort: 30090 },
          { name: "b", port: 443, protocol: "TCP", nodePort: 30443 },
        ),
      ),
    );
    const actions = planActions(after, inSync(before));
    const untouched = before.targetGroups[1]?.name;
    expect(actions.some((a) => "name" in a && a.name === untouched)).toBe(false);
    expect(actions.filter((a) => a.kind === "modifyListener")).toEqual([
      { kind: "modifyListener", arn: "arn:listener/0", port: 80, changes: ["targetGroup"] },
    ]);
  });

  it("modifies the health check in place for mutable settings", () => {
    const before = desiredOf(newSpec());
    const after = desiredOf(newSpec(withAnnotations({ [ANNOTATION.healthCheckInterval]: "10" })));
    expect(planActions(after, inSync(before))).toEqual([
      { kind: "modifyTargetGroup", name: after.targetGroups[0]?.name },
    ]);
  });

  it("recreates a listener and a target group deleted out of band", () => {
    const desired = desiredOf(newSpec());
    const actual = inSync(desired);
    expect(planActions(desired, { ...actual, listeners: [] })).toEqual([{ kind: "createListener", port: 80 }]);
    expect(kinds(planActions(desired, { ...actual, targetGroups: [] }))).toEqual([
      "createTargetGroup",
      "registerTargets",
      "modifyListener",
    ]);
  });

  it("deletes the listener and target group of a removed port", () => {
    const before = desiredOf(
      newSpec(
        withListeners(
          { name: "a", port: 80, protocol: "TCP", nodePort: 30080 },
          { name: "b", port: 443, protocol: "TCP", nodePort: 30443 },
        ),
      ),
    );
    const after = desiredOf(newSpec(withListeners({ name: "a", port: 80, protocol: "TCP", nodePort: 30080 })));
    expect(planActions(after, inSync(before))).toEqual([
      { kind: "revokeIngress", rules: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidr: "0.0.0.0/0" }] },
      { kind: "deleteListener", arn: "arn:listener/1", port: 443 },
      { kind: "deleteTargetGroup", arn: arnOf(before.targetGroups[1]?.name ?? ""), name: before.targetGroups[1]?.name },
    ]);
  });

  it("recreates a listener whose protocol cannot be modified in place (TCP -> TCP_UDP)", () => {
    const before = desiredOf(newSpec(withListeners({ name: "dns", port: 53, protocol: "TCP", nodePort: 30053 })));
    const after = desiredOf(
      newSpec(
        withListeners(
          { name: "dns", port: 53, protocol: "TCP", nodePort: 30053 },
          { name: "dns-udp", port: 53, protocol: "UDP", nodePort: 30053 },
        ),
      ),
    );
    const actions = planActions(after, inSync(before));
    expect(kinds(actions)).toEqual([
      "authorizeIngress",
      "createTargetGroup",
      "registerTargets",
      "deleteListener",
      "createListener",
      "deleteTargetGroup",
    ]);
  });

  it("modifies a TCP listener into TLS in place", () => {
    const before = desiredOf(newSpec());
    const cert = "arn:aws:acm:us-east-1:1:certificate/x";
    const after = desiredOf(newSpec(withAnnotations({ [ANNOTATION.sslCert]: cert })));
    expect(planActions(after, inSync(before))).toEqual([
      { kind: "modifyListener", arn: "arn:listener/0", port: 80, changes: ["protocol", "certificate"] },
    ]);
  });

  it("replaces the load balancer (keeping target groups) when the scheme changes", () => {
    const before = desiredOf(newSpec());
    const after = desiredOf(newSpec(withAnnotations({ [ANNOTATION.internal]: "true" })));
    expect(planActions(after, inSync(before))).toEqual([
      { kind: "deleteListener", arn: "arn:listener/0", port: 80 },
      { kind: "deleteLoadBalancer", arn: "arn:lb", reason: expect.stringMatching(/internet-facing to internal/) },
      { kind: "createLoadBalancer" },
      { kind: "createListener", port: 80 },
    ]);
  });

  it("converges security group rules: authorize new ranges before revoking old ones", () => {
    const before = desiredOf(newSpec(withSourceRanges("10.0.0.0/8")));
    const after = desiredOf(newSpec(withSourceRanges("192.0.2.0/24")));
    expect(planActions(after, inSync(before))).toEqual([
      { kind: "authorizeIngress", rules: [{ protocol: "tcp", fromPort: 80, toPort: 80, cidr: "192.0.2.0/24" }] },
      { kind: "revokeIngress", rules: [{ protocol: "tcp", fromPort: 80, toPort: 80, cidr: "10.0.0.0/8" }] },
    ]);
  });

  it("re-creates a security group deleted out of band and attaches it", () => {
    const desired = desiredOf(newSpec());
    const { securityGroup: _gone, ...actual } = inSync(desired);
    expect(kinds(planActions(desired, actual))).toEqual([
      "createSecurityGroup",
      "authorizeIngress",
      "setSecurityGroups",
    ]);
  });

  it("converges load balancer attributes, tags and target group attributes", () => {
    const before = desiredOf(
      newSpec(withAnnotations({ [ANNOTATION.targetGroupAttributes]: "stickiness.enabled=false" })),
    );
    const after = desiredOf(
      newSpec(
        withAnnotations({
          [ANNOTATION.crossZone]: "true",
          [ANNOTATION.additionalTags]: "team=web",
          [ANNOTATION.targetGroupAttributes]: "stickiness.enabled=true",
        }),
      ),
    );
    const name = after.targetGroups[0]?.name;
    expect(planActions(after, inSync(before))).toEqual([
      { kind: "tagLoadBalancer", tags: { team: "web" } },
      { kind: "modifyLoadBalancerAttributes", attributes: { "load_balancing.cross_zone.enabled": "true" } },
      { kind: "modifyTargetGroupAttributes", name, attributes: { "stickiness.enabled": "true" } },
      { kind: "tagTargetGroup", name, tags: { team: "web" } },
    ]);
  });

  it("modifies the health check for other success codes, and the TLS listener for another ALPN policy", () => {
    const tls = withListeners({ name: "https", port: 443, protocol: "TCP", nodePort: 30443 });
    const base = {
      [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:1:certificate/x",
      [ANNOTATION.healthCheckProtocol]: "http",
    };
    const before = desiredOf(newSpec(tls, withAnnotations(base)));
    const after = desiredOf(
      newSpec(
        tls,
        withAnnotations({
          ...base,
          [ANNOTATION.healthCheckSuccessCodes]: "200",
          [ANNOTATION.alpnPolicy]: "http2only",
        }),
      ),
    );
    expect(after.targetGroups[0]?.healthCheck.successCodes).toBe("200");
    expect(after.listeners[0]?.alpnPolicy).toBe("HTTP2Only");
    expect(planActions(after, inSync(before))).toEqual([
      { kind: "modifyTargetGroup", name: after.targetGroups[0]?.name },
      { kind: "modifyListener", arn: "arn:listener/0", port: 443, changes: ["alpnPolicy"] },
    ]);
  });

  it("keeps a TLS listener's SNI certificates in step with ssl-cert: the first is the default, the rest added and removed", () => {
    const cert = (n: string) => `arn:aws:acm:us-east-1:1:certificate/${n}`;
    const tls = (certs: string) =>
      desiredOf(
        newSpec(
          withListeners({ name: "https", port: 443, protocol: "TCP", nodePort: 30443 }),
          withAnnotations({ [ANNOTATION.sslCert]: certs }),
        ),
      );
    const before = tls(`${cert("default")},${cert("a")},${cert("b")}`);
    expect(before.listeners[0]?.sniCertificateArns).toEqual([cert("a"), cert("b")]);
    const after = tls(`${cert("default")},${cert("c")}, ${cert("b")}`);
    expect(planActions(after, inSync(before))).toEqual([
      { kind: "addListenerCertificates", port: 443, certificateArns: [cert("c")] },
      { kind: "removeListenerCertificates", port: 443, certificateArns: [cert("a")] },
    ]);
    // A new listener gets its SNI certificates right after it is made.
    const fresh = planActions(after, { listeners: [], targetGroups: [] });
    expect(fresh.slice(-2)).toEqual([
      { kind: "createListener", port: 443 },
      { kind: "addListenerCertificates", port: 443, certificateArns: [cert("b"), cert("c")] },
    ]);
  });

  it("attaches the Service's own security groups instead of the managed one, which is then not made or deleted last", () => {
    const own = ["sg-0123456789abcdef0", "sg-0fedcba9876543210"];
    const byo = desiredOf(newSpec(withAnnotations({ [ANNOTATION.securityGroups]: own.join(",") })));
    expect(kinds(planActions(byo, { listeners: [], targetGroups: [] }))).toEqual([
      "createLoadBalancer",
      "createTargetGroup",
      "registerTargets",
      "createListener",
    ]);
    const managed = inSync(desiredOf(newSpec()));
    expect(planActions(byo, managed)).toEqual([
      { kind: "setSecurityGroups", securityGroups: own },
      { kind: "deleteSecurityGroup", id: "sg-1" },
    ]);
    const lb = managed.loadBalancer;
    if (lb === undefined) throw new Error("no load balancer");
    const { securityGroup: _gone, ...withoutManaged } = managed;
    const converged = { ...withoutManaged, loadBalancer: { ...lb, securityGroups: [...own].reverse() } };
    expect(planActions(byo, converged)).toEqual([]);
  });

  it("replaces a protected load balancer for a new scheme only once the Service switches protection off", () => {
    const internal = (attributes?: string) =>
      desiredOf(
        newSpec(
          withAnnotations({
            [ANNOTATION.internal]: "true",
            ...(attributes !== undefined && { [ANNOTATION.attributes]: attributes }),
          }),
        ),
      );
    const actual = inSync(desiredOf(newSpec()));
    const lb = actual.loadBalancer;
    if (lb === undefined) throw new Error("no load balancer");
    const guarded = {
      ...actual,
      loadBalancer: { ...lb, attributes: { ...lb.attributes, "deletion_protection.enabled": "true" } },
    };
    // Nothing is touched (listeners included) while protection stays on.
    expect(() => planActions(internal(), guarded)).toThrow(ConflictError);
    expect(() => planActions(internal("deletion_protection.enabled=true"), guarded)).toThrow(
      /deletion protection on, so nothing is changed/,
    );
    const actions = planActions(internal("deletion_protection.enabled=false"), guarded);
    expect(kinds(actions).slice(0, 3)).toEqual([
      "modifyLoadBalancerAttributes",
      "deleteListener",
      "deleteLoadBalancer",
    ]);
    expect(actions[0]).toEqual({
      kind: "modifyLoadBalancerAttributes",
      attributes: { "deletion_protection.enabled": "false" },
    });
  });

  it("changes only the load balancer attributes the Service gives, against AWS's defaults", () => {
    const protectedLb = desiredOf(
      newSpec(withAnnotations({ [ANNOTATION.attributes]: "deletion_protection.enabled=true" })),
    );
    const plain = desiredOf(newSpec());
    // A new load balancer has protection off: turned on; AWS not reporting the attribute counts as off.
    expect(planActions(protectedLb, inSync(plain))).toEqual([
      { kind: "modifyLoadBalancerAttributes", attributes: { "deletion_protection.enabled": "true" } },
    ]);
    // Protection switched on in the console, no annotation: left alone.
    const console = inSync(plain);
    const lb = console.loadBalancer;
    if (lb === undefined) throw new Error("no load balancer");
    expect(
      planActions(plain, {
        ...console,
        loadBalancer: { ...lb, attributes: { "deletion_protection.enabled": "true" } },
      }),
    ).toEqual([]);
  });

  it("sets non-default attributes right after creating the load balancer and target group", () => {
    const desired = desiredOf(
      newSpec(
        withAnnotations({
          [ANNOTATION.crossZone]: "true",
          [ANNOTATION.targetGroupAttributes]: "proxy_protocol_v2.enabled=true",
        }),
      ),
    );
    const actions = planActions(desired, { listeners: [], targetGroups: [] });
    expect(kinds(actions)).toEqual([
      "createSecurityGroup",
      "authorizeIngress",
      "createLoadBalancer",
      "modifyLoadBalancerAttributes",
      "createTargetGroup",
      "modifyTargetGroupAttributes",
      "registerTargets",
      "createListener",
    ]);
  });
});

describe("diff helpers", () => {
  it("diffTargets compares id and port", () => {
    expect(
      diffTargets(
        [
          { id: "i-1", port: 30001 },
          { id: "i-2", port: 30001 },
        ],
        [
          { id: "i-1", port: 30000 },
          { id: "i-2", port: 30001 },
        ],
      ),
    ).toEqual({ register: [{ id: "i-1", port: 30001 }], deregister: [{ id: "i-1", port: 30000 }] });
  });

  it("diffIngress compares protocol, ports and CIDR", () => {
    const rule = { protocol: "tcp" as const, fromPort: 80, toPort: 80, cidr: "0.0.0.0/0" };
    expect(diffIngress([rule], [{ ...rule, protocol: "udp" }])).toEqual({
      add: [rule],
      remove: [{ ...rule, protocol: "udp" }],
    });
    expect(diffIngress([rule], [{ ...rule }])).toEqual({ add: [], remove: [] });
  });

  it.each([
    [{}, false],
    [{ port: "30001" }, true],
    [{ protocol: "HTTP" }, true],
    [{ intervalSeconds: 10 }, true],
    [{ intervalSeconds: undefined }, false],
    [{ healthyThreshold: 2 }, true],
    [{ path: "/x" }, false],
  ])("healthCheckDiffers for a TCP check with actual %j = %j", (change, expected) => {
    const actual = {
      protocol: "TCP",
      port: "traffic-port",
      intervalSeconds: 30,
      healthyThreshold: 3,
      unhealthyThreshold: 3,
    };
    const desired = {
      protocol: "TCP" as const,
      port: "traffic-port" as const,
      intervalSeconds: 30,
      healthyThreshold: 3,
      unhealthyThreshold: 3,
    };
    const merged = Object.fromEntries(Object.entries({ ...actual, ...change }).filter(([, v]) => v !== undefined));
    expect(healthCheckDiffers(desired, merged as typeof actual)).toBe(expected);
  });

  it("healthCheckDiffers compares the path of HTTP checks and the timeout only when one is asked for", () => {
    const desired = {
      protocol: "HTTP" as const,
      port: 32000,
      path: "/healthz",
      intervalSeconds: 10,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
    };
    const actual = { ...desired, port: "32000", timeoutSeconds: 6 };
    expect(healthCheckDiffers(desired, actual)).toBe(false);
    expect(healthCheckDiffers(desired, { ...actual, path: "/" })).toBe(true);
    expect(healthCheckDiffers({ ...desired, timeoutSeconds: 5 }, actual)).toBe(true);
  });
});
