import { describe, expect, it } from "vitest";
import { ANNOTATION, annotationField } from "../../../providers/aws/annotations.ts";
import {
  buildDesiredState,
  buildHealthCheck,
  buildSubnetMappings,
  instanceIdOf,
  resolveTargets,
} from "../../../providers/aws/model.ts";
import { loadBalancerName, securityGroupName, targetGroupName } from "../../../providers/aws/names.ts";
import { requireValidSpec } from "../../../providers/aws/validate.ts";
import type { LoadBalancerSpec } from "../../../providers/types.ts";
import {
  newNode,
  newSpec,
  withAnnotations,
  withListeners,
  withLocalTraffic,
  withNodes,
  withSourceRanges,
} from "./fixtures.ts";

function desiredOf(spec: LoadBalancerSpec) {
  return buildDesiredState(spec, requireValidSpec(spec).config);
}

const scope = { clusterName: "prod", namespace: "default", name: "myapp" };
const SEED_INSTANCES = ["i-00000000000000000", "i-00000000000000001", "i-00000000000000002"];

describe("buildDesiredState", () => {
  it("builds the seed Service: internet-facing NLB, TCP listener 80 -> TCP target group on 30008 with every node", () => {
    const desired = desiredOf(newSpec());
    const tgName = targetGroupName(scope, {
      servicePort: 80,
      protocol: "TCP",
      nodePort: 30008,
      targetType: "instance",
      healthCheckProtocol: "TCP",
    });
    const tags = {
      "kubernetes.io/cluster/prod": "owned",
      "kubernetes.io/service-name": "default/myapp",
      "lb-provisioner/service-uid": "0b6f1c1e-8a0d-4f7c-9d1e-3c2b1a000001",
    };
    expect(desired).toEqual({
      loadBalancer: {
        name: loadBalancerName(scope),
        scheme: "internet-facing",
        ipAddressType: "ipv4",
        ipv6SourceNat: false,
        tags,
        attributes: { "load_balancing.cross_zone.enabled": "false", "access_logs.s3.enabled": "false" },
      },
      securityGroup: {
        name: securityGroupName(scope),
        description: expect.stringContaining("default/myapp"),
        tags,
        ingress: [{ protocol: "tcp", fromPort: 80, toPort: 80, cidr: "0.0.0.0/0" }],
      },
      targetGroups: [
        {
          name: tgName,
          servicePort: 80,
          protocol: "TCP",
          port: 30008,
          targetType: "instance",
          ipAddressType: "ipv4",
          healthCheck: {
            protocol: "TCP",
            port: "traffic-port",
            intervalSeconds: 30,
            healthyThreshold: 3,
            unhealthyThreshold: 3,
          },
          attributes: { "stickiness.enabled": "false" },
          targets: SEED_INSTANCES.map((id) => ({ id, port: 30008 })),
          tags,
        },
      ],
      listeners: [{ port: 80, protocol: "TCP", targetGroupName: tgName, tags }],
    });
  });

  it("uses an HTTP health check on the healthCheckNodePort for externalTrafficPolicy: Local", () => {
    const [tg] = desiredOf(newSpec(withLocalTraffic(32123))).targetGroups;
    expect(tg?.healthCheck).toEqual({
      protocol: "HTTP",
      port: 32123,
      path: "/healthz",
      intervalSeconds: 10,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
    });
  });

  it("makes the load balancer internal with the internal annotation", () => {
    expect(desiredOf(newSpec(withAnnotations({ [ANNOTATION.internal]: "true" }))).loadBalancer.scheme).toBe("internal");
  });

  it("merges TCP and UDP on one port into a TCP_UDP listener and target group", () => {
    const desired = desiredOf(
      newSpec(
        withListeners(
          { name: "dns-udp", port: 53, protocol: "UDP", nodePort: 30053 },
          { name: "web", port: 80, protocol: "TCP", nodePort: 30080 },
          { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30053 },
        ),
      ),
    );
    expect(desired.listeners.map((l) => [l.port, l.protocol])).toEqual([
      [53, "TCP_UDP"],
      [80, "TCP"],
    ]);
    expect(desired.targetGroups.map((tg) => [tg.port, tg.protocol])).toEqual([
      [30053, "TCP_UDP"],
      [30080, "TCP"],
    ]);
    expect(desired.securityGroup.ingress.map((r) => `${r.protocol}/${r.fromPort}`)).toEqual([
      "tcp/53",
      "tcp/80",
      "udp/53",
    ]);
  });

  it("makes TLS listeners for the ssl-ports, TLS target groups with backend-protocol ssl", () => {
    const cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
    const desired = desiredOf(
      newSpec(
        withListeners(
          { name: "http", port: 80, protocol: "TCP", nodePort: 30080 },
          { name: "https", port: 443, protocol: "TCP", nodePort: 30443 },
        ),
        withAnnotations({
          [ANNOTATION.sslCert]: cert,
          [ANNOTATION.sslPorts]: "https",
          [ANNOTATION.sslNegotiationPolicy]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
          [ANNOTATION.backendProtocol]: "ssl",
        }),
      ),
    );
    expect(desired.listeners.map(({ tags: _tags, targetGroupName: _tg, ...l }) => l)).toEqual([
      { port: 80, protocol: "TCP" },
      {
        port: 443,
        protocol: "TLS",
        certificateArn: cert,
        sniCertificateArns: [],
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      },
    ]);
    expect(desired.targetGroups.map((tg) => tg.protocol)).toEqual(["TCP", "TLS"]);
  });

  it("puts TLS on every TCP port when ssl-ports is absent, never on UDP", () => {
    const desired = desiredOf(
      newSpec(
        withListeners(
          { name: "a", port: 443, protocol: "TCP", nodePort: 30443 },
          { name: "b", port: 514, protocol: "UDP", nodePort: 30514 },
        ),
        withAnnotations({ [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:1:certificate/x" }),
      ),
    );
    expect(desired.listeners.map((l) => l.protocol)).toEqual(["TLS", "UDP"]);
  });

  it("admits only the spec's source ranges, as the controller decided them (the annotation is not read here)", () => {
    const fromSpec = desiredOf(newSpec(withSourceRanges("203.0.113.0/24", "2001:db8::/32")));
    expect(fromSpec.securityGroup.ingress.map((r) => r.cidr)).toEqual(["2001:db8::/32", "203.0.113.0/24"]);
    const annotationOnly = desiredOf(
      newSpec(withAnnotations({ "service.beta.kubernetes.io/load-balancer-source-ranges": "10.1.0.0/16" })),
    );
    expect(annotationOnly.securityGroup.ingress.map((r) => r.cidr)).toEqual(["0.0.0.0/0"]);
  });

  it("adds the additional tags without letting them replace ownership tags", () => {
    const desired = desiredOf(newSpec(withAnnotations({ [ANNOTATION.additionalTags]: "team=web" })));
    expect(desired.loadBalancer.tags).toMatchObject({ team: "web", "kubernetes.io/cluster/prod": "owned" });
    expect(desired.targetGroups[0]?.tags).toEqual(desired.loadBalancer.tags);
  });

  it("enforces cross-zone and access logs as load balancer attributes", () => {
    const desired = desiredOf(
      newSpec(
        withAnnotations({
          [ANNOTATION.crossZone]: "true",
          [ANNOTATION.accessLogEnabled]: "true",
          [ANNOTATION.accessLogBucket]: "logs",
        }),
      ),
    );
    expect(desired.loadBalancer.attributes).toEqual({
      "load_balancing.cross_zone.enabled": "true",
      "access_logs.s3.enabled": "true",
      "access_logs.s3.bucket": "logs",
      "access_logs.s3.prefix": "",
    });
  });

  it("keeps the security group description within EC2's 255 characters", () => {
    const spec = newSpec((s) => {
      s.service = { namespace: "n".repeat(63), name: "s".repeat(63) };
      s.clusterName = "c".repeat(106);
    });
    expect(desiredOf(spec).securityGroup.description.length).toBeLessThanOrEqual(255);
  });

  it("gives a new target group name when an immutable field changes, and keeps the others", () => {
    const twoPorts = withListeners(
      { name: "a", port: 80, protocol: "TCP", nodePort: 30080 },
      { name: "b", port: 81, protocol: "TCP", nodePort: 30081 },
    );
    const before = desiredOf(newSpec(twoPorts)).targetGroups.map((tg) => tg.name);
    const nodePortChanged = desiredOf(
      newSpec(
        withListeners(
          { name: "a", port: 80, protocol: "TCP", nodePort: 30090 },
          { name: "b", port: 81, protocol: "TCP", nodePort: 30081 },
        ),
      ),
    ).targetGroups.map((tg) => tg.name);
    expect(nodePortChanged[0]).not.toBe(before[0]);
    expect(nodePortChanged[1]).toBe(before[1]);
    const local = desiredOf(newSpec(twoPorts, withLocalTraffic())).targetGroups.map((tg) => tg.name);
    expect(local.every((name, i) => name !== before[i])).toBe(true);
  });
});

describe("resolveTargets", () => {
  it("uses instance ids from AWS providerIDs, sorted", () => {
    const result = resolveTargets([newNode(2), newNode(0)], requireValidSpec(newSpec()).config);
    expect(result).toEqual({
      targetType: "instance",
      family: "IPv4",
      ids: ["i-00000000000000000", "i-00000000000000002"],
      skipped: [],
    });
  });

  it("falls back to ip targets (InternalIP) when no node has an AWS providerID", () => {
    const nodes = [newNode(0, { providerID: "kind://docker/kind/node-0" }), newNode(1, { providerID: "" })];
    const { config } = requireValidSpec(newSpec());
    expect(resolveTargets(nodes, config)).toEqual({
      targetType: "ip",
      family: "IPv4",
      ids: ["192.168.1.2", "192.168.1.3"],
      skipped: [],
    });
  });

  it("uses ip targets when asked, skipping nodes without an IPv4 InternalIP", () => {
    const spec = newSpec(withAnnotations({ [ANNOTATION.targetType]: "ip" }));
    const nodes = [newNode(0), newNode(1, { addresses: [{ type: "ExternalIP", address: "198.51.100.1" }] })];
    const result = resolveTargets(nodes, requireValidSpec(spec).config);
    expect(result.targetType).toBe("ip");
    expect(result.ids).toEqual(["192.168.1.2"]);
    expect(result.skipped).toEqual([{ node: "node-1", reason: expect.stringMatching(/InternalIP/) }]);
  });

  it("skips instance-mode nodes without a providerID and nodes not matching target-node-labels", () => {
    const spec = newSpec(withAnnotations({ [ANNOTATION.targetNodeLabels]: "pool=edge,gpu" }));
    const nodes = [
      newNode(0, { labels: { pool: "edge", gpu: "" } }),
      newNode(1, { labels: { pool: "edge" } }),
      newNode(2, { labels: { pool: "edge", gpu: "a100" }, providerID: "" }),
      newNode(3, { labels: { pool: "edge", gpu: "a100" } }),
    ];
    const result = resolveTargets(nodes, requireValidSpec(spec).config);
    expect(result.targetType).toBe("instance");
    expect(result.ids).toEqual(["i-00000000000000000", "i-00000000000000003"]);
    expect(result.skipped.map((s) => s.node)).toEqual(["node-1", "node-2"]);
  });

  it("deduplicates nodes that resolve to the same target", () => {
    const nodes = [newNode(0), newNode(0, { name: "node-0-again" })];
    expect(resolveTargets(nodes, requireValidSpec(newSpec()).config).ids).toEqual(["i-00000000000000000"]);
  });

  it("keeps instance targets when there are no nodes at all", () => {
    const spec = newSpec(withNodes());
    expect(desiredOf(spec).targetGroups[0]).toMatchObject({ targetType: "instance", targets: [] });
  });
});

describe("instanceIdOf", () => {
  it.each([
    ["aws:///us-east-1a/i-0123456789abcdef0", "i-0123456789abcdef0"],
    ["aws:///i-0123456789abcdef0", "i-0123456789abcdef0"],
    ["aws:///us-east-1a/fargate-ip-10-0-0-1.ec2.internal", undefined],
    ["gce://project/zone/instance", undefined],
    [undefined, undefined],
  ])("%j -> %j", (providerID, expected) => {
    expect(instanceIdOf(providerID)).toBe(expected);
  });
});

describe("buildHealthCheck", () => {
  it.each([
    [
      "http override on Cluster defaults the path to /",
      newSpec(withAnnotations({ [ANNOTATION.healthCheckProtocol]: "HTTP" })),
      {
        protocol: "HTTP",
        port: "traffic-port",
        path: "/",
        intervalSeconds: 30,
        healthyThreshold: 3,
        unhealthyThreshold: 3,
      },
    ],
    [
      "tcp override on Local drops the path and keeps the healthCheckNodePort",
      newSpec(withLocalTraffic(32000), withAnnotations({ [ANNOTATION.healthCheckProtocol]: "tcp" })),
      { protocol: "TCP", port: 32000, intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
    ],
    [
      "every override",
      newSpec(
        withListeners(
          { name: "web", port: 80, protocol: "TCP", nodePort: 30080 },
          { name: "status", port: 8080, protocol: "TCP", nodePort: 30808 },
        ),
        withAnnotations({
          [ANNOTATION.healthCheckProtocol]: "https",
          [ANNOTATION.healthCheckPort]: "status",
          [ANNOTATION.healthCheckPath]: "/ok",
          [ANNOTATION.healthCheckInterval]: "15",
          [ANNOTATION.healthCheckTimeout]: "6",
          [ANNOTATION.healthyThreshold]: "5",
          [ANNOTATION.unhealthyThreshold]: "4",
        }),
      ),
      {
        protocol: "HTTPS",
        port: 30808,
        path: "/ok",
        intervalSeconds: 15,
        timeoutSeconds: 6,
        healthyThreshold: 5,
        unhealthyThreshold: 4,
      },
    ],
  ])("%s", (_label, spec, expected) => {
    expect(buildHealthCheck(spec, requireValidSpec(spec).config)).toEqual(expected);
  });
});

describe("buildSubnetMappings", () => {
  const subnets = [
    { id: "subnet-a", cidr: "10.0.1.0/24" },
    { id: "subnet-b", cidr: "10.0.2.0/24" },
  ];

  it("maps Elastic IPs and private addresses to subnets by position", () => {
    const eips = requireValidSpec(newSpec(withAnnotations({ [ANNOTATION.eipAllocations]: "eipalloc-1,eipalloc-2" })));
    expect(buildSubnetMappings(eips.config, subnets)).toEqual([
      { subnetId: "subnet-a", allocationId: "eipalloc-1" },
      { subnetId: "subnet-b", allocationId: "eipalloc-2" },
    ]);
    const ips = requireValidSpec(
      newSpec(
        withAnnotations({ [ANNOTATION.internal]: "true", [ANNOTATION.privateIpv4Addresses]: "10.0.1.9,10.0.2.9" }),
      ),
    );
    expect(buildSubnetMappings(ips.config, subnets)).toEqual([
      { subnetId: "subnet-a", privateIPv4Address: "10.0.1.9" },
      { subnetId: "subnet-b", privateIPv4Address: "10.0.2.9" },
    ]);
  });

  it.each([
    [{ [ANNOTATION.eipAllocations]: "eipalloc-1" }, ANNOTATION.eipAllocations, /1 allocation IDs but .* 2 subnets/],
    [
      { [ANNOTATION.internal]: "true", [ANNOTATION.privateIpv4Addresses]: "10.0.1.9" },
      ANNOTATION.privateIpv4Addresses,
      /1 addresses but .* 2 subnets/,
    ],
    [
      { [ANNOTATION.internal]: "true", [ANNOTATION.privateIpv4Addresses]: "10.0.2.9,10.0.1.9" },
      ANNOTATION.privateIpv4Addresses,
      /10\.0\.2\.9 is not inside subnet subnet-a/,
    ],
  ])("rejects %j", (annotations, annotation, message) => {
    const { config } = requireValidSpec(newSpec(withAnnotations(annotations)));
    expect(() => buildSubnetMappings(config, subnets)).toThrow(
      expect.objectContaining({ field: annotationField(annotation), message: expect.stringMatching(message) }),
    );
  });
});
