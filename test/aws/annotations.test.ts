/**
 * The annotations charts ship for the AWS Load Balancer Controller, and `aws-load-balancer-attributes`,
 * through the AWS provider against the test endpoint (moto by default): each one read back from AWS with
 * plain SDK calls, and a second ensure with nothing changed makes no mutating call.
 */

import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import {
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  type Listener,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AwsProvider } from "../../providers/aws/index.ts";
import { loadBalancerName, securityGroupName } from "../../providers/aws/names.ts";
import { conformanceSpec, listener, refOf } from "../../providers/conformance/index.ts";
import { ConflictError, InvalidConfigurationError } from "../../providers/errors.ts";
import type { LoadBalancerRef, LoadBalancerSpec, NodeSpec } from "../../providers/types.ts";
import { seedAwsNetwork, withAwsEndpoint } from "../harness/index.ts";
import {
  type AwsClients,
  awsClients,
  awsProviderOn,
  CallRecorder,
  nodesOf,
  requestCertificate,
} from "./aws-provider-fixtures.ts";

const CLUSTER = "charts";
const NAMESPACE = "default";
const A = "service.beta.kubernetes.io/aws-load-balancer-";
const endpoint = withAwsEndpoint();
const recorder = new CallRecorder();
let clients: AwsClients;
let nodes: NodeSpec[];
let vpcId: string;
let provider: AwsProvider;
const created: LoadBalancerRef[] = [];

beforeAll(async () => {
  clients = awsClients(endpoint, recorder);
  const network = await seedAwsNetwork(clients.ec2, { clusterName: CLUSTER, instances: 3 });
  nodes = nodesOf(network);
  vpcId = network.vpcId;
  provider = await awsProviderOn(endpoint, clients, { clusterName: CLUSTER });
});

afterEach(async () => {
  for (const ref of created.splice(0)) await provider.ensureLoadBalancerDeleted(ref);
});

afterAll(async () => {
  await provider?.close();
  clients?.elbv2.destroy();
  clients?.ec2.destroy();
});

function spec(name: string, overrides: Partial<Parameters<typeof conformanceSpec>[0]> = {}): LoadBalancerSpec {
  const built = conformanceSpec({ clusterName: CLUSTER, namespace: NAMESPACE, name, nodes, ...overrides });
  created.push(refOf(built));
  return built;
}

/** Ensures `of`, then again: the second must change nothing. */
async function ensureTwice(of: LoadBalancerSpec): Promise<void> {
  await provider.ensureLoadBalancer(of);
  recorder.reset();
  await provider.ensureLoadBalancer(of);
  expect(recorder.mutatingOperations()).toEqual([]);
}

async function loadBalancerArn(of: LoadBalancerSpec): Promise<string> {
  const name = loadBalancerName({ clusterName: CLUSTER, namespace: of.service.namespace, name: of.service.name });
  const out = await clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] }));
  const arn = out.LoadBalancers?.[0]?.LoadBalancerArn;
  if (arn === undefined) throw new Error(`no load balancer ${name}`);
  return arn;
}

async function attributesInAws(of: LoadBalancerSpec): Promise<Record<string, string>> {
  const out = await clients.elbv2.send(
    new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: await loadBalancerArn(of) }),
  );
  return Object.fromEntries((out.Attributes ?? []).map((a) => [a.Key ?? "", a.Value ?? ""]));
}

/** The load balancer's listeners, and the target group each forwards to, by listener port. */
async function listenersInAws(of: LoadBalancerSpec): Promise<Map<number, { listener: Listener; group: TargetGroup }>> {
  const out = await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: await loadBalancerArn(of) }));
  const byPort = new Map<number, { listener: Listener; group: TargetGroup }>();
  for (const l of out.Listeners ?? []) {
    const arn = l.DefaultActions?.[0]?.TargetGroupArn ?? "";
    const [group] =
      (await clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups ?? [];
    if (group !== undefined) byPort.set(l.Port ?? 0, { listener: l, group });
  }
  return byPort;
}

/** The default and SNI certificates of the (one) TLS listener, as DescribeListenerCertificates lists them. */
async function certificatesInAws(of: LoadBalancerSpec): Promise<{ default: string | undefined; sni: string[] }> {
  const [tls] = [...(await listenersInAws(of)).values()].filter((l) => l.listener.Protocol === "TLS");
  const out = await clients.elbv2.send(
    new DescribeListenerCertificatesCommand({ ListenerArn: tls?.listener.ListenerArn }),
  );
  const certificates = out.Certificates ?? [];
  return {
    default: certificates.find((c) => c.IsDefault === true)?.CertificateArn,
    sni: certificates
      .filter((c) => c.IsDefault !== true)
      .map((c) => c.CertificateArn ?? "")
      .sort(),
  };
}

async function targetGroupAttributes(group: TargetGroup): Promise<Record<string, string>> {
  const out = await clients.elbv2.send(
    new DescribeTargetGroupAttributesCommand({ TargetGroupArn: group.TargetGroupArn }),
  );
  return Object.fromEntries((out.Attributes ?? []).map((a) => [a.Key ?? "", a.Value ?? ""]));
}

describe("the AWS Load Balancer Controller annotations charts ship", () => {
  it('proxy-protocol: "*" turns proxy protocol v2 on for every target group', async () => {
    const proxied = spec("proxied", {
      listeners: [listener(80, 30080), listener(443, 30443)],
      annotations: { [`${A}proxy-protocol`]: "*" },
    });
    await ensureTwice(proxied);
    const groups = [...(await listenersInAws(proxied)).values()].map((l) => l.group);
    expect(groups).toHaveLength(2);
    for (const group of groups)
      expect(await targetGroupAttributes(group)).toMatchObject({ "proxy_protocol_v2.enabled": "true" });
  });

  it("healthcheck-success-codes sets the HTTP health check's matcher, and a change is modified in place", async () => {
    const annotations = { [`${A}healthcheck-protocol`]: "http", [`${A}healthcheck-success-codes`]: "200,204" };
    const checked = spec("checked", { annotations });
    await ensureTwice(checked);
    const [before] = [...(await listenersInAws(checked)).values()];
    expect(before?.group.Matcher?.HttpCode).toBe("200,204");

    // moto (5.2) applies a modified matcher to HTTP/HTTPS target groups only, where AWS applies it to an
    // NLB's TCP target group too: what was sent is checked, not what moto then reports.
    const changed = spec("checked", { annotations: { ...annotations, [`${A}healthcheck-success-codes`]: "200-299" } });
    await provider.ensureLoadBalancer(changed);
    expect(recorder.mutating().map((c) => [c.operation, c.input.TargetGroupArn, c.input.Matcher])).toEqual([
      ["ModifyTargetGroup", before?.group.TargetGroupArn, { HttpCode: "200-299" }],
    ]);
  });

  it("ssl-cert lists the default certificate, then SNI certificates kept in step with the list", async () => {
    const [first, second, third, fourth] = await Promise.all(
      ["a", "b", "c", "d"].map((host) => requestCertificate(endpoint, `${host}.example.com`)),
    );
    const certs = (...arns: (string | undefined)[]) => ({ [`${A}ssl-cert`]: arns.join(",") });
    const sni = spec("sni", { listeners: [listener(443, 30443)], annotations: certs(first, second, third) });
    await ensureTwice(sni);
    expect(await certificatesInAws(sni)).toEqual({ default: first, sni: [second, third].sort() });

    const changed = spec("sni", { listeners: [listener(443, 30443)], annotations: certs(first, fourth, third) });
    await ensureTwice(changed);
    expect(await certificatesInAws(changed)).toEqual({ default: first, sni: [third, fourth].sort() });
  });

  it("alpn-policy sets the ALPN policy of the TLS listeners only", async () => {
    const certificateArn = await requestCertificate(endpoint);
    const alpn = spec("alpn", {
      listeners: [listener(80, 30080, "TCP", "http"), listener(443, 30443, "TCP", "https")],
      annotations: {
        [`${A}ssl-cert`]: certificateArn,
        [`${A}ssl-ports`]: "https",
        [`${A}alpn-policy`]: "HTTP2Preferred",
      },
    });
    await ensureTwice(alpn);
    const listeners = await listenersInAws(alpn);
    expect(listeners.get(443)?.listener.AlpnPolicy).toEqual(["HTTP2Preferred"]);
    expect(listeners.get(443)?.listener.Protocol).toBe("TLS");
    expect(listeners.get(80)?.listener.AlpnPolicy ?? []).toEqual([]);
  });
});

describe("aws-load-balancer-security-groups", () => {
  async function groupOfMyOwn(name: string): Promise<string> {
    const out = await clients.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: name, Description: "brought by the Service", VpcId: vpcId }),
    );
    if (out.GroupId === undefined) throw new Error("no group id");
    return out.GroupId;
  }
  async function managedGroups(of: LoadBalancerSpec): Promise<string[]> {
    const name = securityGroupName({ clusterName: CLUSTER, namespace: of.service.namespace, name: of.service.name });
    const out = await clients.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [name] }] }),
    );
    return (out.SecurityGroups ?? []).map((g) => g.GroupId ?? "");
  }
  async function attachedGroups(of: LoadBalancerSpec): Promise<string[]> {
    const name = loadBalancerName({ clusterName: CLUSTER, namespace: of.service.namespace, name: of.service.name });
    const out = await clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] }));
    return [...(out.LoadBalancers?.[0]?.SecurityGroups ?? [])].sort();
  }

  it("attaches the Service's groups instead of the managed one, which is never made", async () => {
    const own = [await groupOfMyOwn("web-a"), await groupOfMyOwn("web-b")].sort();
    const byo = spec("byo", { annotations: { [`${A}security-groups`]: own.join(",") } });
    await ensureTwice(byo);
    expect(await attachedGroups(byo)).toEqual(own);
    expect(await managedGroups(byo)).toEqual([]);
    // The groups' rules are not the Service's source ranges: read back, the provider does not claim any.
    expect((await provider.getLoadBalancer(refOf(byo)))?.sourceRanges).toBeUndefined();
  });

  it("switched to the Service's groups, detaches the managed group and deletes it", async () => {
    const managed = spec("switched");
    await provider.ensureLoadBalancer(managed);
    const [managedGroup] = await managedGroups(managed);
    expect(await attachedGroups(managed)).toEqual([managedGroup]);

    const own = await groupOfMyOwn("switched-own");
    const switched = spec("switched", { annotations: { [`${A}security-groups`]: own } });
    await ensureTwice(switched);
    expect(await attachedGroups(switched)).toEqual([own]);
    expect(await managedGroups(switched)).toEqual([]);
  });

  it("refuses a group that does not exist, naming the annotation, before making anything", async () => {
    const missing = spec("missing-group", { annotations: { [`${A}security-groups`]: "sg-0123456789abcdef0" } });
    recorder.reset();
    const error = await provider.ensureLoadBalancer(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe(`metadata.annotations["${A}security-groups"]`);
    expect((error as Error).message).toContain("sg-0123456789abcdef0 does not exist");
    expect(recorder.mutatingOperations()).toEqual([]);
  });
});

describe("aws-load-balancer-attributes", () => {
  it("keeps a protected load balancer whose scheme changes, listeners and all, until the Service switches protection off", async () => {
    const protectedAt = (internal: string, protection: string) =>
      spec("rescheme", {
        annotations: { [`${A}internal`]: internal, [`${A}attributes`]: `deletion_protection.enabled=${protection}` },
      });
    const before = protectedAt("false", "true");
    await provider.ensureLoadBalancer(before);
    const arn = await loadBalancerArn(before);

    recorder.reset();
    const refused = await provider.ensureLoadBalancer(protectedAt("true", "true")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toContain(`${arn} has deletion protection on, so nothing is changed`);
    expect(recorder.mutatingOperations()).toEqual([]);
    expect((await listenersInAws(before)).size).toBe(1);

    const released = protectedAt("true", "false");
    await provider.ensureLoadBalancer(released);
    expect(
      recorder
        .mutating()
        .slice(0, 3)
        .map((c) => [c.operation, c.input.LoadBalancerArn]),
    ).toEqual([
      ["ModifyLoadBalancerAttributes", arn],
      ["DeleteListener", undefined],
      ["DeleteLoadBalancer", arn],
    ]);
    expect(await loadBalancerArn(released)).not.toBe(arn);
  });

  it("sets each attribute given, with cross-zone and access logs from either annotation", async () => {
    const attributed = spec("attributed", {
      annotations: {
        [`${A}attributes`]:
          "deletion_protection.enabled=true,dns_record.client_routing_policy=availability_zone_affinity,load_balancing.cross_zone.enabled=true,access_logs.s3.enabled=true,access_logs.s3.prefix=nlb",
        [`${A}access-log-s3-bucket-name`]: "my-nlb-logs",
      },
    });
    await ensureTwice(attributed);
    expect(await attributesInAws(attributed)).toMatchObject({
      "deletion_protection.enabled": "true",
      "dns_record.client_routing_policy": "availability_zone_affinity",
      "load_balancing.cross_zone.enabled": "true",
      "access_logs.s3.enabled": "true",
      "access_logs.s3.bucket": "my-nlb-logs",
      "access_logs.s3.prefix": "nlb",
    });

    // Taken out of the annotation, deletion protection and the routing policy keep their last values.
    const relaxed = spec("attributed", { annotations: { [`${A}attributes`]: "deletion_protection.enabled=false" } });
    await ensureTwice(relaxed);
    expect(await attributesInAws(relaxed)).toMatchObject({
      "deletion_protection.enabled": "false",
      "dns_record.client_routing_policy": "availability_zone_affinity",
      "load_balancing.cross_zone.enabled": "false",
      "access_logs.s3.enabled": "false",
    });
  });
});
