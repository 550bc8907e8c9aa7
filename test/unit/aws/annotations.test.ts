import { describe, expect, it } from "vitest";
import {
  ANNOTATION,
  annotationField,
  parseAnnotations,
  parseKeyValueList,
  UNSUPPORTED_ANNOTATIONS,
} from "../../../providers/aws/annotations.ts";
import { matchesNodeLabels } from "../../../providers/aws/model.ts";
import { analyzeSpec, requireValidSpec } from "../../../providers/aws/validate.ts";
import { InvalidConfigurationError } from "../../../providers/errors.ts";
import {
  key,
  newNode,
  newSpec,
  withAnnotations,
  withListeners,
  withLocalTraffic,
  withSourceRanges,
} from "./fixtures.ts";

function parse(annotations: Record<string, string>, ...tweaks: Parameters<typeof newSpec>) {
  return parseAnnotations(newSpec(withAnnotations(annotations), ...tweaks));
}

function errorsOf(annotations: Record<string, string>, ...tweaks: Parameters<typeof newSpec>) {
  return parse(annotations, ...tweaks).issues.filter((i) => i.severity === "error");
}

describe("parseAnnotations", () => {
  it("defaults to an internet-facing NLB with no extras", () => {
    const { config, issues } = parse({});
    expect(issues).toEqual([]);
    expect(config).toEqual({
      scheme: "internet-facing",
      additionalTags: {},
      healthCheck: {},
      loadBalancerAttributes: { "load_balancing.cross_zone.enabled": "false", "access_logs.s3.enabled": "false" },
      targetGroupAttributes: {},
      targetNodeLabels: {},
    });
  });

  it.each([
    [undefined, undefined, "internet-facing"],
    ["false", undefined, "internet-facing"],
    ["", undefined, "internet-facing"],
    ["true", undefined, "internal"],
    ["0.0.0.0/0", undefined, "internal"],
    [undefined, "internal", "internal"],
    [undefined, "internet-facing", "internet-facing"],
    ["true", "internal", "internal"],
  ])("reads scheme from internal=%j scheme=%j as %s", (internal, scheme, expected) => {
    const annotations: Record<string, string> = {};
    if (internal !== undefined) annotations[ANNOTATION.internal] = internal;
    if (scheme !== undefined) annotations[ANNOTATION.scheme] = scheme;
    const { config, issues } = parse(annotations);
    expect(issues).toEqual([]);
    expect(config.scheme).toBe(expected);
  });

  it("reports contradicting scheme annotations", () => {
    expect(errorsOf({ [ANNOTATION.internal]: "true", [ANNOTATION.scheme]: "internet-facing" })).toEqual([
      expect.objectContaining({ field: annotationField(ANNOTATION.scheme) }),
    ]);
  });

  it.each([
    [ANNOTATION.type, "nlb-ip", /AWS Load Balancer Controller/],
    [ANNOTATION.type, "external", /AWS Load Balancer Controller/],
    [ANNOTATION.type, "clb", /Network Load Balancers only/],
    [ANNOTATION.targetType, "lambda", /not one of instance, ip/],
    [ANNOTATION.scheme, "public", /not one of internal, internet-facing/],
    [ANNOTATION.crossZone, "yes", /not a boolean/],
    [ANNOTATION.healthCheckProtocol, "udp", /not one of tcp, http, https/],
    [ANNOTATION.healthCheckPort, "70000", /not a port number/],
    [ANNOTATION.healthCheckPort, "metrics", /name of a port/],
    [ANNOTATION.healthCheckPath, "healthz", /must start with "\/"/],
    [ANNOTATION.healthCheckInterval, "3", /out of range \(5-300\)/],
    [ANNOTATION.healthCheckTimeout, "ten", /not a whole number/],
    [ANNOTATION.healthyThreshold, "11", /out of range \(2-10\)/],
    [ANNOTATION.unhealthyThreshold, "1", /out of range \(2-10\)/],
    [ANNOTATION.sslCert, "not-an-arn", /not an ACM or IAM certificate ARN/],
    [
      ANNOTATION.sslCert,
      "arn:aws:acm:us-east-1:1:certificate/a,my-cert",
      /"my-cert" is not an ACM or IAM certificate ARN/,
    ],
    [
      ANNOTATION.sslCert,
      "arn:aws:acm:us-east-1:1:certificate/a,arn:aws:acm:us-east-1:1:certificate/a",
      /more than once/,
    ],
    [
      ANNOTATION.sslCert,
      Array.from({ length: 27 }, (_, i) => `arn:aws:acm:us-east-1:1:certificate/${i}`).join(","),
      /at most 25 besides the default/,
    ],
    [ANNOTATION.backendProtocol, "grpc", /not a backend protocol/],
    [ANNOTATION.additionalTags, "kubernetes.io/service-name=x", /ownership tag/],
    [ANNOTATION.additionalTags, "aws:cloudformation=x", /reserved aws: prefix/],
    [ANNOTATION.targetGroupAttributes, "stickiness.enabled=maybe", /must be "true" or "false"/],
    [ANNOTATION.targetGroupAttributes, "slow_start.duration_seconds=30", /not a supported target group attribute/],
    [ANNOTATION.targetGroupAttributes, "proxy_protocol_v2.enabled=true,proxy_protocol_v2.enabled=false", /given twice/],
    [ANNOTATION.additionalTags, "=web", /"=web" has no key/],
    [ANNOTATION.additionalTags, "team=web,team=api", /"team" is given twice/],
    [ANNOTATION.additionalTags, "team!=web", /key "team!" has characters AWS refuses/],
    [ANNOTATION.additionalTags, "team=web;api", /the value of "team" has characters AWS refuses/],
    [ANNOTATION.additionalTags, `team=${"v".repeat(257)}`, /longer than 256/],
    [ANNOTATION.targetNodeLabels, "=x", /"=x" has no key/],
    [ANNOTATION.targetNodeLabels, "pool=a,pool=b", /"pool" is given twice/],
    [ANNOTATION.targetNodeLabels, "node pool=edge", /"node pool" is not a label key/],
    [ANNOTATION.targetNodeLabels, "pool=edge/1", /not a label value/],
    [ANNOTATION.subnets, " , ", /is empty/],
    [ANNOTATION.subnets, "subnet-1,subnet-1", /more than once/],
    [ANNOTATION.eipAllocations, "eip-123", /not Elastic IP allocation IDs/],
    [ANNOTATION.privateIpv4Addresses, "10.0.0.5", /internal load balancers only/],
    [ANNOTATION.accessLogEnabled, "true", /is required/],
  ])("rejects %s=%j naming the annotation", (annotation, value, message) => {
    const errors = errorsOf({ [annotation]: value });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => e.message).join("\n")).toMatch(message);
    for (const error of errors) expect(error.field).toMatch(/^metadata\.annotations\["service\.beta\.kubernetes\.io\//);
  });

  it("requires the access log bucket on the bucket annotation's field", () => {
    expect(errorsOf({ [ANNOTATION.accessLogEnabled]: "true" })[0]?.field).toBe(
      annotationField(ANNOTATION.accessLogBucket),
    );
  });

  it("rejects Elastic IPs on an internal load balancer and private addresses that are not IPv4", () => {
    const errors = errorsOf({
      [ANNOTATION.internal]: "true",
      [ANNOTATION.eipAllocations]: "eipalloc-0a1b",
      [ANNOTATION.privateIpv4Addresses]: "10.0.0.5,fe80::1",
    });
    expect(errors.map((e) => e.field)).toEqual([
      annotationField(ANNOTATION.eipAllocations),
      annotationField(ANNOTATION.privateIpv4Addresses),
    ]);
  });

  it("rejects preserve_client_ip.enabled=false when a port is UDP", () => {
    const errors = errorsOf(
      { [ANNOTATION.targetGroupAttributes]: "preserve_client_ip.enabled=false" },
      withListeners({ name: "dns", port: 53, protocol: "UDP", nodePort: 30053 }),
    );
    expect(errors[0]?.message).toMatch(/not allowed with UDP/);
  });

  it.each(Object.keys(UNSUPPORTED_ANNOTATIONS))("answers unsupported %s with a warning", (annotation) => {
    const { issues } = parse({ [annotation]: "x" });
    expect(issues).toEqual([
      { field: annotationField(annotation), message: expect.stringMatching(/not supported/), severity: "warning" },
    ]);
  });

  it("warns about unknown aws-load-balancer annotations (typos, other controllers)", () => {
    const { issues } = parse({ [key("aws-load-balancer-healthcheck-intervall")]: "10", "example.com/other": "x" });
    expect(issues).toEqual([
      expect.objectContaining({
        field: annotationField(key("aws-load-balancer-healthcheck-intervall")),
        severity: "warning",
      }),
    ]);
  });

  it("parses every supported annotation into the config", () => {
    const { config, issues } = parse(
      {
        [ANNOTATION.type]: "nlb",
        [ANNOTATION.internal]: "true",
        [ANNOTATION.targetType]: "ip",
        [ANNOTATION.subnets]: "subnet-0a, private-b",
        [ANNOTATION.privateIpv4Addresses]: "10.0.1.10,10.0.2.10",
        [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        [ANNOTATION.sslPorts]: "443,https",
        [ANNOTATION.sslNegotiationPolicy]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        [ANNOTATION.backendProtocol]: "ssl",
        [ANNOTATION.additionalTags]: "team=web, cost-center=42,flag=,bare",
        [ANNOTATION.healthCheckProtocol]: "http",
        [ANNOTATION.healthCheckPort]: "admin",
        [ANNOTATION.healthCheckPath]: "/ready",
        [ANNOTATION.healthCheckInterval]: "10",
        [ANNOTATION.healthCheckTimeout]: "5",
        [ANNOTATION.healthyThreshold]: "2",
        [ANNOTATION.unhealthyThreshold]: "4",
        [ANNOTATION.crossZone]: "True",
        [ANNOTATION.accessLogEnabled]: "1",
        [ANNOTATION.accessLogBucket]: "logs",
        [ANNOTATION.accessLogPrefix]: "nlb/",
        [ANNOTATION.targetGroupAttributes]: "proxy_protocol_v2.enabled=true,deregistration_delay.timeout_seconds=30",
        [ANNOTATION.targetNodeLabels]: "role=edge,gpu",
      },
      withListeners(
        { name: "https", port: 443, protocol: "TCP", nodePort: 30443 },
        { name: "admin", port: 9000, protocol: "TCP", nodePort: 30900 },
      ),
    );
    expect(issues).toEqual([]);
    expect(config).toEqual({
      scheme: "internal",
      targetType: "ip",
      subnets: ["subnet-0a", "private-b"],
      privateIpv4Addresses: ["10.0.1.10", "10.0.2.10"],
      tls: {
        certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        sniCertificateArns: [],
        ports: { numbers: new Set([443]), names: new Set(["https"]) },
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        backendTls: true,
      },
      additionalTags: { team: "web", "cost-center": "42", flag: "", bare: "" },
      healthCheck: {
        protocol: "HTTP",
        port: { portName: "admin" },
        path: "/ready",
        intervalSeconds: 10,
        timeoutSeconds: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 4,
      },
      loadBalancerAttributes: {
        "load_balancing.cross_zone.enabled": "true",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": "logs",
        "access_logs.s3.prefix": "nlb/",
      },
      targetGroupAttributes: { "proxy_protocol_v2.enabled": "true", "deregistration_delay.timeout_seconds": "30" },
      targetNodeLabels: { role: "edge", gpu: { exists: true } },
    });
  });

  it.each([
    [{ [ANNOTATION.sslPorts]: "443" }, ANNOTATION.sslPorts, /without/],
    [{ [ANNOTATION.backendProtocol]: "http" }, ANNOTATION.backendProtocol, /Classic Load Balancers only/],
    [{ [ANNOTATION.healthCheckPath]: "/x" }, ANNOTATION.healthCheckPath, /no effect with a TCP health check/],
    [{ [ANNOTATION.accessLogBucket]: "logs" }, ANNOTATION.accessLogBucket, /no effect unless/],
    [
      { [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:1:certificate/a", [ANNOTATION.sslPorts]: "8443" },
      ANNOTATION.sslPorts,
      /names no port/,
    ],
  ])("warns (not fails) about %j", (annotations, annotation, message) => {
    const { issues } = parse(annotations);
    expect(issues).toEqual([
      { field: annotationField(annotation), message: expect.stringMatching(message), severity: "warning" },
    ]);
  });

  it("leaves the source-ranges annotation to the controller: no issue, whatever the spec has", () => {
    const annotation = { "service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8,not-a-cidr" };
    expect(parse(annotation).issues).toEqual([]);
    expect(parse(annotation, withSourceRanges("192.0.2.0/24")).issues).toEqual([]);
  });

  it("keeps a Local Service's HTTP health check path without warning", () => {
    expect(parse({ [ANNOTATION.healthCheckPath]: "/livez" }, withLocalTraffic()).issues).toEqual([]);
  });
});

describe("the annotations charts ship for the AWS Load Balancer Controller", () => {
  it('turns proxy protocol v2 on for every target group with proxy-protocol: "*"', () => {
    const { config, issues } = parse({
      [ANNOTATION.proxyProtocol]: " * ",
      [ANNOTATION.targetGroupAttributes]: "deregistration_delay.timeout_seconds=30",
    });
    expect(issues).toEqual([]);
    expect(config.targetGroupAttributes).toEqual({
      "deregistration_delay.timeout_seconds": "30",
      "proxy_protocol_v2.enabled": "true",
    });
  });

  it("reads the ALPN policy for TLS listeners, and the health check's success codes", () => {
    const { config, issues } = parse({
      [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
      [ANNOTATION.alpnPolicy]: "http2preferred",
      [ANNOTATION.healthCheckProtocol]: "https",
      [ANNOTATION.healthCheckSuccessCodes]: "200-399",
    });
    expect(issues).toEqual([]);
    expect(config.tls?.alpnPolicy).toBe("HTTP2Preferred");
    expect(config.healthCheck.successCodes).toBe("200-399");
  });

  it.each([
    [ANNOTATION.proxyProtocol, "80,443", {}, /only|per port is not supported/],
    [
      ANNOTATION.proxyProtocol,
      "*",
      { [ANNOTATION.targetGroupAttributes]: "proxy_protocol_v2.enabled=false" },
      /contradicts/,
    ],
    [
      ANNOTATION.alpnPolicy,
      "h2",
      { [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:1:certificate/a" },
      /not one of HTTP1Only/,
    ],
    [ANNOTATION.healthCheckSuccessCodes, "200-", {}, /not a code, a range or a list/],
    [ANNOTATION.healthCheckSuccessCodes, "399-200", {}, /not a code, a range or a list/],
    [ANNOTATION.healthCheckSuccessCodes, "100,200", {}, /from 200 to 599/],
    [ANNOTATION.healthCheckSuccessCodes, "200,,201", {}, /not a code/],
  ])("refuses %s=%j (with %j), naming it", (key, value, more, message) => {
    expect(errorsOf({ [key]: value, ...more })).toEqual([
      { field: annotationField(key), message: expect.stringMatching(message), severity: "error" },
    ]);
  });

  it.each([
    [{ [ANNOTATION.alpnPolicy]: "HTTP2Only" }, ANNOTATION.alpnPolicy, /without/],
    [{ [ANNOTATION.healthCheckSuccessCodes]: "200" }, ANNOTATION.healthCheckSuccessCodes, /no effect with a TCP/],
  ])("warns that %j has no effect", (annotations, key, message) => {
    expect(parse(annotations).issues).toEqual([
      { field: annotationField(key), message: expect.stringMatching(message), severity: "warning" },
    ]);
  });
});

describe("list annotations with a gap", () => {
  it.each([
    [{ [ANNOTATION.eipAllocations]: "eipalloc-0a1b,,eipalloc-2c3d" }, ANNOTATION.eipAllocations, /empty entry/],
    [
      { [ANNOTATION.internal]: "true", [ANNOTATION.privateIpv4Addresses]: ",10.0.1.10,10.0.2.10" },
      ANNOTATION.privateIpv4Addresses,
      /empty entry/,
    ],
    [{ [ANNOTATION.subnets]: "subnet-0a, ,subnet-0b" }, ANNOTATION.subnets, /empty entry/],
    [
      { [ANNOTATION.sslCert]: "arn:aws:acm:us-east-1:1:certificate/a", [ANNOTATION.sslPorts]: " , " },
      ANNOTATION.sslPorts,
      /lists no port/,
    ],
  ])("refuses %j, naming the annotation", (annotations, key, message) => {
    expect(errorsOf(annotations)).toEqual([
      { field: annotationField(key), message: expect.stringMatching(message), severity: "error" },
    ]);
  });

  it("still accepts a trailing comma", () => {
    expect(errorsOf({ [ANNOTATION.subnets]: "subnet-0a,subnet-0b," })).toEqual([]);
  });
});

describe("aws-load-balancer-security-groups", () => {
  it("reads security group ids, and warns that source ranges are then the groups' to enforce", () => {
    const value = "sg-0123456789abcdef0, sg-0a1b2c3d";
    expect(parse({ [ANNOTATION.securityGroups]: value })).toEqual({
      config: expect.objectContaining({ securityGroups: ["sg-0123456789abcdef0", "sg-0a1b2c3d"] }),
      issues: [],
    });
    expect(parse({ [ANNOTATION.securityGroups]: value }, withSourceRanges("10.0.0.0/8")).issues).toEqual([
      {
        field: annotationField(ANNOTATION.securityGroups),
        message: expect.stringMatching(/source ranges \(10\.0\.0\.0\/8\) are not enforced/),
        severity: "warning",
      },
    ]);
  });

  it.each([
    ["web-sg", /"web-sg" is not a security group id/],
    ["sg-0a1b2c3d,sg-0a1b2c3d", /more than once/],
    [Array.from({ length: 6 }, (_, i) => `sg-0000000${i}`).join(","), /at most 5/],
    [" , ", /is empty/],
  ])("refuses %j, naming the annotation", (value, message) => {
    expect(errorsOf({ [ANNOTATION.securityGroups]: value })).toEqual([
      { field: annotationField(ANNOTATION.securityGroups), message: expect.stringMatching(message), severity: "error" },
    ]);
  });
});

describe("aws-load-balancer-attributes", () => {
  const attrs = (value: string, more: Record<string, string> = {}) =>
    parse({ [ANNOTATION.attributes]: value, ...more });

  it("enforces deletion protection and the DNS routing policy only when given, cross-zone and access logs always", () => {
    const { config, issues } = attrs(
      "deletion_protection.enabled=true, dns_record.client_routing_policy=availability_zone_affinity",
    );
    expect(issues).toEqual([]);
    expect(config.loadBalancerAttributes).toEqual({
      "deletion_protection.enabled": "true",
      "dns_record.client_routing_policy": "availability_zone_affinity",
      "load_balancing.cross_zone.enabled": "false",
      "access_logs.s3.enabled": "false",
    });
    expect(parse({}).config.loadBalancerAttributes).not.toHaveProperty("deletion_protection.enabled");
  });

  it("takes cross-zone and access logs from either annotation, or both when they agree", () => {
    const viaAttributes = attrs(
      "load_balancing.cross_zone.enabled=true,access_logs.s3.enabled=true,access_logs.s3.bucket=logs,access_logs.s3.prefix=nlb",
    );
    const viaBoth = attrs("load_balancing.cross_zone.enabled=true,access_logs.s3.bucket=logs", {
      [ANNOTATION.crossZone]: "true",
      [ANNOTATION.accessLogEnabled]: "true",
      [ANNOTATION.accessLogBucket]: "logs",
      [ANNOTATION.accessLogPrefix]: "nlb",
    });
    for (const { config, issues } of [viaAttributes, viaBoth]) {
      expect(issues).toEqual([]);
      expect(config.loadBalancerAttributes).toEqual({
        "load_balancing.cross_zone.enabled": "true",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": "logs",
        "access_logs.s3.prefix": "nlb",
      });
    }
  });

  it.each([
    ["load_balancing.cross_zone.enabled=true", { [ANNOTATION.crossZone]: "false" }, /contradicts .*cross-zone/],
    [
      "access_logs.s3.enabled=false",
      { [ANNOTATION.accessLogEnabled]: "true", [ANNOTATION.accessLogBucket]: "logs" },
      /contradicts .*access-log-enabled/,
    ],
    [
      "access_logs.s3.bucket=other",
      { [ANNOTATION.accessLogEnabled]: "true", [ANNOTATION.accessLogBucket]: "logs" },
      /contradicts .*bucket-name/,
    ],
    ["access_logs.s3.enabled=true", {}, /bucket is required/],
    ["deletion_protection.enabled=yes", {}, /deletion_protection\.enabled=yes: must be "true" or "false"/],
    ["dns_record.client_routing_policy=nearest", {}, /must be one of availability_zone_affinity/],
    [
      "idle_timeout.timeout_seconds=60",
      {},
      /"idle_timeout\.timeout_seconds" is not a load balancer attribute this provider sets/,
    ],
    ["access_logs.s3.bucket=Logs_Bucket", {}, /not an S3 bucket name/],
    ["deletion_protection.enabled=true,deletion_protection.enabled=false", {}, /given twice/],
    ["=true", {}, /has no key/],
    [" , ", {}, /lists no attribute/],
  ])("refuses %j (with %j), naming the annotation", (value, more, message) => {
    const errors = attrs(value, more).issues.filter((i) => i.severity === "error");
    expect(errors).toEqual([
      { field: annotationField(ANNOTATION.attributes), message: expect.stringMatching(message), severity: "error" },
    ]);
  });

  it("refuses a malformed bucket in the access-log annotation too", () => {
    expect(errorsOf({ [ANNOTATION.accessLogEnabled]: "true", [ANNOTATION.accessLogBucket]: "s3://logs" })).toEqual([
      expect.objectContaining({ field: annotationField(ANNOTATION.accessLogBucket) }),
      expect.objectContaining({
        field: annotationField(ANNOTATION.accessLogBucket),
        message: expect.stringMatching(/bucket is required/),
      }),
    ]);
  });
});

describe("keys named like Object.prototype members (found by the property tests)", () => {
  it("treats an annotation named constructor as someone else's, with no issue", () => {
    expect(parse({ constructor: "x", toString: "y" }).issues).toEqual([]);
  });

  it("keeps a tag whose key is __proto__ as a tag", () => {
    const { config, issues } = parse({ [ANNOTATION.additionalTags]: "__proto__=a,team=b" });
    expect(issues).toEqual([]);
    expect(Object.keys(config.additionalTags).sort()).toEqual(["__proto__", "team"]);
    expect(Object.getPrototypeOf(config.additionalTags)).toBe(Object.prototype);
  });

  it.each(["__proto__", "constructor", "toString"])(
    "rejects the target group attribute %s as unsupported, naming the annotation",
    (name) => {
      const [issue] = errorsOf({ [ANNOTATION.targetGroupAttributes]: `${name}=true` });
      expect(issue?.field).toBe(annotationField(ANNOTATION.targetGroupAttributes));
      expect(issue?.message).toContain(`"${name}" is not a supported target group attribute`);
    },
  );

  it("selects only nodes that carry a target-node-labels key, even one named constructor", () => {
    const { config } = parse({ [ANNOTATION.targetNodeLabels]: "constructor" });
    expect(config.targetNodeLabels).toEqual({ constructor: { exists: true } });
    const labelled = newNode(1, { labels: { constructor: "" } });
    expect(matchesNodeLabels(newNode(0), config.targetNodeLabels)).toBe(false);
    expect(matchesNodeLabels(labelled, config.targetNodeLabels)).toBe(true);
  });
});

describe("value helpers", () => {
  it("parseKeyValueList reads a K=V list, splitting each entry at its first =, and names what it cannot keep", () => {
    const { entries, problems } = parseKeyValueList(" a=1, b= ,c,,=d,e=f=g,a=2, ");
    expect(Object.fromEntries(entries)).toEqual({ a: "1", b: "", c: "", e: "f=g" });
    expect(problems).toEqual(['"=d" has no key', '"a" is given twice']);
  });
});

describe("analyzeSpec", () => {
  it.each([
    ["no ports", withListeners(), "spec.ports"],
    ["SCTP", withListeners({ name: "", port: 80, protocol: "SCTP", nodePort: 30008 }), "spec.ports[0].protocol"],
    ["no nodePort", withListeners({ name: "", port: 80, protocol: "TCP", nodePort: 0 }), "spec.ports[0].nodePort"],
    [
      "TCP and UDP on one port with different nodePorts",
      withListeners(
        { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30053 },
        { name: "dns-udp", port: 53, protocol: "UDP", nodePort: 30054 },
      ),
      "spec.ports[1].nodePort",
    ],
    [
      "too many ports",
      withListeners(
        ...Array.from({ length: 51 }, (_, i) => ({
          name: `p${i}`,
          port: 1000 + i,
          protocol: "TCP" as const,
          nodePort: 30000 + i,
        })),
      ),
      "spec.ports",
    ],
    [
      "the same port and protocol twice",
      withListeners(
        { name: "a", port: 80, protocol: "TCP", nodePort: 30008 },
        { name: "b", port: 80, protocol: "TCP", nodePort: 30009 },
      ),
      "spec.ports[1].port",
    ],
    ["no healthCheckNodePort", withLocalTraffic(0), "spec.healthCheckNodePort"],
  ])("rejects %s naming %s", (_label, tweak, field) => {
    const errors = analyzeSpec(newSpec(tweak)).issues.filter((i) => i.severity === "error");
    expect(errors.map((e) => e.field)).toEqual([field]);
    expect(() => requireValidSpec(newSpec(tweak))).toThrow(InvalidConfigurationError);
  });

  it("accepts the seed Service and a TCP+UDP port sharing one nodePort", () => {
    expect(analyzeSpec(newSpec()).issues).toEqual([]);
    const dns = withListeners(
      { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30053 },
      { name: "dns-udp", port: 53, protocol: "UDP", nodePort: 30053 },
    );
    expect(analyzeSpec(newSpec(dns)).issues).toEqual([]);
  });

  it("throws the first error with its field", () => {
    const spec = newSpec(withAnnotations({ [ANNOTATION.crossZone]: "maybe" }));
    expect(() => requireValidSpec(spec)).toThrow(
      expect.objectContaining({ name: "InvalidConfigurationError", field: annotationField(ANNOTATION.crossZone) }),
    );
  });
});
