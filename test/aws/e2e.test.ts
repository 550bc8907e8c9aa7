/**
 * End to end, as it runs in production: `lb-provisioner run --provider aws` as child processes against
 * a real kube-apiserver and the AWS endpoint (moto, or LocalStack via AWS_ENDPOINT_URL).
 *
 * In order: the seed scenario (three instance-backed Nodes, the NodePort Service switched to
 * LoadBalancer) converges — NLB, target group on 30008 with the three instances, listener on 80,
 * status hostname = the NLB's DNS name, events, finalizer, metrics; a fourth node is registered; a
 * controller SIGKILLed in the middle of provisioning and restarted converges to exactly one load
 * balancer and no stray target groups (a proxy in front of the endpoint kills it at CreateListener); with two replicas, killing the leader hands over to the
 * standby; deleting the Services leaves nothing owned behind; SIGTERM exits 0 within the grace period.
 * No output of any process contains the bearer token or the AWS secret key it was given.
 */
import { randomBytes } from "node:crypto";
import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type LoadBalancer,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodes,
  SEED_NODE_PORT,
  SEED_SERVICE_PORT,
  type SeededAwsNetwork,
  seedAwsNetwork,
  seedNodes,
  seedService,
  waitFor,
  withAwsEndpoint,
  withControlPlane,
} from "../harness/index.ts";
import {
  type ControllerProcess,
  parseMetrics,
  quickLeaderElectionFlags,
  startController,
  sumMetric,
} from "../integration/cli-process.ts";
import { awsProviderFlags } from "./aws-controller.ts";
import { tagsOf } from "./cloud-audit.ts";
import { type InterruptingProxy, startInterruptingProxy } from "./e2e-interrupting-proxy.ts";

const CLUSTER = "e2e";
const CLUSTER_TAG = `kubernetes.io/cluster/${CLUSTER}`;
const SERVICE_TAG = "kubernetes.io/service-name";
const FINALIZER = "service.kubernetes.io/load-balancer-cleanup";
// The Deployment's terminationGracePeriodSeconds.
const TERMINATION_GRACE_MS = 30_000;
// moto accepts any key pair; a random secret lets the test prove it is never printed.
const AWS_ACCESS_KEY_ID = "AKIAE2ETESTKEY";
const AWS_SECRET = `e2e-secret-${randomBytes(16).toString("hex")}`;

interface OwnedResources {
  readonly loadBalancers: (LoadBalancer & { service: string })[];
  readonly targetGroups: (TargetGroup & { service: string })[];
}

const becameLeader = (line: { msg?: string }): boolean => line.msg === "became the leader";

describe("lb-provisioner run --provider aws, end to end", () => {
  const controlPlane = withControlPlane();
  const aws = withAwsEndpoint();
  let core: CoreV1Api;
  let ec2: EC2Client;
  let elbv2: ElasticLoadBalancingV2Client;
  let network: SeededAwsNetwork;
  let proxy: InterruptingProxy;
  const controllers: ControllerProcess[] = [];

  function start(name: string): Promise<ControllerProcess> {
    return startController({
      name,
      args: [...awsProviderFlags(controlPlane, aws, CLUSTER, proxy.endpoint), ...quickLeaderElectionFlags("default")],
      env: { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: AWS_SECRET },
    }).then((controller) => {
      controllers.push(controller);
      return controller;
    });
  }

  /** Every ELBv2 resource tagged as this cluster's, with the Service its tags name. */
  async function owned(): Promise<OwnedResources> {
    const loadBalancers = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const targetGroups = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    const tags = await tagsOf(elbv2, [
      ...loadBalancers.map((lb) => lb.LoadBalancerArn ?? ""),
      ...targetGroups.map((tg) => tg.TargetGroupArn ?? ""),
    ]);
    const ours = (arn: string | undefined) => {
      const list = tags.get(arn ?? "") ?? [];
      if (!list.some((tag) => tag.Key === CLUSTER_TAG && tag.Value === "owned")) return undefined;
      return list.find((tag) => tag.Key === SERVICE_TAG)?.Value ?? "";
    };
    return {
      loadBalancers: loadBalancers.flatMap((lb) => {
        const service = ours(lb.LoadBalancerArn);
        return service === undefined ? [] : [{ ...lb, service }];
      }),
      targetGroups: targetGroups.flatMap((tg) => {
        const service = ours(tg.TargetGroupArn);
        return service === undefined ? [] : [{ ...tg, service }];
      }),
    };
  }

  /** Security groups made for a Service of this cluster (the seed's node group has no Service tag). */
  async function ownedSecurityGroups(): Promise<string[]> {
    const found = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: `tag:${CLUSTER_TAG}`, Values: ["owned"] },
          { Name: "tag-key", Values: [SERVICE_TAG] },
        ],
      }),
    );
    return (found.SecurityGroups ?? []).map((group) => group.GroupId ?? "");
  }

  async function targetsOf(targetGroupArn: string): Promise<{ id: string; port: number }[]> {
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    return (health.TargetHealthDescriptions ?? [])
      .map((description) => ({ id: description.Target?.Id ?? "", port: description.Target?.Port ?? 0 }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async function hostnameOf(name: string): Promise<string> {
    return waitFor(
      async () => {
        const service: V1Service = await core.readNamespacedService({ namespace: "default", name });
        return service.status?.loadBalancer?.ingress?.[0]?.hostname;
      },
      { description: `default/${name} to get a hostname`, timeoutMs: 120_000, intervalMs: 250 },
    );
  }

  async function leaderOf(candidates: readonly ControllerProcess[]): Promise<ControllerProcess> {
    return waitFor(() => candidates.find((candidate) => candidate.logs().some(becameLeader)), {
      description: "a replica to become the leader",
      timeoutMs: 60_000,
    });
  }

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    const config = { endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials };
    ec2 = new EC2Client(config);
    elbv2 = new ElasticLoadBalancingV2Client(config);
    network = await seedAwsNetwork(ec2, { clusterName: CLUSTER });
    proxy = await startInterruptingProxy(aws.endpoint);
    await createNodes(core, seedNodes(network.instances));
  });

  afterAll(async () => {
    await Promise.all(controllers.map((controller) => controller.process.stop(5_000)));
    await proxy?.close();
    ec2?.destroy();
    elbv2?.destroy();
  });

  it("provisions the seed scenario: NLB, target group on 30008 with the three instances, listener on 80", async () => {
    const controller = await start("e2e-first");
    await controller.waitForLog(becameLeader, "leadership");
    await core.createNamespacedService({ namespace: "default", body: seedService() });
    await core.patchNamespacedService(
      { namespace: "default", name: "myapp-service", body: { spec: { type: "LoadBalancer" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const hostname = await hostnameOf("myapp-service");

    const cloud = await owned();
    expect(cloud.loadBalancers).toHaveLength(1);
    const [nlb] = cloud.loadBalancers as [LoadBalancer & { service: string }];
    expect(nlb).toMatchObject({ Type: "network", DNSName: hostname, service: "default/myapp-service" });
    expect(cloud.targetGroups).toHaveLength(1);
    const [group] = cloud.targetGroups as [TargetGroup & { service: string }];
    expect(group).toMatchObject({ Port: SEED_NODE_PORT, Protocol: "TCP", TargetType: "instance" });
    expect(await targetsOf(group.TargetGroupArn ?? "")).toEqual(
      network.instances
        .map((instance) => ({ id: instance.instanceId, port: SEED_NODE_PORT }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
    const listeners = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: nlb.LoadBalancerArn })))
      .Listeners;
    expect(listeners).toHaveLength(1);
    expect(listeners?.[0]).toMatchObject({ Port: SEED_SERVICE_PORT, Protocol: "TCP" });
    expect(listeners?.[0]?.DefaultActions?.[0]).toMatchObject({
      Type: "forward",
      TargetGroupArn: group.TargetGroupArn,
    });

    const service = await core.readNamespacedService({ namespace: "default", name: "myapp-service" });
    expect(service.metadata?.finalizers).toContain(FINALIZER);
    const reasons = await waitFor(
      async () => {
        const events = (await core.listNamespacedEvent({ namespace: "default" })).items.filter(
          (event) => event.involvedObject.name === "myapp-service",
        );
        const found = events.map((event) => event.reason);
        return found.includes("EnsuredLoadBalancer") ? found : undefined;
      },
      { description: "an EnsuredLoadBalancer event" },
    );
    expect(reasons).toContain("EnsuringLoadBalancer");

    const metrics = parseMetrics(await (await fetch(`${await controller.endpoint("/metrics")}/metrics`)).text());
    expect(sumMetric(metrics, "lbp_provider_calls_total", ['provider="aws"', 'mutating="true"'])).toBeGreaterThan(0);
    expect(
      sumMetric(metrics, "lbp_provider_calls_total", ['operation="CreateLoadBalancer"', 'outcome="success"']),
    ).toBeGreaterThan(0);
    expect(sumMetric(metrics, "lbp_reconcile_total", ['result="success"'])).toBeGreaterThan(0);
    expect(sumMetric(metrics, "lbp_managed_load_balancers")).toBe(1);
    expect(sumMetric(metrics, "lbp_leader")).toBe(1);
  });

  it("registers a node added to the cluster", async () => {
    const [home] = network.subnets;
    const seeded = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [network.instances[0]?.instanceId ?? ""] }),
    );
    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: seeded.Reservations?.[0]?.Instances?.[0]?.ImageId,
        InstanceType: "t3.medium",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: home?.subnetId,
        SecurityGroupIds: [network.securityGroupId],
      }),
    );
    const instance = launched.Instances?.[0];
    const instanceId = instance?.InstanceId ?? "";
    await createNodes(
      core,
      seedNodes([
        {
          nodeName: "node-4",
          privateIp: instance?.PrivateIpAddress ?? "192.168.1.5",
          zone: home?.zone ?? `${aws.region}a`,
          providerID: `aws:///${home?.zone}/${instanceId}`,
        },
      ]),
    );
    const [group] = (await owned()).targetGroups;
    await waitFor(
      async () => (await targetsOf(group?.TargetGroupArn ?? "")).some((target) => target.id === instanceId),
      { description: "the new node's instance to be registered", timeoutMs: 60_000 },
    );
    expect(await targetsOf(group?.TargetGroupArn ?? "")).toHaveLength(4);
  });

  it("converges to exactly one load balancer after a SIGKILL in the middle of provisioning", async () => {
    const [running] = controllers.filter((controller) => !controller.process.exit);
    if (!running) throw new Error("no controller is running");
    // Die at the last step, CreateListener: the load balancer and its target group exist, nothing uses them.
    proxy.arm(
      (body) => body.includes("Action=CreateListener"),
      () => process.kill(running.pid, "SIGKILL"),
    );
    await core.createNamespacedService({
      namespace: "default",
      body: seedService({ name: "crash-mid-provisioning", type: "LoadBalancer", nodePort: null }),
    });
    await proxy.interrupted();
    expect(await running.process.exited).toEqual({ code: null, signal: "SIGKILL" });

    const SERVICE = "default/crash-mid-provisioning";
    const left = await owned();
    const leftBalancers = left.loadBalancers.filter((lb) => lb.service === SERVICE);
    const leftGroups = left.targetGroups.filter((tg) => tg.service === SERVICE);
    expect(leftBalancers).toHaveLength(1);
    expect(leftGroups).toHaveLength(1);
    const halfDone = await elbv2.send(
      new DescribeListenersCommand({ LoadBalancerArn: leftBalancers[0]?.LoadBalancerArn }),
    );
    expect(halfDone.Listeners ?? []).toEqual([]);

    const restarted = await start("e2e-restarted");
    await restarted.waitForLog(becameLeader, "leadership after the restart", 60_000);
    const hostname = await hostnameOf("crash-mid-provisioning");
    const cloud = await owned();
    const balancers = cloud.loadBalancers.filter((lb) => lb.service === SERVICE);
    const groups = cloud.targetGroups.filter((tg) => tg.service === SERVICE);
    // The half-built resources were adopted, not duplicated.
    expect(balancers.map((lb) => [lb.LoadBalancerArn, lb.DNSName])).toEqual([
      [leftBalancers[0]?.LoadBalancerArn, hostname],
    ]);
    expect(groups.map((tg) => tg.TargetGroupArn)).toEqual([leftGroups[0]?.TargetGroupArn]);
    const listeners = await elbv2.send(
      new DescribeListenersCommand({ LoadBalancerArn: balancers[0]?.LoadBalancerArn }),
    );
    expect(listeners.Listeners?.map((listener) => listener.DefaultActions?.[0]?.TargetGroupArn)).toEqual([
      groups[0]?.TargetGroupArn,
    ]);
    // No stray target groups anywhere: every owned target group is the forward target of a listener.
    const forwarded = new Set<string>();
    for (const lb of cloud.loadBalancers) {
      const found = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      for (const listener of found.Listeners ?? []) {
        for (const action of listener.DefaultActions ?? []) forwarded.add(action.TargetGroupArn ?? "");
      }
    }
    expect(cloud.targetGroups.map((tg) => tg.TargetGroupArn).sort()).toEqual([...forwarded].sort());
    expect(cloud.loadBalancers).toHaveLength(2);
  });

  it("hands over to the standby when the leader is killed", async () => {
    const leader = controllers.find((controller) => !controller.process.exit);
    if (!leader) throw new Error("no controller is running");
    const standby = await start("e2e-standby");
    const ready = await fetch(`${await standby.endpoint("/readyz")}/readyz`);
    expect((await ready.text()).trim()).toBe("ok: standby");
    expect(await leaderOf([leader, standby])).toBe(leader);

    process.kill(leader.pid, "SIGKILL");
    await leader.process.exited;
    await standby.waitForLog(becameLeader, "leadership after the leader was killed", 60_000);

    // The new leader does the work: a change made after the handover converges.
    await core.createNamespacedService({
      namespace: "default",
      body: seedService({ name: "after-handover", type: "LoadBalancer", nodePort: null }),
    });
    await hostnameOf("after-handover");
  });

  it("deletes everything it owns when the Services are deleted", async () => {
    // The load balancers' security groups exist now, so "none left" below is not vacuous.
    expect((await ownedSecurityGroups()).length).toBeGreaterThan(0);
    for (const name of ["myapp-service", "crash-mid-provisioning", "after-handover"]) {
      await core.deleteNamespacedService({ namespace: "default", name });
    }
    await waitFor(async () => (await core.listNamespacedService({ namespace: "default" })).items.length === 1, {
      description: "the Services to be gone (finalizers removed)",
      timeoutMs: 120_000,
    });
    expect((await core.listNamespacedService({ namespace: "default" })).items.map((s) => s.metadata?.name)).toEqual([
      "kubernetes",
    ]);
    expect(await owned()).toEqual({ loadBalancers: [], targetGroups: [] });
    expect(await ownedSecurityGroups()).toEqual([]);
  });

  it("exits 0 on SIGTERM within the grace period, and printed no credential", async () => {
    const leader = controllers.find((controller) => !controller.process.exit);
    if (!leader) throw new Error("no controller is running");
    process.kill(leader.pid, "SIGTERM");
    const exit = await waitFor(() => leader.process.exit, {
      description: "the leader to exit after SIGTERM",
      timeoutMs: TERMINATION_GRACE_MS,
    });
    expect(exit).toEqual({ code: 0, signal: null });

    const token = controlPlane.kubeConfig().getCurrentUser()?.token ?? "";
    expect(token.length).toBeGreaterThan(16);
    for (const controller of controllers) {
      // Provider lines about a Service carry the same key as the controller's lines for it.
      const aboutAService = controller.logs().filter((line) => typeof line.service === "string");
      expect(aboutAService.length).toBeGreaterThan(0);
      for (const line of aboutAService) expect(line.key, line.raw).toBe(line.service);
      const output = controller.output();
      expect(output).toContain("starting lb-provisioner");
      expect(output).not.toContain(token);
      expect(output).not.toContain(AWS_SECRET);
    }
  });
});
