/**
 * No orphans: the target groups and security group the AWS provider owns for a Service are found
 * whether a listener uses them or not — after a replacement that failed half-way (in this process, or
 * in one that died), or made out of band with our names and tags — and the next ensure removes them;
 * `getLoadBalancer` reports them as leftovers meanwhile, so `plan` shows their removal; `gc` lists and
 * removes what a deleted Service left without a load balancer. Finding them costs one listing of the
 * region's target groups per inventory, not one per reconcile. Against the test endpoint (moto by
 * default), with a real kube-apiserver for `gc`.
 */
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import {
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AwsProvider } from "../../providers/aws/index.ts";
import { loadBalancerName, namePrefix, securityGroupName } from "../../providers/aws/names.ts";
import { conformanceSpec, listener, refOf } from "../../providers/conformance/index.ts";
import type { LoadBalancerRef, LoadBalancerSpec, NodeSpec } from "../../providers/types.ts";
import { planService } from "../../src/plan/diff.ts";
import { renderGc, runGc } from "../../src/plan/gc.ts";
import { seedAwsNetwork, seedService, withAwsEndpoint, withControlPlane } from "../harness/index.ts";
import { type AwsClients, awsClients, awsProviderOn, CallRecorder, nodesOf } from "./aws-provider-fixtures.ts";
import { type InterruptingProxy, startInterruptingProxy } from "./e2e-interrupting-proxy.ts";

const CLUSTER = "leftovers";
const NAMESPACE = "default";
const endpoint = withAwsEndpoint();
const controlPlane = withControlPlane();
const recorder = new CallRecorder();
let clients: AwsClients;
let nodes: NodeSpec[];
let vpcId: string;
const providers: AwsProvider[] = [];
const created: LoadBalancerRef[] = [];

beforeAll(async () => {
  clients = awsClients(endpoint, recorder);
  const network = await seedAwsNetwork(clients.ec2, { clusterName: CLUSTER, instances: 3 });
  nodes = nodesOf(network);
  vpcId = network.vpcId;
});

afterEach(async () => {
  const cleaner = await provider();
  for (const ref of created.splice(0)) await cleaner.ensureLoadBalancerDeleted(ref);
});

afterAll(async () => {
  for (const p of providers.splice(0)) await p.close();
  clients?.elbv2.destroy();
  clients?.ec2.destroy();
});

/** A new provider, as a new process would have it: nothing learned yet. */
async function provider(via: AwsClients = clients): Promise<AwsProvider> {
  const p = await awsProviderOn(endpoint, via, { clusterName: CLUSTER });
  providers.push(p);
  return p;
}

function spec(name: string, nodePort = 30008): LoadBalancerSpec {
  const built = conformanceSpec({
    clusterName: CLUSTER,
    namespace: NAMESPACE,
    name,
    nodes,
    listeners: [listener(80, nodePort)],
  });
  created.push(refOf(built));
  return built;
}

/** Names of the target groups in AWS tagged as `name`'s, in this cluster. */
async function ownedTargetGroups(name: string): Promise<string[]> {
  const all = (await clients.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  if (all.length === 0) return [];
  const tags = new Map<string, Record<string, string>>();
  for (let i = 0; i < all.length; i += 20) {
    const batch = all.slice(i, i + 20).map((tg) => tg.TargetGroupArn ?? "");
    const described = await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: batch }));
    for (const d of described.TagDescriptions ?? [])
      tags.set(d.ResourceArn ?? "", Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])));
  }
  return all
    .filter((tg) => {
      const t = tags.get(tg.TargetGroupArn ?? "") ?? {};
      return (
        t[`kubernetes.io/cluster/${CLUSTER}`] === "owned" && t["kubernetes.io/service-name"] === `${NAMESPACE}/${name}`
      );
    })
    .map((tg) => tg.TargetGroupName ?? "")
    .sort();
}

async function securityGroupsNamed(name: string): Promise<string[]> {
  const groupName = securityGroupName({ clusterName: CLUSTER, namespace: NAMESPACE, name });
  const found = await clients.ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [groupName] }] }),
  );
  return (found.SecurityGroups ?? []).map((g) => g.GroupId ?? "");
}

/** The target group a listener of `name`'s load balancer forwards to. */
async function attachedTargetGroup(name: string): Promise<string> {
  const lbName = loadBalancerName({ clusterName: CLUSTER, namespace: NAMESPACE, name });
  const [lb] = (await clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [lbName] }))).LoadBalancers ?? [];
  const listeners = await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }));
  return listeners.Listeners?.[0]?.DefaultActions?.[0]?.TargetGroupArn ?? "";
}

/** The name in a target group ARN (`...:targetgroup/<name>/<id>`). */
function nameOf(arn: string): string {
  return arn.split("/").at(-2) ?? "";
}

/** Ensures `before`, then `after` through a proxy that drops the first DeleteTargetGroup: the old target group stays. */
async function failedReplacement(name: string): Promise<{ after: LoadBalancerSpec; detachedArn: string }> {
  let proxy: InterruptingProxy | undefined;
  try {
    proxy = await startInterruptingProxy(endpoint.endpoint);
    const through = await provider(awsClients({ ...endpoint, endpoint: proxy.endpoint }));
    const before = spec(name, 30008);
    await through.ensureLoadBalancer(before);
    const detachedArn = await attachedTargetGroup(name);
    proxy.arm(
      (body) => body.includes("Action=DeleteTargetGroup"),
      () => {},
    );
    const after = spec(name, 30009);
    await expect(through.ensureLoadBalancer(after)).rejects.toThrow();
    await proxy.interrupted();
    expect(await ownedTargetGroups(name), "the old target group is left, detached, next to the new one").toHaveLength(
      2,
    );
    return { after, detachedArn };
  } finally {
    await proxy?.close();
  }
}

describe("a target group that a failed replacement left detached", () => {
  it("is reported as a leftover, planned for removal, and removed by the next ensure", async () => {
    const { after, detachedArn } = await failedReplacement("replaced");
    const p = await provider();

    const observed = await p.getLoadBalancer(refOf(after), { nodes });
    expect(observed?.leftovers).toEqual([
      { kind: "target-group", id: detachedArn, targetPort: 30008, protocol: "TCP" },
    ]);
    const plan = planService({ service: `${NAMESPACE}/replaced`, desired: after, observed, publishedIngress: [] });
    expect(plan.changes).toContainEqual(
      expect.objectContaining({ action: "delete", subject: "leftover", name: `target-group ${detachedArn}` }),
    );

    recorder.reset();
    await p.ensureLoadBalancer(after);
    expect(recorder.mutatingOperations()).toEqual(["DeleteTargetGroup"]);
    expect(recorder.mutating()[0]?.input.TargetGroupArn).toBe(detachedArn);
    expect(await ownedTargetGroups("replaced")).toEqual([nameOf(await attachedTargetGroup("replaced"))]);
    expect((await p.getLoadBalancer(refOf(after)))?.leftovers).toBeUndefined();
  });

  it("is removed by the process that failed, on its next ensure", async () => {
    let proxy: InterruptingProxy | undefined;
    try {
      proxy = await startInterruptingProxy(endpoint.endpoint);
      const through = await provider(awsClients({ ...endpoint, endpoint: proxy.endpoint }));
      await through.ensureLoadBalancer(spec("same-process", 30008));
      proxy.arm(
        (body) => body.includes("Action=DeleteTargetGroup"),
        () => {},
      );
      const after = spec("same-process", 30009);
      await expect(through.ensureLoadBalancer(after)).rejects.toThrow();
      expect(await ownedTargetGroups("same-process")).toHaveLength(2);
      await through.ensureLoadBalancer(after);
      expect(await ownedTargetGroups("same-process")).toHaveLength(1);
    } finally {
      await proxy?.close();
    }
  });
});

describe("a target group made out of band with a Service's name prefix and tags", () => {
  it("is removed by the Service's next ensure; one with another Service's or cluster's tags is untouched", async () => {
    const service = spec("stale");
    await (await provider()).ensureLoadBalancer(service);
    const prefix = namePrefix({ namespace: NAMESPACE, name: "stale" });
    const make = (suffix: string, tags: Record<string, string>) =>
      clients.elbv2.send(
        new CreateTargetGroupCommand({
          Name: `${prefix}${suffix}`,
          Protocol: "TCP",
          Port: 31999,
          VpcId: vpcId,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    const ours = { [`kubernetes.io/cluster/${CLUSTER}`]: "owned", "kubernetes.io/service-name": `${NAMESPACE}/stale` };
    await make("a000000001", ours);
    const othersService = await make("a000000002", { ...ours, "kubernetes.io/service-name": `${NAMESPACE}/other` });
    const othersCluster = await make("a000000003", {
      "kubernetes.io/cluster/elsewhere": "owned",
      "kubernetes.io/service-name": `${NAMESPACE}/stale`,
    });
    expect(await ownedTargetGroups("stale")).toHaveLength(2);

    await (await provider()).ensureLoadBalancer(service);

    expect(await ownedTargetGroups("stale")).toEqual([nameOf(await attachedTargetGroup("stale"))]);
    const remaining = ((await clients.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).map(
      (tg) => tg.TargetGroupArn,
    );
    for (const untouched of [othersService, othersCluster]) {
      const arn = untouched.TargetGroups?.[0]?.TargetGroupArn;
      expect(remaining).toContain(arn);
      await clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
    }
  });

  it("is found with one listing of the region's target groups for many reconciles", async () => {
    const p = await provider();
    recorder.reset();
    for (const name of ["cheap-a", "cheap-b", "cheap-c"]) await p.ensureLoadBalancer(spec(name));
    await p.ensureLoadBalancer(spec("cheap-a"));
    const listings = recorder.calls.filter(
      (c) =>
        c.operation === "DescribeTargetGroups" &&
        c.input.TargetGroupArns === undefined &&
        c.input.Names === undefined &&
        c.input.LoadBalancerArn === undefined,
    );
    expect(listings).toHaveLength(1);
  });
});

describe("gc", () => {
  it("lists what a deleted Service left without a load balancer, keeps a live Service's, and removes it with --yes", async () => {
    const kubeConfig = controlPlane.kubeConfig();
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedService({
      namespace: NAMESPACE,
      body: seedService({ name: "live", type: "LoadBalancer", nodePort: null }),
    });
    const p = await provider();
    await p.ensureLoadBalancer(spec("live"));
    const gone = spec("gone");
    await p.ensureLoadBalancer(gone);
    // As an operator would in the console: the load balancer goes; its target group and security group stay.
    const lbName = loadBalancerName({ clusterName: CLUSTER, namespace: NAMESPACE, name: "gone" });
    const [lb] = (await clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [lbName] }))).LoadBalancers ?? [];
    const listeners = await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }));
    for (const l of listeners.Listeners ?? [])
      await clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: l.ListenerArn }));
    await clients.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb?.LoadBalancerArn }));
    const deps = { kubeConfig, provider: await provider(), clusterName: CLUSTER, selection: {} };

    const listed = await runGc(deps, { yes: false });
    expect(listed.orphans.map((o) => [o.loadBalancer.ref.service.name, o.reason])).toEqual([
      ["gone", "Service not found"],
    ]);
    const [orphan] = listed.orphans;
    expect(orphan?.loadBalancer.leftovers?.map((l) => l.kind).sort()).toEqual(["security-group", "target-group"]);
    expect(renderGc(listed, CLUSTER)).toContain(
      "the leftovers (target groups, security groups) of 1 Service; run again with --yes to delete.",
    );
    expect(await ownedTargetGroups("gone")).toHaveLength(1);

    await runGc(deps, { yes: true });
    expect(await ownedTargetGroups("gone")).toEqual([]);
    expect(await securityGroupsNamed("gone")).toEqual([]);
    expect(await ownedTargetGroups("live")).toHaveLength(1);
    expect((await runGc(deps, { yes: false })).orphans).toEqual([]);
  });
});
