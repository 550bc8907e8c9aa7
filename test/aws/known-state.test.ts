/**
 * Node changes and resyncs settled from what the AWS provider knows (`reason: "nodes"` / `"resync"`),
 * against the test endpoint (moto by default), counted by SDK middleware:
 *
 * - a resync of converged Services costs the inventory's listing calls and nothing per Service;
 * - what a listing shows changed behind the provider's back (load balancer deleted, a security group
 *   rule revoked) is repaired by the first resync after the inventory's age;
 * - what no listing shows (a target deregistered) is repaired once the Service's detail is due, and
 *   not before: the documented bound, checked from both sides;
 * - a node join costs one tag read and one RegisterTargets per target group; ownership is checked on
 *   tags read then, and a target group that stopped being the Service's is never changed.
 */
import { RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import {
  AddTagsCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AwsProvider } from "../../providers/aws/index.ts";
import { loadBalancerName } from "../../providers/aws/names.ts";
import { DETAIL_MAX_AGE_MS, RESYNC_INVENTORY_MAX_AGE_MS } from "../../providers/aws/provider.ts";
import { conformanceSpec, listener, refOf } from "../../providers/conformance/index.ts";
import { ConflictError } from "../../providers/errors.ts";
import type { LoadBalancerRef, LoadBalancerSpec, NodeSpec } from "../../providers/types.ts";
import { seedAwsNetwork, withAwsEndpoint } from "../harness/index.ts";
import {
  type AwsClients,
  awsClients,
  awsProviderOn,
  CallRecorder,
  nodesOf,
  steppingClock,
} from "./aws-provider-fixtures.ts";

const CLUSTER = "known";
const NAMESPACE = "default";
const endpoint = withAwsEndpoint();
const recorder = new CallRecorder();
let clients: AwsClients;
let nodes: NodeSpec[];
let clock: ReturnType<typeof steppingClock>;
let provider: AwsProvider;
const created: LoadBalancerRef[] = [];

beforeAll(async () => {
  clients = awsClients(endpoint, recorder);
  nodes = nodesOf(await seedAwsNetwork(clients.ec2, { clusterName: CLUSTER, instances: 4 }));
  clock = steppingClock();
  provider = await awsProviderOn(endpoint, clients, { clusterName: CLUSTER, clock });
});

afterEach(async () => {
  for (const ref of created.splice(0)) await provider.ensureLoadBalancerDeleted(ref);
});

afterAll(async () => {
  await provider?.close();
  clients?.elbv2.destroy();
  clients?.ec2.destroy();
});

function spec(name: string, nodeCount = 3, ports = [listener(80, 30008)]): LoadBalancerSpec {
  const built = conformanceSpec({
    clusterName: CLUSTER,
    namespace: NAMESPACE,
    name,
    nodes: nodes.slice(0, nodeCount),
    listeners: ports,
    sourceRanges: ["203.0.113.0/24"],
  });
  created.push(refOf(built));
  return built;
}

const resync = (s: LoadBalancerSpec) => provider.ensureLoadBalancer(s, { reason: "resync" });
/** Past the age a resync accepts of the inventory. */
const nextResync = () => clock.advance(RESYNC_INVENTORY_MAX_AGE_MS + 1);

async function loadBalancerArn(name: string): Promise<string> {
  const lbName = loadBalancerName({ clusterName: CLUSTER, namespace: NAMESPACE, name });
  const found = await clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [lbName] }));
  return found.LoadBalancers?.[0]?.LoadBalancerArn ?? "";
}

async function targetGroupOf(name: string): Promise<string> {
  const listeners = await clients.elbv2.send(
    new DescribeListenersCommand({ LoadBalancerArn: await loadBalancerArn(name) }),
  );
  return listeners.Listeners?.[0]?.DefaultActions?.[0]?.TargetGroupArn ?? "";
}

async function targetsOf(targetGroupArn: string): Promise<string[]> {
  const health = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (health.TargetHealthDescriptions ?? [])
    .filter((d) => d.TargetHealth?.State !== "draining")
    .map((d) => d.Target?.Id ?? "")
    .sort();
}

/** Calls that read one Service's resources rather than list the region's. */
function perServiceReads(): string[] {
  return recorder.calls
    .filter((c) => !c.mutating)
    .filter(
      (c) =>
        c.input.Names !== undefined ||
        c.input.LoadBalancerArn !== undefined ||
        c.input.TargetGroupArn !== undefined ||
        c.input.TargetGroupArns !== undefined ||
        (c.operation === "DescribeSecurityGroups" &&
          JSON.stringify(c.input.Filters ?? []).includes('"tag:kubernetes.io/service-name"')),
    )
    .map((c) => c.operation);
}

describe("a resync", () => {
  it("of converged Services costs the inventory's listings and nothing per Service", async () => {
    const services = ["quiet-a", "quiet-b", "quiet-c"].map((name) => spec(name));
    for (const s of services) await provider.ensureLoadBalancer(s);
    nextResync();
    recorder.reset();
    for (const s of services) await resync(s);
    expect(recorder.mutatingOperations()).toEqual([]);
    expect(perServiceReads()).toEqual([]);
    expect(recorder.calls.map((c) => c.operation).sort()).toEqual([
      "DescribeLoadBalancers",
      "DescribeSecurityGroups",
      "DescribeTargetGroups",
    ]);
  });

  it("repairs what a listing shows changed behind its back: a deleted load balancer, a revoked rule", async () => {
    const gone = spec("lb-gone");
    const revoked = spec("rule-revoked");
    await provider.ensureLoadBalancer(gone);
    await provider.ensureLoadBalancer(revoked);
    const lbArn = await loadBalancerArn("lb-gone");
    const listeners = await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
    for (const l of listeners.Listeners ?? [])
      await clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: l.ListenerArn }));
    await clients.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lbArn }));
    const revokedLb = await clients.elbv2.send(
      new DescribeLoadBalancersCommand({ LoadBalancerArns: [await loadBalancerArn("rule-revoked")] }),
    );
    await clients.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: revokedLb.LoadBalancers?.[0]?.SecurityGroups?.[0],
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "203.0.113.0/24" }] }],
      }),
    );

    nextResync();
    recorder.reset();
    await resync(gone);
    await resync(revoked);
    expect(recorder.mutatingOperations()).toEqual([
      "CreateLoadBalancer",
      "CreateListener",
      "AuthorizeSecurityGroupIngress",
    ]);
    expect(await targetsOf(await targetGroupOf("lb-gone"))).toHaveLength(3);
  });

  it("repairs a target deregistered behind its back once the Service's detail is due, and not before", async () => {
    const service = spec("target-gone");
    await provider.ensureLoadBalancer(service);
    const tg = await targetGroupOf("target-gone");
    const [first] = await targetsOf(tg);
    await clients.elbv2.send(
      new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: first, Port: 30008 }] }),
    );

    nextResync();
    recorder.reset();
    await resync(service);
    expect(recorder.mutatingOperations(), "within the detail bound a listing cannot show it").toEqual([]);

    clock.advance(DETAIL_MAX_AGE_MS);
    recorder.reset();
    await resync(service);
    expect(recorder.mutatingOperations()).toEqual(["RegisterTargets"]);
    expect(await targetsOf(tg)).toContain(first);
  });
});

describe("a node join", () => {
  const twoPorts = [listener(80, 30008), listener(443, 30443)];

  it("costs one tag read and one RegisterTargets per target group", async () => {
    await provider.ensureLoadBalancer(spec("joined", 3, twoPorts));
    recorder.reset();
    await provider.ensureLoadBalancer(spec("joined", 4, twoPorts), { reason: "nodes" });
    expect(recorder.calls.map((c) => c.operation)).toEqual(["DescribeTags", "RegisterTargets", "RegisterTargets"]);
    const joined = nodes[3]?.providerID?.split("/").at(-1);
    expect(await targetsOf(await targetGroupOf("joined"))).toContain(joined);
  });

  it("never changes a target group whose tags stopped saying it is the Service's", async () => {
    await provider.ensureLoadBalancer(spec("taken-over"));
    const tg = await targetGroupOf("taken-over");
    await clients.elbv2.send(
      new AddTagsCommand({
        ResourceArns: [tg],
        Tags: [{ Key: "kubernetes.io/service-name", Value: `${NAMESPACE}/someone-else` }],
      }),
    );
    recorder.reset();
    const error = await provider
      .ensureLoadBalancer(spec("taken-over", 4), { reason: "nodes" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(recorder.mutatingOperations()).toEqual([]);
    expect(await targetsOf(tg)).toHaveLength(3);
    await clients.elbv2.send(
      new AddTagsCommand({
        ResourceArns: [tg],
        Tags: [{ Key: "kubernetes.io/service-name", Value: `${NAMESPACE}/taken-over` }],
      }),
    );
  });
});
