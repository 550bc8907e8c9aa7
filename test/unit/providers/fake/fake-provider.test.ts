import { describe, expect, it } from "vitest";
import { conformanceSpec, exampleNodes, listener, refOf } from "../../../../providers/conformance/index.ts";
import {
  createFakeProvider,
  FAKE_SCHEME_ANNOTATION,
  type FakeOperation,
  type FakeProvider,
} from "../../../../providers/fake/index.ts";
import type { LoadBalancerSpec, NodeSpec, ProviderCall } from "../../../../providers/types.ts";

const nodes = exampleNodes(5);
const seedNodes = nodes.slice(0, 3);

function spec(overrides: Partial<Parameters<typeof conformanceSpec>[0]> = {}): LoadBalancerSpec {
  return conformanceSpec({ clusterName: "unit", namespace: "default", name: "web", nodes: seedNodes, ...overrides });
}

const operations = (fake: FakeProvider) => fake.calls.map((call) => call.operation);
const mutations = (fake: FakeProvider) => fake.calls.filter((call) => call.mutating).map((call) => call.operation);

/** A fake with `first` ensured and the call log cleared. */
async function ensured(first: LoadBalancerSpec): Promise<FakeProvider> {
  const fake = createFakeProvider();
  await fake.ensureLoadBalancer(first);
  fake.resetCalls();
  return fake;
}

describe("FakeProvider: the seed scenario", () => {
  it("builds a listener on 80 forwarding to a target group of the three nodes on 30008", async () => {
    const fake = createFakeProvider();
    const status = await fake.ensureLoadBalancer(spec());
    expect(status.ingress).toEqual([{ hostname: expect.stringMatching(/^[0-9a-f]{24}\.lb\.fake\.invalid$/) }]);
    const observed = await fake.getLoadBalancer(spec());
    expect(observed?.listeners).toEqual([
      {
        port: 80,
        protocol: "TCP",
        targetPort: 30008,
        targets: ["node-1", "node-2", "node-3"].map((node) => ({ id: node, port: 30008, node })),
        healthCheck: { protocol: "TCP", port: "traffic-port" },
      },
    ]);
    expect(observed?.scheme).toBe("internet-facing");
    expect(observed?.sourceRanges).toEqual([]);
    expect(observed?.status).toEqual(status);
  });

  it("creates with one call per resource, in dependency order", async () => {
    const fake = createFakeProvider();
    await fake.ensureLoadBalancer(spec());
    expect(operations(fake)).toEqual([
      "DescribeLoadBalancer",
      "CreateLoadBalancer",
      "CreateTargetGroup",
      "RegisterTargets",
      "CreateListener",
    ]);
  });

  it("gives a ref the same address in every fake and across deletion, and other refs other addresses", async () => {
    const a = createFakeProvider();
    const b = createFakeProvider();
    const first = await a.ensureLoadBalancer(spec());
    expect(await b.ensureLoadBalancer(spec())).toEqual(first);
    await a.ensureLoadBalancerDeleted(spec());
    expect(await a.ensureLoadBalancer(spec())).toEqual(first);
    expect(await a.ensureLoadBalancer(spec({ clusterName: "other" }))).not.toEqual(first);
    expect(await a.ensureLoadBalancer(spec({ namespace: "other" }))).not.toEqual(first);
  });
});

describe("FakeProvider: convergence by diff", () => {
  it("a second ensure with the same spec makes only one read", async () => {
    const fake = await ensured(spec());
    await fake.ensureLoadBalancer(spec());
    expect(operations(fake)).toEqual(["DescribeLoadBalancer"]);
    expect(fake.mutatingCalls()).toBe(0);
    expect(fake.readCalls()).toBe(1);
  });

  it("an added node costs one RegisterTargets per target group and nothing else", async () => {
    const twoPorts = [listener(80, 30008), listener(443, 30443)];
    const fake = await ensured(spec({ listeners: twoPorts }));
    await fake.ensureLoadBalancer(spec({ listeners: twoPorts, nodes: nodes.slice(0, 4) }));
    expect(mutations(fake)).toEqual(["RegisterTargets", "RegisterTargets"]);
    expect(fake.inspect(spec())?.listeners.map((l) => l.targets.length)).toEqual([4, 4]);
  });

  it("a removed node costs one DeregisterTargets per target group", async () => {
    const fake = await ensured(spec());
    await fake.ensureLoadBalancer(spec({ nodes: nodes.slice(0, 2) }));
    expect(mutations(fake)).toEqual(["DeregisterTargets"]);
  });

  it("a replaced node is deregistered before its replacement is registered", async () => {
    const fake = await ensured(spec());
    await fake.ensureLoadBalancer(spec({ nodes: [nodes[0], nodes[1], nodes[4]] as NodeSpec[] }));
    expect(mutations(fake)).toEqual(["DeregisterTargets", "RegisterTargets"]);
    expect(fake.inspect(spec())?.listeners[0]?.targets.map((t) => t.node)).toEqual(["node-1", "node-2", "node-5"]);
  });

  it("a node whose address changed needs no call: targets are node names", async () => {
    const fake = await ensured(spec());
    const moved = [{ ...(nodes[0] as NodeSpec), addresses: [{ type: "InternalIP", address: "10.9.9.9" }] }];
    await fake.ensureLoadBalancer(spec({ nodes: [...moved, ...nodes.slice(1, 3)] }));
    expect(fake.mutatingCalls()).toBe(0);
  });

  it("a changed nodePort moves the listener to a new target group, then deletes the old one", async () => {
    const fake = await ensured(spec());
    await fake.ensureLoadBalancer(spec({ listeners: [listener(80, 30009)] }));
    expect(mutations(fake)).toEqual(["CreateTargetGroup", "RegisterTargets", "ModifyListener", "DeleteTargetGroup"]);
    expect(fake.inspect(spec())?.resources?.targetGroups).toBe("80-tcp-30009");
  });

  it("a changed protocol replaces the listener", async () => {
    const fake = await ensured(spec());
    await fake.ensureLoadBalancer(spec({ listeners: [listener(80, 30008, "UDP")] }));
    expect(mutations(fake)).toEqual([
      "DeleteListener",
      "CreateTargetGroup",
      "RegisterTargets",
      "CreateListener",
      "DeleteTargetGroup",
    ]);
    expect(fake.inspect(spec())?.listeners.map((l) => `${l.port}/${l.protocol}`)).toEqual(["80/UDP"]);
  });

  it("a changed health check modifies the target group in place", async () => {
    const fake = await ensured(spec());
    await fake.ensureLoadBalancer(spec({ externalTrafficPolicy: "Local" }));
    expect(mutations(fake)).toEqual(["ModifyTargetGroup"]);
    expect(fake.inspect(spec())?.listeners[0]?.healthCheck).toEqual({
      protocol: "HTTP",
      port: 32000,
      path: "/healthz",
    });
  });

  it("scheme and source ranges change with one attribute call; reordered ranges are no change", async () => {
    const fake = await ensured(spec());
    const internal = spec({
      annotations: { [FAKE_SCHEME_ANNOTATION]: "internal" },
      sourceRanges: ["10.0.0.0/8", "192.0.2.0/24"],
    });
    await fake.ensureLoadBalancer(internal);
    expect(mutations(fake)).toEqual(["ModifyLoadBalancerAttributes"]);
    expect(fake.inspect(internal)).toMatchObject({ scheme: "internal", sourceRanges: ["10.0.0.0/8", "192.0.2.0/24"] });
    fake.resetCalls();
    await fake.ensureLoadBalancer({ ...internal, sourceRanges: ["192.0.2.0/24", "10.0.0.0/8"] });
    expect(fake.mutatingCalls()).toBe(0);
  });

  it("serves the Service's families, and a change of families is one attribute call that keeps the address", async () => {
    const fake = await ensured(spec());
    expect(fake.inspect(spec())?.ipFamilies).toEqual(["IPv4"]);
    const dualStack = spec({ ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "RequireDualStack" });
    expect(await fake.ensureLoadBalancer(dualStack)).toEqual(await fake.ensureLoadBalancer(spec()));
    fake.resetCalls();
    await fake.ensureLoadBalancer(dualStack);
    expect(mutations(fake)).toEqual(["ModifyLoadBalancerAttributes"]);
    expect(fake.inspect(dualStack)?.ipFamilies).toEqual(["IPv6", "IPv4"]);
    expect(fake.capabilities.ipFamilies).toEqual(["IPv4", "IPv6"]);
  });

  it("honours ClientIP affinity and spec.loadBalancerIP, publishing the address asked for as a VIP", async () => {
    const fake = await ensured(spec());
    const sticky = spec({ sessionAffinity: { type: "ClientIP", timeoutSeconds: 60 }, loadBalancerIP: "192.0.2.10" });
    expect(await fake.ensureLoadBalancer(sticky)).toEqual({ ingress: [{ ip: "192.0.2.10", ipMode: "VIP" }] });
    expect(mutations(fake)).toEqual(["ModifyLoadBalancerAttributes"]);
    expect(fake.inspect(sticky)).toMatchObject({
      sessionAffinity: { type: "ClientIP", timeoutSeconds: 60 },
      status: { ingress: [{ ip: "192.0.2.10", ipMode: "VIP" }] },
    });
    fake.resetCalls();
    await fake.ensureLoadBalancer(sticky);
    expect(fake.mutatingCalls()).toBe(0);
    await fake.ensureLoadBalancer(spec());
    expect(fake.inspect(sticky)?.sessionAffinity).toBeUndefined();
    expect(fake.inspect(sticky)?.status.ingress).toEqual([{ hostname: expect.stringMatching(/\.lb\.fake\.invalid$/) }]);
  });

  it("shares one target list between Services built from the same node list", async () => {
    const fake = createFakeProvider();
    const shared = [...seedNodes];
    const a = { ...spec({ name: "a" }), nodes: shared };
    const b = { ...spec({ name: "b" }), nodes: shared };
    await fake.ensureLoadBalancer(a);
    await fake.ensureLoadBalancer(b);
    let first: readonly string[] = [];
    let second: readonly string[] = [];
    fake.mutateOutOfBand(a, (lb) => {
      first = [...lb.targetGroups.values()][0]?.targets ?? [];
    });
    fake.mutateOutOfBand(b, (lb) => {
      second = [...lb.targetGroups.values()][0]?.targets ?? [];
    });
    expect(second).toBe(first);
  });

  it("deletes listeners, then target groups, then the load balancer", async () => {
    const fake = await ensured(spec({ listeners: [listener(80, 30008), listener(443, 30443)] }));
    await fake.ensureLoadBalancerDeleted(spec());
    expect(operations(fake)).toEqual([
      "DescribeLoadBalancer",
      "DeleteListener",
      "DeleteListener",
      "DeleteTargetGroup",
      "DeleteTargetGroup",
      "DeleteLoadBalancer",
    ]);
    expect(fake.loadBalancerCount).toBe(0);
  });

  it("serializes calls for one Service: the second ensure starts after the first finished", async () => {
    const fake = createFakeProvider({ latencyMs: 1 });
    await Promise.all([fake.ensureLoadBalancer(spec()), fake.ensureLoadBalancer(spec({ nodes: nodes.slice(0, 4) }))]);
    expect(operations(fake)).toEqual([
      "DescribeLoadBalancer",
      "CreateLoadBalancer",
      "CreateTargetGroup",
      "RegisterTargets",
      "CreateListener",
      "DescribeLoadBalancer",
      "RegisterTargets",
    ]);
    expect(fake.inspect(spec())?.listeners[0]?.targets).toHaveLength(4);
  });
});

describe("FakeProvider: drift made out of band", () => {
  it("a dropped target is registered again with one call", async () => {
    const fake = await ensured(spec());
    fake.mutateOutOfBand(spec(), (lb) => {
      for (const group of lb.targetGroups.values()) group.targets = group.targets.filter((n) => n !== "node-2");
    });
    expect(fake.mutatingCalls()).toBe(0);
    await fake.ensureLoadBalancer(spec());
    expect(mutations(fake)).toEqual(["RegisterTargets"]);
  });

  it("a dropped listener is recreated on its existing target group", async () => {
    const fake = await ensured(spec());
    fake.mutateOutOfBand(spec(), (lb) => lb.listeners.clear());
    await fake.ensureLoadBalancer(spec());
    expect(mutations(fake)).toEqual(["CreateListener"]);
  });

  it("a deleted load balancer is recreated", async () => {
    const fake = await ensured(spec());
    expect(fake.deleteOutOfBand(spec())).toBe(true);
    expect(fake.deleteOutOfBand(spec())).toBe(false);
    expect(fake.calls).toEqual([]);
    await fake.ensureLoadBalancer(spec());
    expect(mutations(fake)).toContain("CreateLoadBalancer");
  });

  it("editing a load balancer that does not exist is an error", () => {
    expect(() => createFakeProvider().mutateOutOfBand(spec(), () => {})).toThrow(
      /no fake load balancer for default\/web/,
    );
  });
});

describe("FakeProvider: inspection", () => {
  it("logs each call with its Service, cluster and outcome, and reports it through onCall", async () => {
    const reported: ProviderCall[] = [];
    const fake = createFakeProvider({ onCall: (call) => reported.push(call) });
    await fake.getLoadBalancer(spec());
    await fake.listLoadBalancers("unit");
    expect(fake.calls).toEqual([
      {
        operation: "DescribeLoadBalancer",
        mutating: false,
        serviceKey: "default/web",
        clusterName: "unit",
        outcome: "not_found",
        time: expect.any(Number),
        durationMs: expect.any(Number),
      },
      {
        operation: "ListLoadBalancers",
        mutating: false,
        clusterName: "unit",
        outcome: "success",
        time: expect.any(Number),
        durationMs: expect.any(Number),
      },
    ]);
    expect(reported.map(({ operation, mutating, outcome }) => ({ operation, mutating, outcome }))).toEqual([
      { operation: "DescribeLoadBalancer", mutating: false, outcome: "not_found" },
      { operation: "ListLoadBalancers", mutating: false, outcome: "success" },
    ]);
  });

  it("counts per operation and per Service, and resets", async () => {
    const fake = createFakeProvider();
    await fake.ensureLoadBalancer(spec({ name: "a" }));
    await fake.ensureLoadBalancer(spec({ name: "b", listeners: [listener(80, 30008), listener(81, 30081)] }));
    expect(fake.callCount("CreateListener")).toBe(3);
    expect(fake.callCounts()).toEqual({
      DescribeLoadBalancer: 2,
      CreateLoadBalancer: 2,
      CreateTargetGroup: 3,
      RegisterTargets: 3,
      CreateListener: 3,
    } satisfies Partial<Record<FakeOperation, number>>);
    expect(fake.mutatingCalls()).toBe(11);
    expect(fake.mutatingCalls("default/a")).toBe(4);
    expect(fake.readCalls("default/b")).toBe(1);
    fake.resetCalls();
    expect([fake.calls.length, fake.mutatingCalls(), fake.readCalls(), fake.callCount("CreateListener")]).toEqual([
      0, 0, 0, 0,
    ]);
  });

  it("keeps a bounded log while the counters keep counting", async () => {
    const fake = createFakeProvider({ callLogLimit: 3 });
    for (let i = 0; i < 20; i++) await fake.getLoadBalancer(spec());
    expect(fake.calls.length).toBeLessThanOrEqual(6);
    expect(fake.callCount("DescribeLoadBalancer")).toBe(20);
    expect(fake.readCalls()).toBe(20);
  });

  it("inspect reads without making a call", async () => {
    const fake = await ensured(spec());
    expect(fake.inspect(spec())?.ref).toEqual(refOf(spec()));
    expect(fake.inspect(spec({ name: "absent" }))).toBeUndefined();
    expect(fake.calls).toEqual([]);
  });

  it("lists only the load balancers of the cluster asked about", async () => {
    const fake = createFakeProvider();
    await fake.ensureLoadBalancer(spec({ name: "a" }));
    await fake.ensureLoadBalancer(spec({ name: "b", clusterName: "elsewhere" }));
    const listed = await fake.listLoadBalancers("unit");
    expect(listed.map((lb) => lb.ref.service.name)).toEqual(["a"]);
    expect(await fake.listLoadBalancers("nowhere")).toEqual([]);
  });

  it("never writes to its inputs (frozen specs are accepted)", async () => {
    const frozen = spec();
    expect(Object.isFrozen(frozen.listeners[0])).toBe(true);
    await expect(createFakeProvider().ensureLoadBalancer(frozen)).resolves.toBeDefined();
  });
});
