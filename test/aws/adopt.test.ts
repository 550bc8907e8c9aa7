/**
 * Switching a Service from the legacy AWS cloud provider to lb-provisioner in place, against the test
 * endpoint with the real SDK: the legacy provider's NLB for the seed Service is first built exactly as
 * it builds it (`legacy-nlb.ts`), then the provider converges the Service the way the controller
 * drives it (ensure again after each retry-after). Assertions read AWS directly.
 */
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AwsProvider, newAwsProvider } from "../../providers/aws/index.ts";
import { loadBalancerName, securityGroupName } from "../../providers/aws/names.ts";
import { conformanceSpec, refOf } from "../../providers/conformance/index.ts";
import { ConflictError, RetryAfterError } from "../../providers/errors.ts";
import type { LoadBalancerRef, LoadBalancerSpec, LoadBalancerStatus, NodeSpec } from "../../providers/types.ts";
import { type SeededAwsNetwork, seedAwsNetwork, withAwsEndpoint } from "../harness/index.ts";
import { type AwsClients, awsClients, CallRecorder, nodesOf, silentLogger } from "./aws-provider-fixtures.ts";
import { buildLegacyNlb } from "./legacy-nlb.ts";

const CLUSTER = "prod";
const endpoint = withAwsEndpoint();
const recorder = new CallRecorder();
let clients: AwsClients;
let network: SeededAwsNetwork;
let nodes: NodeSpec[];
const providers: AwsProvider[] = [];
const created: LoadBalancerRef[] = [];

beforeAll(async () => {
  clients = awsClients(endpoint, recorder);
  network = await seedAwsNetwork(clients.ec2, { clusterName: CLUSTER, instances: 3 });
  nodes = nodesOf(network);
});

afterEach(async () => {
  const cleaner = await providerWith({});
  for (const ref of created.splice(0)) await cleaner.ensureLoadBalancerDeleted(ref);
});

afterAll(async () => {
  for (const provider of providers) await provider.close();
  clients?.elbv2.destroy();
  clients?.ec2.destroy();
});

/** A provider on the recorded clients, as `--provider-config` would set it up; a new one is a restart. */
async function providerWith(settings: Record<string, string>): Promise<AwsProvider> {
  const provider = await newAwsProvider(
    {
      clusterName: CLUSTER,
      logger: silentLogger,
      settings: { region: endpoint.region, endpoint: endpoint.endpoint, ...settings },
    },
    { elbv2: clients.elbv2, ec2: clients.ec2, releaseRetry: { retries: 3, minTimeoutMs: 100, maxTimeoutMs: 500 } },
  );
  providers.push(provider);
  return provider;
}

function spec(name: string): LoadBalancerSpec {
  const built = conformanceSpec({ clusterName: CLUSTER, namespace: "default", name, nodes });
  created.push(refOf(built));
  return built;
}

const instanceIds = () => network.instances.map((i) => i.instanceId).sort();

/** Ensures as the controller does: again after each retry-after, until it converges. */
async function converge(
  provider: AwsProvider,
  of: LoadBalancerSpec,
): Promise<{ status: LoadBalancerStatus; passes: number }> {
  for (let passes = 1; passes <= 5; passes++) {
    try {
      return { status: await provider.ensureLoadBalancer(of), passes };
    } catch (error) {
      if (!(error instanceof RetryAfterError)) throw error;
    }
  }
  throw new Error("no convergence after 5 passes");
}

/** Every network load balancer in the region tagged as `of`'s Service in this cluster. */
async function nlbsOf(of: LoadBalancerSpec) {
  const all = (await clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
  const arns = all.map((lb) => lb.LoadBalancerArn ?? "");
  const tagged =
    arns.length === 0
      ? []
      : ((await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: arns }))).TagDescriptions ?? []);
  const service = `${of.service.namespace}/${of.service.name}`;
  const mine = new Set(
    tagged
      .filter((d) => d.Tags?.some((t) => t.Key === "kubernetes.io/service-name" && t.Value === service))
      .map((d) => d.ResourceArn),
  );
  return all.filter((lb) => mine.has(lb.LoadBalancerArn));
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const described = await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  return Object.fromEntries((described.TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}

async function targetGroupExists(arn: string): Promise<boolean> {
  return clients.elbv2
    .send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))
    .then((out) => (out.TargetGroups ?? []).length > 0)
    .catch((error: Error) => (error.name === "TargetGroupNotFoundException" ? false : Promise.reject(error)));
}

async function nodeRuleDescriptions(): Promise<string[]> {
  const groups = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [network.securityGroupId] }));
  return (groups.SecurityGroups?.[0]?.IpPermissions ?? [])
    .flatMap((p) => (p.IpRanges ?? []).map((r) => r.Description ?? ""))
    .filter((d) => d.startsWith("kubernetes.io/rule/nlb/"))
    .sort();
}

describe("adopting the legacy cloud provider's NLB", () => {
  it("keeps its ARN and DNS name, repoints each listener to a new target group, deletes the legacy ones", async () => {
    const seed = spec("myapp");
    const legacy = await buildLegacyNlb(clients, network, seed, { instanceIds: instanceIds() });
    const rulesBefore = await nodeRuleDescriptions();
    const provider = await providerWith({});

    recorder.reset();
    const { status, passes } = await converge(provider, seed);

    expect(status).toEqual({ ingress: [{ hostname: legacy.dnsName }] });
    // One pass fills the new target group; the next, once its targets are healthy, repoints.
    expect(passes).toBe(2);
    const nlbs = await nlbsOf(seed);
    expect(nlbs.map((lb) => [lb.LoadBalancerArn, lb.DNSName])).toEqual([[legacy.arn, legacy.dnsName]]);
    expect(recorder.mutatingOperations()).not.toContain("CreateLoadBalancer");
    expect(recorder.mutatingOperations()).not.toContain("DeleteLoadBalancer");
    expect(recorder.mutatingOperations()).not.toContain("DeleteListener");

    // This provider's tags added; the legacy ones kept.
    expect(await tagsOf(legacy.arn)).toEqual({
      "kubernetes.io/cluster/prod": "owned",
      "kubernetes.io/service-name": "default/myapp",
      "lb-provisioner/service-uid": seed.service.uid,
    });

    // The same listener, repointed by ModifyListener to a target group of this provider's model.
    const listeners =
      (await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: legacy.arn }))).Listeners ?? [];
    expect(listeners.map((l) => [l.ListenerArn, l.Port, l.Protocol])).toEqual([
      [legacy.listenerArns.get(80), 80, "TCP"],
    ]);
    const groupArn = listeners[0]?.DefaultActions?.[0]?.TargetGroupArn ?? "";
    const [group] =
      (await clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [groupArn] }))).TargetGroups ?? [];
    expect(group?.TargetGroupName).toMatch(/^k8s-default-myapp-[0-9a-f]{10}$/);
    expect(group).toMatchObject({ Port: 30008, Protocol: "TCP", TargetType: "instance" });
    const health = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: groupArn }));
    expect((health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id).sort()).toEqual(instanceIds());
    expect(await targetGroupExists(legacy.targetGroupArns.get(80) ?? "")).toBe(false);

    // No gap: the new target group had its targets before the listener moved, and the legacy one was
    // deleted only after.
    const ops = recorder.mutating();
    const registered = ops.findIndex((c) => c.operation === "RegisterTargets" && c.input.TargetGroupArn === groupArn);
    const repointed = ops.findIndex((c) => c.operation === "ModifyListener");
    const deleted = ops.findIndex((c) => c.operation === "DeleteTargetGroup");
    expect(registered).toBeGreaterThanOrEqual(0);
    expect(repointed).toBeGreaterThan(registered);
    expect(deleted).toBeGreaterThan(repointed);

    // An NLB built without a security group cannot get one: none made, none attached; the rules the
    // legacy provider put on the nodes' group, which admit the clients, are left as they are.
    expect(nlbs[0]?.SecurityGroups ?? []).toEqual([]);
    expect(recorder.mutatingOperations()).not.toContain("CreateSecurityGroup");
    expect(await nodeRuleDescriptions()).toEqual(rulesBefore);

    // Converged: nothing more to do, and the name it was built with is how it is found from now on.
    recorder.reset();
    await provider.ensureLoadBalancer(seed);
    expect(recorder.mutatingOperations()).toEqual([]);
    const restarted = await providerWith({});
    expect(await restarted.ensureLoadBalancer(seed)).toEqual(status);
    expect(recorder.mutatingOperations()).toEqual([]);
    const observed = await restarted.getLoadBalancer(refOf(seed));
    expect(observed?.status).toEqual(status);
    expect(observed?.adoptFrom).toBeUndefined();
  });

  it("converges after a restart at any point: killed after the first pass, adopted with the setting off since", async () => {
    const seed = spec("killed");
    const legacy = await buildLegacyNlb(clients, network, seed, { instanceIds: instanceIds() });
    const first = await providerWith({});
    await expect(first.ensureLoadBalancer(seed)).rejects.toThrow(RetryAfterError);

    // The first pass tagged it: it is ours now, whatever the next process's setting says.
    const next = await providerWith({ adoptLegacy: "false" });
    const { status } = await converge(next, seed);
    expect(status).toEqual({ ingress: [{ hostname: legacy.dnsName }] });
    expect((await nlbsOf(seed)).map((lb) => lb.LoadBalancerArn)).toEqual([legacy.arn]);
    expect(await targetGroupExists(legacy.targetGroupArns.get(80) ?? "")).toBe(false);
  });

  it("gives an NLB built in the legacy managed security group mode its own group beside the legacy one", async () => {
    const seed = spec("managedsg");
    const legacy = await buildLegacyNlb(clients, network, seed, {
      instanceIds: instanceIds(),
      managedSecurityGroup: true,
    });
    const provider = await providerWith({});
    const { status } = await converge(provider, seed);
    expect(status).toEqual({ ingress: [{ hostname: legacy.dnsName }] });

    const ours = await clients.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          {
            Name: "group-name",
            Values: [securityGroupName({ clusterName: CLUSTER, namespace: "default", name: "managedsg" })],
          },
        ],
      }),
    );
    const ourGroup = ours.SecurityGroups?.[0]?.GroupId;
    expect(ourGroup).toBeDefined();
    const [nlb] = await nlbsOf(seed);
    expect(nlb?.LoadBalancerArn).toBe(legacy.arn);
    expect([...(nlb?.SecurityGroups ?? [])].sort()).toEqual([legacy.securityGroupId, ourGroup].sort());
  });

  it("shows the legacy NLB as one to adopt before it is adopted", async () => {
    const seed = spec("planned");
    const legacy = await buildLegacyNlb(clients, network, seed, { instanceIds: instanceIds() });
    const provider = await providerWith({});
    const observed = await provider.getLoadBalancer(refOf(seed));
    expect(observed?.adoptFrom).toBe("the legacy AWS cloud provider");
    expect(observed?.status).toEqual({ ingress: [{ hostname: legacy.dnsName }] });
    expect(observed?.listeners.map((l) => [l.port, l.targetPort])).toEqual([[80, 30008]]);
  });
});

describe("what is not adopted is a conflict, and untouched", () => {
  it("refuses an NLB with the Service's legacy name but another cluster's tag", async () => {
    const seed = spec("othercluster");
    const legacy = await buildLegacyNlb(clients, network, seed, { clusterTag: "dev", instanceIds: instanceIds() });
    const provider = await providerWith({});

    recorder.reset();
    const attempt = provider.ensureLoadBalancer(seed);
    await expect(attempt).rejects.toThrow(ConflictError);
    await expect(attempt).rejects.toThrow(/not tagged as this Service's in this cluster/);
    expect(recorder.mutatingOperations()).toEqual([]);
    expect(await tagsOf(legacy.arn)).toEqual({
      "kubernetes.io/cluster/dev": "owned",
      "kubernetes.io/service-name": "default/othercluster",
    });
    expect(await targetGroupExists(legacy.targetGroupArns.get(80) ?? "")).toBe(true);
    expect(await provider.getLoadBalancer(refOf(seed))).toBeUndefined();

    // Deleting the Service leaves it alone too.
    await provider.ensureLoadBalancerDeleted(refOf(seed));
    expect((await nlbsOf(seed)).map((lb) => lb.LoadBalancerArn)).toEqual([legacy.arn]);
    await clients.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [legacy.arn] }));
  });

  it("refuses this Service's legacy NLB when adoption is turned off, naming the setting", async () => {
    const seed = spec("settingoff");
    const legacy = await buildLegacyNlb(clients, network, seed, { instanceIds: instanceIds() });
    const provider = await providerWith({ adoptLegacy: "false" });

    recorder.reset();
    const attempt = provider.ensureLoadBalancer(seed);
    await expect(attempt).rejects.toThrow(ConflictError);
    await expect(attempt).rejects.toThrow(/adoptLegacy=false/);
    expect(recorder.mutatingOperations()).toEqual([]);
    expect(await tagsOf(legacy.arn)).not.toHaveProperty("lb-provisioner/service-uid");
    expect(await targetGroupExists(legacy.targetGroupArns.get(80) ?? "")).toBe(true);
    const ours = loadBalancerName({ clusterName: CLUSTER, namespace: "default", name: "settingoff" });
    expect((await nlbsOf(seed)).map((lb) => lb.LoadBalancerName)).not.toContain(ours);
    const groups = await clients.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          {
            Name: "group-name",
            Values: [securityGroupName({ clusterName: CLUSTER, namespace: "default", name: "settingoff" })],
          },
        ],
      }),
    );
    expect(groups.SecurityGroups ?? []).toEqual([]);

    // Deleting the Service leaves the legacy NLB and its target group (tagged as the Service's) alone,
    // and gc, which knows no uid, does not take that target group for something the Service left.
    await provider.ensureLoadBalancerDeleted(refOf(seed));
    expect((await nlbsOf(seed)).map((lb) => lb.LoadBalancerArn)).toEqual([legacy.arn]);
    expect(await targetGroupExists(legacy.targetGroupArns.get(80) ?? "")).toBe(true);
    const listed = await provider.listLoadBalancers(CLUSTER);
    expect(listed.filter((lb) => lb.ref.service.name === "settingoff")).toEqual([]);
  });
});
