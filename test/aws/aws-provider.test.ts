/**
 * The AWS provider end to end against the test endpoint (moto by default) with the real AWS SDK: the
 * seed scenario, what the NLB looks like in AWS, convergence cost counted by SDK middleware, ownership
 * conflicts, drift repair and deletion. Assertions read AWS directly, not through the provider.
 */
import {
  DescribeSecurityGroupsCommand,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type Listener,
  type LoadBalancer,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AwsProvider } from "../../providers/aws/index.ts";
import { loadBalancerName, securityGroupName } from "../../providers/aws/names.ts";
import { conformanceSpec, listener, refOf, SEED_LISTENER } from "../../providers/conformance/index.ts";
import { ConflictError } from "../../providers/errors.ts";
import type { LoadBalancerRef, LoadBalancerSpec, NodeSpec } from "../../providers/types.ts";
import { type SeededAwsNetwork, seedAwsNetwork, withAwsEndpoint } from "../harness/index.ts";
import {
  type AwsClients,
  awsClients,
  awsProviderOn,
  CallRecorder,
  loadBalancerOf,
  nodesOf,
  requestCertificate,
} from "./aws-provider-fixtures.ts";

const CLUSTER = "prod";
const NAMESPACE = "default";
const endpoint = withAwsEndpoint();
const recorder = new CallRecorder();
let clients: AwsClients;
let network: SeededAwsNetwork;
let nodes: NodeSpec[];
let provider: AwsProvider;
const created: LoadBalancerRef[] = [];

beforeAll(async () => {
  clients = awsClients(endpoint, recorder);
  network = await seedAwsNetwork(clients.ec2, { clusterName: CLUSTER, instances: 4 });
  nodes = nodesOf(network);
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

/** A spec for Service `name` on the first three seeded nodes (the seed scenario by default). */
function spec(name: string, overrides: Partial<Parameters<typeof conformanceSpec>[0]> = {}): LoadBalancerSpec {
  const built = conformanceSpec({
    clusterName: CLUSTER,
    namespace: NAMESPACE,
    name,
    nodes: nodes.slice(0, 3),
    ...overrides,
  });
  created.push(refOf(built));
  return built;
}

const instanceIds = (count: number) =>
  network.instances
    .slice(0, count)
    .map((i) => i.instanceId)
    .sort();

interface NlbInAws {
  readonly loadBalancer: LoadBalancer;
  readonly tags: Record<string, string>;
  readonly listeners: Listener[];
  /** By listener port. */
  readonly targetGroups: Map<number, TargetGroup>;
  /** Target instance ids by listener port, sorted. */
  readonly targets: Map<number, string[]>;
  readonly securityGroupRules: string[];
}

/** The Service's NLB as AWS reports it, read with plain SDK calls; `undefined` when there is none. */
async function nlbInAws(of: LoadBalancerSpec): Promise<NlbInAws | undefined> {
  const loadBalancer = await loadBalancerOf(clients, of);
  if (loadBalancer === undefined) return undefined;
  const arn = loadBalancer.LoadBalancerArn ?? "";
  const listeners = (await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: arn }))).Listeners ?? [];
  const targetGroups = new Map<number, TargetGroup>();
  const targets = new Map<number, string[]>();
  for (const l of listeners) {
    const tgArn = l.DefaultActions?.[0]?.TargetGroupArn ?? "";
    const [tg] =
      (await clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgArn] }))).TargetGroups ?? [];
    if (tg !== undefined) targetGroups.set(l.Port ?? 0, tg);
    const health = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
    targets.set(l.Port ?? 0, (health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id ?? "").sort());
  }
  const tagList = (await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }))).TagDescriptions?.[0]
    ?.Tags;
  const groups = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: loadBalancer.SecurityGroups }));
  const securityGroupRules = (groups.SecurityGroups ?? [])
    .flatMap((g) => g.IpPermissions ?? [])
    .flatMap((p: IpPermission) =>
      [...(p.IpRanges ?? []).map((r) => r.CidrIp), ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6)].map(
        (cidr) => `${p.IpProtocol}/${p.FromPort}/${cidr}`,
      ),
    )
    .sort();
  return {
    loadBalancer,
    tags: Object.fromEntries((tagList ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
    listeners,
    targetGroups,
    targets,
    securityGroupRules,
  };
}

async function required(of: LoadBalancerSpec): Promise<NlbInAws> {
  const nlb = await nlbInAws(of);
  if (nlb === undefined) throw new Error(`no NLB in AWS for ${of.service.namespace}/${of.service.name}`);
  return nlb;
}

describe("the seed scenario", () => {
  it("builds an internet-facing NLB: listener 80 -> TCP target group on 30008 with the three instances", async () => {
    const seed = spec("myapp");
    const status = await provider.ensureLoadBalancer(seed);

    const nlb = await required(seed);
    expect(nlb.loadBalancer).toMatchObject({ Type: "network", Scheme: "internet-facing", VpcId: network.vpcId });
    expect(status).toEqual({ ingress: [{ hostname: nlb.loadBalancer.DNSName }] });
    expect(nlb.listeners.map((l) => [l.Port, l.Protocol])).toEqual([[80, "TCP"]]);
    expect(nlb.targetGroups.get(80)).toMatchObject({
      Protocol: "TCP",
      Port: 30008,
      TargetType: "instance",
      HealthCheckProtocol: "TCP",
      HealthCheckPort: "traffic-port",
    });
    expect(nlb.targets.get(80)).toEqual(instanceIds(3));
    expect(nlb.tags).toMatchObject({
      "kubernetes.io/cluster/prod": "owned",
      "kubernetes.io/service-name": "default/myapp",
    });
    expect(nlb.securityGroupRules).toEqual(["tcp/80/0.0.0.0/0"]);
    expect((nlb.loadBalancer.AvailabilityZones ?? []).map((z) => z.SubnetId).sort()).toEqual(
      network.subnets.map((s) => s.subnetId).sort(),
    );
  });

  it("makes the NLB internal with service.beta.kubernetes.io/aws-load-balancer-internal", async () => {
    const internal = spec("internal", {
      annotations: { "service.beta.kubernetes.io/aws-load-balancer-internal": "true" },
    });
    await provider.ensureLoadBalancer(internal);
    expect((await required(internal)).loadBalancer.Scheme).toBe("internal");
  });

  it("health-checks HTTP /healthz on the healthCheckNodePort for externalTrafficPolicy: Local", async () => {
    const local = spec("local", {
      externalTrafficPolicy: "Local",
      healthCheck: { kind: "http", protocol: "HTTP", port: 31555, path: "/healthz" },
    });
    await provider.ensureLoadBalancer(local);
    expect((await required(local)).targetGroups.get(80)).toMatchObject({
      HealthCheckProtocol: "HTTP",
      HealthCheckPort: "31555",
      HealthCheckPath: "/healthz",
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    });
  });
});

describe("convergence cost, counted by SDK middleware", () => {
  const twoPorts = [SEED_LISTENER, listener(443, 30443)];

  it("makes no mutating call when nothing changed", async () => {
    const service = spec("unchanged", { listeners: twoPorts });
    await provider.ensureLoadBalancer(service);
    recorder.reset();
    await provider.ensureLoadBalancer(service);
    expect(recorder.calls.length).toBeGreaterThan(0);
    expect(recorder.mutatingOperations()).toEqual([]);
  });

  it("registers a joining node with exactly one RegisterTargets per target group, nothing else", async () => {
    const before = spec("node-joins", { listeners: twoPorts });
    await provider.ensureLoadBalancer(before);
    const groups = (await required(before)).targetGroups;
    recorder.reset();

    await provider.ensureLoadBalancer(spec("node-joins", { listeners: twoPorts, nodes: nodes.slice(0, 4) }));

    const joined = network.instances[3]?.instanceId;
    expect(recorder.mutatingOperations()).toEqual(["RegisterTargets", "RegisterTargets"]);
    expect(
      recorder
        .mutating()
        .map((c) => [c.input.TargetGroupArn, c.input.Targets])
        .sort(),
    ).toEqual(
      [
        [groups.get(80)?.TargetGroupArn, [{ Id: joined, Port: 30008 }]],
        [groups.get(443)?.TargetGroupArn, [{ Id: joined, Port: 30443 }]],
      ].sort(),
    );
    expect((await required(before)).targets.get(443)).toEqual(instanceIds(4));
  });

  it("deregisters a leaving node with exactly one DeregisterTargets per target group", async () => {
    await provider.ensureLoadBalancer(spec("node-leaves", { listeners: twoPorts, nodes: nodes.slice(0, 4) }));
    recorder.reset();
    const after = spec("node-leaves", { listeners: twoPorts, nodes: nodes.slice(1, 4) });
    await provider.ensureLoadBalancer(after);
    expect(recorder.mutatingOperations()).toEqual(["DeregisterTargets", "DeregisterTargets"]);
    expect((await required(after)).targets.get(80)).toEqual(
      network.instances
        .slice(1, 4)
        .map((i) => i.instanceId)
        .sort(),
    );
  });

  it("replaces only the changed port's target group (nodePort is immutable): create, repoint, delete old", async () => {
    const before = spec("node-port", { listeners: twoPorts });
    await provider.ensureLoadBalancer(before);
    const old = (await required(before)).targetGroups;
    recorder.reset();

    const after = spec("node-port", { listeners: [listener(80, 30009), listener(443, 30443)] });
    await provider.ensureLoadBalancer(after);

    expect(recorder.mutatingOperations()).toEqual([
      "CreateTargetGroup",
      "RegisterTargets",
      "ModifyListener",
      "DeleteTargetGroup",
    ]);
    const untouched = old.get(443)?.TargetGroupArn;
    expect(recorder.mutating().filter((c) => JSON.stringify(c.input).includes(String(untouched)))).toEqual([]);
    const now = await required(after);
    expect(now.targetGroups.get(443)?.TargetGroupArn).toBe(untouched);
    expect(now.targetGroups.get(80)?.Port).toBe(30009);
    expect(recorder.mutating().find((c) => c.operation === "DeleteTargetGroup")?.input.TargetGroupArn).toBe(
      old.get(80)?.TargetGroupArn,
    );
  });

  it("replaces target groups whose health check protocol changes without ever removing a listener", async () => {
    const before = spec("hc-protocol", { listeners: twoPorts });
    await provider.ensureLoadBalancer(before);
    recorder.reset();
    const after = spec("hc-protocol", {
      listeners: twoPorts,
      externalTrafficPolicy: "Local",
      healthCheck: { kind: "http", protocol: "HTTP", port: 31556, path: "/healthz" },
    });
    await provider.ensureLoadBalancer(after);
    const operations = recorder.mutatingOperations();
    expect(operations).not.toContain("DeleteListener");
    expect(operations.lastIndexOf("CreateTargetGroup")).toBeLessThan(operations.indexOf("ModifyListener"));
    expect(operations.lastIndexOf("ModifyListener")).toBeLessThan(operations.indexOf("DeleteTargetGroup"));
    const nlb = await required(after);
    for (const port of [80, 443]) expect(nlb.targetGroups.get(port)?.HealthCheckProtocol).toBe("HTTP");
    recorder.reset();
    await provider.ensureLoadBalancer(after);
    expect(recorder.mutatingOperations()).toEqual([]);
  });
});

describe("ownership", () => {
  it("reports a pre-existing NLB with the would-be name but another cluster's tags as a conflict, untouched", async () => {
    const service = spec("taken");
    const name = loadBalancerName({ clusterName: CLUSTER, namespace: NAMESPACE, name: "taken" });
    const foreignTags = [
      { Key: "kubernetes.io/cluster/other", Value: "owned" },
      { Key: "kubernetes.io/service-name", Value: "default/taken" },
    ];
    const foreign = await clients.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: name,
        Type: "network",
        Subnets: network.subnets.map((s) => s.subnetId),
        Tags: foreignTags,
      }),
    );
    const foreignArn = foreign.LoadBalancers?.[0]?.LoadBalancerArn ?? "";
    recorder.reset();

    const error = await provider.ensureLoadBalancer(service).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).resource).toBe(name);
    expect((error as Error).message).toMatch(/not tagged as this Service's/);
    expect(recorder.mutatingOperations()).toEqual([]);
    expect(await provider.getLoadBalancer(refOf(service))).toBeUndefined();
    await provider.ensureLoadBalancerDeleted(refOf(service));
    expect(recorder.mutatingOperations()).toEqual([]);
    const after = await required(service);
    expect(after.loadBalancer.LoadBalancerArn).toBe(foreignArn);
    expect(after.listeners).toEqual([]);
    expect(after.tags).toEqual(Object.fromEntries(foreignTags.map((t) => [t.Key, t.Value])));
  });

  it("reports a pre-existing target group with a name it needs but not its tags as a conflict", async () => {
    const service = spec("tg-taken");
    // Learn the target group name the provider uses, then hand it to someone else.
    await provider.ensureLoadBalancer(service);
    const tg = (await required(service)).targetGroups.get(80);
    await provider.ensureLoadBalancerDeleted(refOf(service));
    await clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: tg?.TargetGroupName,
        Protocol: "TCP",
        Port: 30008,
        VpcId: network.vpcId,
        Tags: [{ Key: "owner", Value: "someone-else" }],
      }),
    );
    recorder.reset();
    const error = await provider.ensureLoadBalancer(service).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).resource).toBe(tg?.TargetGroupName);
    // Names are checked while observing, before the plan runs: nothing at all was created.
    expect(recorder.mutatingOperations()).toEqual([]);
  });
});

describe("drift repair", () => {
  it("recreates a listener deleted out of band, and nothing else", async () => {
    const service = spec("listener-drift");
    await provider.ensureLoadBalancer(service);
    const [listenerInAws] = (await required(service)).listeners;
    await clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: listenerInAws?.ListenerArn }));
    recorder.reset();
    await provider.ensureLoadBalancer(service);
    expect(recorder.mutatingOperations()).toEqual(["CreateListener"]);
    expect((await required(service)).listeners.map((l) => l.Port)).toEqual([80]);
  });

  it("recreates a target group deleted out of band (with its listener)", async () => {
    const service = spec("tg-drift");
    await provider.ensureLoadBalancer(service);
    const nlb = await required(service);
    await clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: nlb.listeners[0]?.ListenerArn }));
    await clients.elbv2.send(
      new DeleteTargetGroupCommand({ TargetGroupArn: nlb.targetGroups.get(80)?.TargetGroupArn }),
    );
    recorder.reset();
    await provider.ensureLoadBalancer(service);
    expect(recorder.mutatingOperations()).toEqual(["CreateTargetGroup", "RegisterTargets", "CreateListener"]);
    expect((await required(service)).targets.get(80)).toEqual(instanceIds(3));
  });

  it("restores a security group rule revoked out of band", async () => {
    const service = spec("sg-drift", { sourceRanges: ["203.0.113.0/24"] });
    await provider.ensureLoadBalancer(service);
    const groupId = (await required(service)).loadBalancer.SecurityGroups?.[0];
    await clients.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "203.0.113.0/24" }] }],
      }),
    );
    recorder.reset();
    await provider.ensureLoadBalancer(service);
    expect(recorder.mutatingOperations()).toEqual(["AuthorizeSecurityGroupIngress"]);
    expect((await required(service)).securityGroupRules).toEqual(["tcp/80/203.0.113.0/24"]);
  });
});

describe("more of what the NLB can be", () => {
  it("serves TCP and UDP on one port through one TCP_UDP listener and target group", async () => {
    const dns = spec("dns", {
      listeners: [listener(53, 30053, "TCP", "dns-tcp"), listener(53, 30053, "UDP", "dns-udp")],
    });
    await provider.ensureLoadBalancer(dns);
    const nlb = await required(dns);
    expect(nlb.listeners.map((l) => [l.Port, l.Protocol])).toEqual([[53, "TCP_UDP"]]);
    expect(nlb.targetGroups.get(53)).toMatchObject({ Protocol: "TCP_UDP", Port: 30053 });
    expect(nlb.securityGroupRules).toEqual(["tcp/53/0.0.0.0/0", "udp/53/0.0.0.0/0"]);
  });

  it("uses ip targets (InternalIP) in the annotated subnets when nodes have no AWS providerID", async () => {
    const bare = nodes.slice(0, 3).map(({ providerID: _none, ...node }) => node);
    const service = spec("ip-targets", {
      nodes: bare,
      annotations: { "service.beta.kubernetes.io/aws-load-balancer-subnets": network.subnets[0]?.subnetId ?? "" },
    });
    await provider.ensureLoadBalancer(service);
    const nlb = await required(service);
    expect(nlb.targetGroups.get(80)?.TargetType).toBe("ip");
    expect(nlb.targets.get(80)).toEqual(
      network.instances
        .slice(0, 3)
        .map((i) => i.privateIp)
        .sort(),
    );
    expect((nlb.loadBalancer.AvailabilityZones ?? []).map((z) => z.SubnetId)).toEqual([network.subnets[0]?.subnetId]);
  });

  it("terminates TLS with the ssl-cert annotation on the ssl-ports only", async () => {
    const certificateArn = await requestCertificate(endpoint);
    const tls = spec("tls", {
      listeners: [SEED_LISTENER, listener(443, 30443, "TCP", "https")],
      annotations: {
        "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": certificateArn,
        "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "https",
      },
    });
    await provider.ensureLoadBalancer(tls);
    const nlb = await required(tls);
    expect(nlb.listeners.map((l) => [l.Port, l.Protocol, l.Certificates?.[0]?.CertificateArn]).sort()).toEqual([
      [443, "TLS", certificateArn],
      [80, "TCP", undefined],
    ]);
    recorder.reset();
    await provider.ensureLoadBalancer(tls);
    expect(recorder.mutatingOperations()).toEqual([]);
  });

  it("adds the additional resource tags and keeps cross-zone load balancing as annotated", async () => {
    const tagged = spec("tagged", {
      annotations: {
        "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags": "team=web,cost-center=42",
        "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
      },
    });
    await provider.ensureLoadBalancer(tagged);
    expect((await required(tagged)).tags).toMatchObject({ team: "web", "cost-center": "42" });
    recorder.reset();
    await provider.ensureLoadBalancer(tagged);
    expect(recorder.mutatingOperations()).toEqual([]);
  });
});

describe("deletion", () => {
  it("deletes the load balancer (its listeners with it), target groups, then the security group, and leaves nothing owned", async () => {
    const service = spec("doomed", { listeners: [SEED_LISTENER, listener(443, 30443)] });
    await provider.ensureLoadBalancer(service);
    recorder.reset();
    await provider.ensureLoadBalancerDeleted(refOf(service));
    expect(recorder.mutatingOperations()).toEqual([
      "DeleteLoadBalancer",
      "DeleteTargetGroup",
      "DeleteTargetGroup",
      "DeleteSecurityGroup",
    ]);
    expect(await nlbInAws(service)).toBeUndefined();
    expect(await ownedTargetGroups("default/doomed")).toEqual([]);
    const groups = await clients.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          {
            Name: "group-name",
            Values: [securityGroupName({ clusterName: CLUSTER, namespace: NAMESPACE, name: "doomed" })],
          },
        ],
      }),
    );
    expect(groups.SecurityGroups).toEqual([]);
    recorder.reset();
    await provider.ensureLoadBalancerDeleted(refOf(service));
    expect(recorder.mutatingOperations()).toEqual([]);
  });

  it("finishes a delete that stopped after the load balancer was gone", async () => {
    const service = spec("half-deleted");
    await provider.ensureLoadBalancer(service);
    const nlb = await required(service);
    // What an interrupted delete leaves: no load balancer, an orphaned target group and security group.
    await clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: nlb.listeners[0]?.ListenerArn }));
    await clients.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: nlb.loadBalancer.LoadBalancerArn }));
    expect(await ownedTargetGroups("default/half-deleted")).toHaveLength(1);
    await provider.ensureLoadBalancerDeleted(refOf(service));
    expect(await ownedTargetGroups("default/half-deleted")).toEqual([]);
  });

  it("cleans up after an ensure aborted midway", async () => {
    const service = spec("aborted");
    const controller = new AbortController();
    const reason = new Error("stop");
    const aborting = await awsProviderOn(endpoint, clients, {
      clusterName: CLUSTER,
      onCall: (call) => {
        if (call.operation === "CreateLoadBalancer") controller.abort(reason);
      },
    });
    await expect(aborting.ensureLoadBalancer(service, { signal: controller.signal })).rejects.toBe(reason);
    expect(await nlbInAws(service)).toBeDefined();
    await provider.ensureLoadBalancerDeleted(refOf(service));
    expect(await nlbInAws(service)).toBeUndefined();
  });
});

/** Target groups in AWS tagged as the given Service's (in this cluster). */
async function ownedTargetGroups(serviceName: string): Promise<string[]> {
  const all = (await clients.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  const owned: string[] = [];
  for (const tg of all) {
    const tags = (await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [tg.TargetGroupArn ?? ""] })))
      .TagDescriptions?.[0]?.Tags;
    const byKey = Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));
    if (byKey["kubernetes.io/cluster/prod"] === "owned" && byKey["kubernetes.io/service-name"] === serviceName)
      owned.push(tg.TargetGroupName ?? "");
  }
  return owned;
}
