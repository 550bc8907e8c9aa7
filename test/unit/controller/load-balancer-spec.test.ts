import { describe, expect, it } from "vitest";
import { buildLoadBalancerSpec, describeIssues } from "../../../src/controller/load-balancer-spec.ts";
import { eligibleNodeSpecs } from "../../../src/controller/node-eligibility.ts";
import { newNode, newService, tweakAnnotations, tweakSpec } from "./fixtures.ts";

const seedNodes = eligibleNodeSpecs([
  newNode("node-1", "192.168.1.2"),
  newNode("node-2", "192.168.1.3"),
  newNode("node-3", "192.168.1.4"),
]);

describe("buildLoadBalancerSpec", () => {
  it("builds the seed scenario's spec", () => {
    const result = buildLoadBalancerSpec(newService("myapp"), seedNodes, "kubernetes");
    expect(result).toEqual({
      ok: true,
      spec: {
        clusterName: "kubernetes",
        service: { namespace: "default", name: "myapp", uid: "uid-myapp" },
        listeners: [{ name: "", port: 80, protocol: "TCP", nodePort: 30008 }],
        nodes: seedNodes,
        healthCheck: { kind: "traffic-port", protocol: "TCP" },
        externalTrafficPolicy: "Cluster",
        sourceRanges: [],
        annotations: {},
      },
      warnings: [],
    });
    // One node list shared by every Service's spec, not a copy per Service.
    expect(result.ok && result.spec.nodes).toBe(seedNodes);
  });

  it("keeps the Service's port order and defaults the protocol to TCP", () => {
    const service = newService(
      "multi",
      tweakSpec({
        ports: [
          { name: "dns", protocol: "UDP", port: 53, nodePort: 30053 },
          { name: "dns-tcp", port: 53, nodePort: 30054 },
          { name: "https", protocol: "TCP", port: 443, nodePort: 30443 },
        ],
      }),
    );
    const result = buildLoadBalancerSpec(service, [], "c");
    expect(result.ok && result.spec.listeners).toEqual([
      { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 },
      { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30054 },
      { name: "https", port: 443, protocol: "TCP", nodePort: 30443 },
    ]);
  });

  it("hands the provider the address the Service publishes, leaving out empty entries", () => {
    const service = newService("published", (svc) => {
      svc.status = {
        loadBalancer: { ingress: [{ ip: "127.100.0.7", ipMode: "VIP" }, {}, { hostname: "lb.example" }] },
      };
    });
    const result = buildLoadBalancerSpec(service, seedNodes, "c");
    expect(result.ok && result.spec.publishedStatus).toEqual({
      ingress: [{ ip: "127.100.0.7" }, { hostname: "lb.example" }],
    });
    const unpublished = buildLoadBalancerSpec(newService("fresh"), seedNodes, "c");
    expect(unpublished.ok && "publishedStatus" in unpublished.spec).toBe(false);
  });

  it("hands on the IP families, ClientIP affinity with its timeout, and loadBalancerIP", () => {
    const service = newService(
      "fields",
      tweakSpec({
        ipFamilies: ["IPv6", "IPv4"],
        ipFamilyPolicy: "PreferDualStack",
        sessionAffinity: "ClientIP",
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        loadBalancerIP: " 2001:db8::10 ",
      }),
    );
    const result = buildLoadBalancerSpec(service, seedNodes, "c");
    expect(result.ok && result.spec).toMatchObject({
      ipFamilies: ["IPv6", "IPv4"],
      ipFamilyPolicy: "PreferDualStack",
      sessionAffinity: { type: "ClientIP", timeoutSeconds: 60 },
      loadBalancerIP: "2001:db8::10",
    });
    const defaults = buildLoadBalancerSpec(
      newService("defaults", tweakSpec({ sessionAffinity: "ClientIP", loadBalancerIP: "" })),
      seedNodes,
      "c",
    );
    expect(defaults.ok && defaults.spec.sessionAffinity).toEqual({ type: "ClientIP", timeoutSeconds: 10_800 });
    expect(defaults.ok && "loadBalancerIP" in defaults.spec).toBe(false);
    const none = buildLoadBalancerSpec(newService("none", tweakSpec({ sessionAffinity: "None" })), seedNodes, "c");
    expect(none.ok && "sessionAffinity" in none.spec).toBe(false);
  });

  it("uses an HTTP health check on healthCheckNodePort /healthz for externalTrafficPolicy Local", () => {
    const service = newService("local", tweakSpec({ externalTrafficPolicy: "Local", healthCheckNodePort: 32000 }));
    const result = buildLoadBalancerSpec(service, seedNodes, "c");
    expect(result.ok && result.spec.healthCheck).toEqual({
      kind: "http",
      protocol: "HTTP",
      port: 32000,
      path: "/healthz",
    });
    expect(result.ok && result.spec.externalTrafficPolicy).toBe("Local");
  });

  it("takes source ranges from the field, canonicalised, ignoring the annotation", () => {
    const service = newService(
      "ranges",
      tweakSpec({ loadBalancerSourceRanges: ["10.1.2.3/8", " 192.168.0.0/16"] }),
      tweakAnnotations({ "service.beta.kubernetes.io/load-balancer-source-ranges": "not-a-cidr" }),
    );
    const result = buildLoadBalancerSpec(service, [], "c");
    expect(result.ok && result.spec.sourceRanges).toEqual(["10.0.0.0/8", "192.168.0.0/16"]);
  });

  it("falls back to the source-ranges annotation when the field is empty", () => {
    const service = newService(
      "ranges",
      tweakAnnotations({ "service.beta.kubernetes.io/load-balancer-source-ranges": " 203.0.113.0/24 , 2001:db8::/32" }),
    );
    const result = buildLoadBalancerSpec(service, [], "c");
    expect(result.ok && result.spec.sourceRanges).toEqual(["203.0.113.0/24", "2001:db8::/32"]);
    expect(result.ok && result.spec.annotations).toEqual({
      "service.beta.kubernetes.io/load-balancer-source-ranges": " 203.0.113.0/24 , 2001:db8::/32",
    });
  });

  it.each([
    [
      "allocateLoadBalancerNodePorts false",
      newService("x", tweakSpec({ allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: "TCP" }] })),
      ["spec.allocateLoadBalancerNodePorts"],
    ],
    [
      "a port without nodePort",
      newService("x", tweakSpec({ ports: [{ port: 80, protocol: "TCP" }] })),
      ["spec.ports[0].nodePort"],
    ],
    ["no ports", newService("x", tweakSpec({ ports: [] })), ["spec.ports"]],
    [
      "an unknown protocol",
      newService("x", tweakSpec({ ports: [{ port: 80, protocol: "QUIC", nodePort: 30001 }] })),
      ["spec.ports[0].protocol"],
    ],
    [
      "Local without healthCheckNodePort",
      newService("x", tweakSpec({ externalTrafficPolicy: "Local" })),
      ["spec.healthCheckNodePort"],
    ],
    [
      "a bad range in the field",
      newService("x", tweakSpec({ loadBalancerSourceRanges: ["10.0.0.0/8", "010.0.0.0/8"] })),
      ["spec.loadBalancerSourceRanges[1]"],
    ],
    [
      "a bad range in the annotation",
      newService(
        "x",
        tweakAnnotations({ "service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8,10.0.0.0/40" }),
      ),
      ["metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]"],
    ],
    [
      "several problems at once",
      newService("x", tweakSpec({ ports: [{ port: 80, protocol: "QUIC" }], loadBalancerSourceRanges: ["x"] })),
      ["spec.ports[0].protocol", "spec.ports[0].nodePort", "spec.loadBalancerSourceRanges[0]"],
    ],
  ])("rejects %s, naming the field", (_, service, fields) => {
    const result = buildLoadBalancerSpec(service, seedNodes, "c");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.field)).toEqual(fields);
    expect(result.issues.every((issue) => issue.severity === "error" && issue.message.length > 0)).toBe(true);
  });

  it("describes issues on one line, field first", () => {
    expect(
      describeIssues([
        { field: "spec.a", message: "is bad; fix it", severity: "error" },
        { field: "spec.b", message: "too", severity: "error" },
      ]),
    ).toBe("spec.a: is bad; fix it; spec.b: too");
  });
});
