/**
 * IP families, session affinity and loadBalancerIP on the AWS provider against the test endpoint (moto
 * by default) with the real AWS SDK: the IP address type and target groups read back from AWS, the
 * security group rules of both families, the change of an existing NLB's address type in place, and
 * the refusal of a dualstack NLB in subnets without IPv6 CIDR blocks.
 *
 * Two VPCs: a dual-stack one (an IPv6 block on the VPC and each subnet) for cluster `dual`, and the
 * seed's IPv4-only one for cluster `v4only`.
 */
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import {
  DescribeListenersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type LoadBalancer,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ANNOTATION } from "../../providers/aws/annotations.ts";
import type { AwsProvider } from "../../providers/aws/index.ts";
import { conformanceSpec, refOf } from "../../providers/conformance/index.ts";
import { InvalidConfigurationError } from "../../providers/errors.ts";
import type { LoadBalancerRef, LoadBalancerSpec, NodeSpec } from "../../providers/types.ts";
import { type SeededAwsNetwork, seedAwsNetwork, withAwsEndpoint } from "../harness/index.ts";
import {
  type AwsClients,
  addIpv6,
  awsClients,
  awsProviderOn,
  CallRecorder,
  loadBalancerOf,
  nodesOf,
} from "./aws-provider-fixtures.ts";

const endpoint = withAwsEndpoint();
const recorder = new CallRecorder();
let clients: AwsClients;
/** Cluster `dual`: subnets with IPv6 blocks; nodes with an IPv4 and an IPv6 InternalIP. */
let dual: { provider: AwsProvider; nodes: NodeSpec[]; network: SeededAwsNetwork };
/** Cluster `v4only`: the seed network, IPv4 only. */
let v4only: { provider: AwsProvider; nodes: NodeSpec[]; network: SeededAwsNetwork };
const created: { provider: AwsProvider; ref: LoadBalancerRef }[] = [];

beforeAll(async () => {
  clients = awsClients(endpoint, recorder);
  const dualNetwork = await seedAwsNetwork(clients.ec2, { clusterName: "dual", instances: 3 });
  const dualNodes = await addIpv6(clients.ec2, dualNetwork);
  dual = {
    provider: await awsProviderOn(endpoint, clients, { clusterName: "dual" }),
    nodes: dualNodes,
    network: dualNetwork,
  };
  const network = await seedAwsNetwork(clients.ec2, { clusterName: "v4only", instances: 3 });
  v4only = {
    provider: await awsProviderOn(endpoint, clients, { clusterName: "v4only" }),
    nodes: nodesOf(network),
    network,
  };
});

afterEach(async () => {
  for (const { provider, ref } of created.splice(0)) await provider.ensureLoadBalancerDeleted(ref);
});

afterAll(async () => {
  await dual?.provider.close();
  await v4only?.provider.close();
  clients?.elbv2.destroy();
  clients?.ec2.destroy();
});

type SpecInput = Partial<Parameters<typeof conformanceSpec>[0]>;

function specOn(cluster: typeof dual, clusterName: string, name: string, input: SpecInput = {}): LoadBalancerSpec {
  const spec = conformanceSpec({ clusterName, namespace: "default", name, nodes: cluster.nodes, ...input });
  created.push({ provider: cluster.provider, ref: refOf(spec) });
  return spec;
}
const dualSpec = (name: string, input: SpecInput = {}) => specOn(dual, "dual", name, input);
const v4Spec = (name: string, input: SpecInput = {}) => specOn(v4only, "v4only", name, input);

const DUAL_STACK = { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" } as const;

const nlbOf = (spec: LoadBalancerSpec) => loadBalancerOf(clients, spec);

/** The target group behind the NLB's only listener, its targets and its attributes. */
async function targetGroupOf(lb: LoadBalancer) {
  const listeners = await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
  const arn = listeners.Listeners?.[0]?.DefaultActions?.[0]?.TargetGroupArn ?? "";
  const [group] =
    (await clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups ?? [];
  const health = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  const attributes = await clients.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
  return {
    group: group as TargetGroup,
    targets: (health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id ?? "").sort(),
    attributes: Object.fromEntries((attributes.Attributes ?? []).map((a) => [a.Key, a.Value])),
  };
}

/** Ensures `spec` on the dual-stack cluster, then reads back its NLB and target group. */
async function builtOnDual(spec: LoadBalancerSpec) {
  await dual.provider.ensureLoadBalancer(spec);
  const lb = (await nlbOf(spec)) as LoadBalancer;
  return { lb, tg: await targetGroupOf(lb) };
}

/** The NLB's security group rules as `protocol port cidr`, IPv4 and IPv6 ranges alike. */
async function rulesOf(lb: LoadBalancer): Promise<string[]> {
  const groups = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: lb.SecurityGroups }));
  return (groups.SecurityGroups ?? [])
    .flatMap((g) => g.IpPermissions ?? [])
    .flatMap((p) => [
      ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol} ${p.FromPort} ${r.CidrIp}`),
      ...(p.Ipv6Ranges ?? []).map((r) => `${p.IpProtocol} ${p.FromPort} ${r.CidrIpv6}`),
    ])
    .sort();
}

const ipv6Of = (node: NodeSpec) => node.addresses.find((a) => a.type === "InternalIP" && a.address.includes(":"));

describe("IP families", () => {
  it("gives an IPv4 Service an ipv4 NLB, IPv4 target group and IPv4 rules", async () => {
    const spec = dualSpec("v4", { ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack" });
    const { lb, tg } = await builtOnDual(spec);
    expect(lb.IpAddressType).toBe("ipv4");
    expect(tg.group.IpAddressType).toBe("ipv4");
    expect(await rulesOf(lb)).toEqual(["tcp 80 0.0.0.0/0"]);
    expect((await dual.provider.getLoadBalancer(refOf(spec)))?.ipFamilies).toEqual(["IPv4"]);
  });

  it("gives a dual-stack Service a dualstack NLB open to both families, instance targets over IPv4", async () => {
    const spec = dualSpec("dual", DUAL_STACK);
    const { lb, tg } = await builtOnDual(spec);
    expect(lb.IpAddressType).toBe("dualstack");
    expect([tg.group.TargetType, tg.group.IpAddressType]).toEqual(["instance", "ipv4"]);
    expect(await rulesOf(lb)).toEqual(["tcp 80 ::/0", "tcp 80 0.0.0.0/0"].sort());
    const observed = await dual.provider.getLoadBalancer(refOf(spec));
    expect(observed?.ipFamilies).toEqual(["IPv4", "IPv6"]);
    expect(observed?.sourceRanges, "open to both families reads back as open to all").toEqual([]);
  });

  it("admits IPv6 source ranges through Ipv6Ranges", async () => {
    const spec = dualSpec("ranges", { ...DUAL_STACK, sourceRanges: ["203.0.113.0/24", "2001:db8::/32"] });
    await dual.provider.ensureLoadBalancer(spec);
    const lb = await nlbOf(spec);
    expect(await rulesOf(lb as LoadBalancer)).toEqual(["tcp 80 2001:db8::/32", "tcp 80 203.0.113.0/24"]);
    const groups = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: lb?.SecurityGroups }));
    const permission = groups.SecurityGroups?.[0]?.IpPermissions?.[0];
    expect(permission?.Ipv6Ranges?.map((r) => r.CidrIpv6)).toEqual(["2001:db8::/32"]);
    expect(permission?.IpRanges?.map((r) => r.CidrIp)).toEqual(["203.0.113.0/24"]);
  });

  it("reaches the nodes over IPv6 with ip targets in an ipv6 target group when IPv6 is the primary family", async () => {
    const { lb, tg } = await builtOnDual(dualSpec("v6", { ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" }));
    expect(lb.IpAddressType).toBe("dualstack");
    expect([tg.group.TargetType, tg.group.IpAddressType]).toEqual(["ip", "ipv6"]);
    expect(tg.targets).toEqual(dual.nodes.map((n) => ipv6Of(n)?.address).sort());
  });

  it("asks AWS for an IPv6 source-NAT prefix in each subnet when a dualstack NLB serves UDP", async () => {
    recorder.reset();
    const udp = { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 } as const;
    await dual.provider.ensureLoadBalancer(dualSpec("udp", { ...DUAL_STACK, listeners: [udp] }));
    const create = recorder.calls.find((c) => c.operation === "CreateLoadBalancer");
    expect(create?.input).toMatchObject({ IpAddressType: "dualstack", EnablePrefixForIpv6SourceNat: "on" });
    const mappings = create?.input.SubnetMappings as { SourceNatIpv6Prefix?: string }[];
    expect(mappings.map((m) => m.SourceNatIpv6Prefix)).toEqual(dual.network.subnets.map(() => "auto_assigned"));
  });

  it("honours aws-load-balancer-ip-address-type: dualstack on an IPv4 Service", async () => {
    const spec = dualSpec("annotated", { annotations: { [ANNOTATION.ipAddressType]: "dualstack" } });
    await dual.provider.ensureLoadBalancer(spec);
    expect((await nlbOf(spec))?.IpAddressType).toBe("dualstack");
  });

  it("changes an existing NLB's address type in place (SetIpAddressType), keeping its DNS name", async () => {
    const ipv4 = dualSpec("switch");
    const first = await dual.provider.ensureLoadBalancer(ipv4);
    const arn = (await nlbOf(ipv4))?.LoadBalancerArn;

    recorder.reset();
    const both = dualSpec("switch", DUAL_STACK);
    expect(await dual.provider.ensureLoadBalancer(both)).toEqual(first);
    const after = await nlbOf(both);
    expect(after?.LoadBalancerArn).toBe(arn);
    expect(after?.IpAddressType).toBe("dualstack");
    const mutations = recorder.mutating();
    expect(mutations.map((c) => c.operation)).toEqual(["AuthorizeSecurityGroupIngress", "SetIpAddressType"]);
    expect(mutations[1]?.input).toMatchObject({ LoadBalancerArn: arn, IpAddressType: "dualstack" });

    recorder.reset();
    await dual.provider.ensureLoadBalancer(ipv4);
    expect((await nlbOf(ipv4))?.IpAddressType).toBe("ipv4");
    expect(recorder.mutatingOperations()).toEqual(["RevokeSecurityGroupIngress", "SetIpAddressType"]);
  });

  it("replaces the target group when the nodes' family changes, and only then turns the NLB back to ipv4", async () => {
    const v6 = dualSpec("family", { ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "RequireDualStack" });
    await dual.provider.ensureLoadBalancer(v6);
    const before = await targetGroupOf((await nlbOf(v6)) as LoadBalancer);
    expect(before.group.IpAddressType).toBe("ipv6");

    recorder.reset();
    const v4 = dualSpec("family", { ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack" });
    await dual.provider.ensureLoadBalancer(v4);
    const after = await targetGroupOf((await nlbOf(v4)) as LoadBalancer);
    expect(after.group.IpAddressType).toBe("ipv4");
    expect(after.group.TargetType).toBe("instance");
    expect(after.targets).toEqual(dual.network.instances.map((i) => i.instanceId).sort());
    const operations = recorder.mutatingOperations();
    // The IPv6 target group is off the listener and gone before the NLB stops being dualstack.
    expect(operations.indexOf("SetIpAddressType")).toBeGreaterThan(operations.indexOf("DeleteTargetGroup"));
    expect(operations).toContain("ModifyListener");
  });

  it("refuses a dualstack NLB in subnets without IPv6 CIDR blocks, naming them, and creates nothing", async () => {
    const refused = v4Spec("no-v6", DUAL_STACK);
    recorder.reset();
    const error = await v4only.provider.ensureLoadBalancer(refused).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    const { field, message } = error as InvalidConfigurationError;
    expect(field).toBe("spec.ipFamilies");
    for (const subnet of v4only.network.subnets) expect(message).toContain(subnet.subnetId);
    expect(message).toMatch(/associate an IPv6 CIDR block/);
    expect(recorder.mutatingOperations(), "nothing half-made is left in the cloud").toEqual([]);
    expect(await nlbOf(refused)).toBeUndefined();
  });

  it("refuses to turn an existing NLB dualstack in subnets without IPv6, and leaves it ipv4", async () => {
    const ipv4 = v4Spec("stay-v4");
    await v4only.provider.ensureLoadBalancer(ipv4);
    const annotated = v4Spec("stay-v4", { annotations: { [ANNOTATION.ipAddressType]: "dualstack" } });
    recorder.reset();
    const error = await v4only.provider.ensureLoadBalancer(annotated).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe(`metadata.annotations["${ANNOTATION.ipAddressType}"]`);
    expect((error as Error).message).toContain(v4only.network.subnets[0]?.subnetId);
    expect(recorder.mutatingOperations()).not.toContain("SetIpAddressType");
    expect((await nlbOf(annotated))?.IpAddressType).toBe("ipv4");
  });
});

describe("session affinity and loadBalancerIP", () => {
  it("applies ClientIP as source-IP stickiness on the target group, and turns it off again", async () => {
    const sticky = dualSpec("sticky", { sessionAffinity: { type: "ClientIP", timeoutSeconds: 10800 } });
    await dual.provider.ensureLoadBalancer(sticky);
    const lb = (await nlbOf(sticky)) as LoadBalancer;
    expect((await targetGroupOf(lb)).attributes).toMatchObject({
      "stickiness.enabled": "true",
      "stickiness.type": "source_ip",
    });
    expect(dual.provider.validate(sticky).map((i) => [i.field, i.severity])).toEqual([
      ["spec.sessionAffinity", "warning"],
    ]);

    recorder.reset();
    await dual.provider.ensureLoadBalancer(dualSpec("sticky"));
    expect((await targetGroupOf(lb)).attributes).toMatchObject({ "stickiness.enabled": "false" });
    expect(recorder.mutatingOperations()).toEqual(["ModifyTargetGroupAttributes"]);
  });

  it("answers spec.loadBalancerIP with a warning naming the annotations, and builds the NLB", async () => {
    const spec = dualSpec("wants-ip", { loadBalancerIP: "192.168.1.50" });
    const issues = dual.provider.validate(spec);
    expect(issues.map((i) => [i.field, i.severity])).toEqual([["spec.loadBalancerIP", "warning"]]);
    expect(issues[0]?.message).toContain(ANNOTATION.eipAllocations);
    await dual.provider.ensureLoadBalancer(spec);
    expect(await nlbOf(spec)).toBeDefined();
  });
});
