/**
 * Switching a Service from the legacy AWS cloud provider to `lb-provisioner run --provider aws`, as an
 * operator does it: the Service exists with the NLB the legacy provider built for it (made here with
 * the SDK, `legacy-nlb.ts`) and the hostname it published; then lb-provisioner starts, is SIGKILLed
 * once it has adopted the NLB, and starts again. Its status never names another address, the NLB is the
 * same, no second one appears, and the legacy target group is gone, replaced by one of this provider's;
 * deleting the Service then deletes the adopted NLB.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
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
  quickLeaderElectionFlags,
  runCommand,
  startController,
} from "../integration/cli-process.ts";
import { awsCredentialsEnv, awsProviderFlags } from "./aws-controller.ts";
import { tagsOf } from "./cloud-audit.ts";
import { buildLegacyNlb, type LegacyNlb } from "./legacy-nlb.ts";

const CLUSTER = "adopt";
const NAME = "legacy-app";

describe("lb-provisioner run --provider aws takes over the legacy cloud provider's NLB", () => {
  const controlPlane = withControlPlane();
  const aws = withAwsEndpoint();
  let core: CoreV1Api;
  let ec2: EC2Client;
  let elbv2: ElasticLoadBalancingV2Client;
  let network: SeededAwsNetwork;
  const controllers: ControllerProcess[] = [];

  async function start(name: string): Promise<ControllerProcess> {
    const controller = await startController({
      name,
      args: [...awsProviderFlags(controlPlane, aws, CLUSTER), ...quickLeaderElectionFlags("default")],
      env: awsCredentialsEnv(aws),
    });
    controllers.push(controller);
    return controller;
  }

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    const config = { endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials };
    ec2 = new EC2Client(config);
    elbv2 = new ElasticLoadBalancingV2Client(config);
    network = await seedAwsNetwork(ec2, { clusterName: CLUSTER });
    await createNodes(core, seedNodes(network.instances));
  });

  afterAll(async () => {
    await Promise.all(controllers.map((controller) => controller.process.stop(5_000)));
    ec2?.destroy();
    elbv2?.destroy();
  });

  /** The Service as the legacy provider left it: its NLB, and that NLB's hostname in the status. */
  async function legacyService(): Promise<LegacyNlb> {
    const created = await core.createNamespacedService({
      namespace: "default",
      body: seedService({ name: NAME, type: "LoadBalancer" }),
    });
    const uid = created.metadata?.uid ?? "";
    const legacy = await buildLegacyNlb(
      { elbv2, ec2 },
      network,
      {
        clusterName: CLUSTER,
        service: { namespace: "default", name: NAME, uid },
        listeners: [{ name: "", port: SEED_SERVICE_PORT, protocol: "TCP", nodePort: SEED_NODE_PORT }],
      },
      { instanceIds: network.instances.map((i) => i.instanceId) },
    );
    await core.patchNamespacedServiceStatus(
      {
        namespace: "default",
        name: NAME,
        body: { status: { loadBalancer: { ingress: [{ hostname: legacy.dnsName }] } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    return legacy;
  }

  /** The target group the NLB's one listener forwards to. */
  async function forwardedTo(arn: string): Promise<string | undefined> {
    const listeners = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: arn }))).Listeners ?? [];
    return listeners[0]?.DefaultActions?.[0]?.TargetGroupArn;
  }

  it("keeps the DNS name in status through an adoption interrupted by a SIGKILL, leaves one NLB, deletes it with the Service", async () => {
    const legacy = await legacyService();
    const legacyGroup = legacy.targetGroupArns.get(SEED_SERVICE_PORT) ?? "";

    // Every hostname the Service publishes while it is switched over.
    const published = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const service = await core.readNamespacedService({ namespace: "default", name: NAME });
        for (const entry of service.status?.loadBalancer?.ingress ?? [])
          published.add(entry.hostname ?? entry.ip ?? "");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    // Before the switch, plan says what will happen: an adoption, keeping the address.
    const planned = await runCommand(["plan", ...awsProviderFlags(controlPlane, aws, CLUSTER)], awsCredentialsEnv(aws));
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain(
      [
        `default/${NAME}: adopt load balancer`,
        `  > load-balancer default/${NAME}  built by the legacy AWS cloud provider -> kept at ${legacy.dnsName}`,
      ].join("\n"),
    );
    expect(planned.stdout).toContain("1 to adopt");

    const first = await start("adopt-first");
    await first.waitForLog(
      (line) => line.msg === "adopted the legacy cloud provider's load balancer",
      "the adoption",
      120_000,
    );
    process.kill(first.pid, "SIGKILL");
    expect(await first.process.exited).toEqual({ code: null, signal: "SIGKILL" });

    await start("adopt-restarted");
    const ours = await waitFor(
      async () => {
        const groupArn = await forwardedTo(legacy.arn);
        return groupArn !== undefined && groupArn !== legacyGroup ? groupArn : undefined;
      },
      { description: "the listener to forward to lb-provisioner's target group", timeoutMs: 120_000, intervalMs: 250 },
    );
    await waitFor(
      async () => {
        const found = await elbv2
          .send(new DescribeTargetGroupsCommand({ TargetGroupArns: [legacyGroup] }))
          .then((out) => out.TargetGroups ?? [])
          .catch((error: Error) => (error.name === "TargetGroupNotFoundException" ? [] : Promise.reject(error)));
        return found.length === 0 ? true : undefined;
      },
      { description: "the legacy target group to be deleted", timeoutMs: 60_000, intervalMs: 250 },
    );
    watching = false;
    await watcher;

    expect([...published]).toEqual([legacy.dnsName]);
    const [group] = (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [ours] }))).TargetGroups ?? [];
    expect(group).toMatchObject({ Port: SEED_NODE_PORT, Protocol: "TCP", TargetType: "instance" });
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: ours }));
    expect((health.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id).sort()).toEqual(
      network.instances.map((i) => i.instanceId).sort(),
    );

    // One NLB for the Service, the one the legacy provider built, now also tagged as lb-provisioner's.
    const balancers = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const tags = await tagsOf(
      elbv2,
      balancers.map((lb) => lb.LoadBalancerArn ?? ""),
    );
    const forService = balancers.filter((lb) =>
      (tags.get(lb.LoadBalancerArn ?? "") ?? []).some(
        (t) => t.Key === "kubernetes.io/service-name" && t.Value === `default/${NAME}`,
      ),
    );
    expect(forService.map((lb) => [lb.LoadBalancerArn, lb.DNSName])).toEqual([[legacy.arn, legacy.dnsName]]);
    expect(tags.get(legacy.arn)).toContainEqual({ Key: "lb-provisioner/service-uid", Value: expect.any(String) });

    // Adopted, it goes with the Service like any of lb-provisioner's: the NLB and its target group.
    await core.deleteNamespacedService({ namespace: "default", name: NAME });
    await waitFor(
      async () => {
        const left = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
        return left.some((lb) => lb.LoadBalancerArn === legacy.arn) ? undefined : true;
      },
      { description: "the adopted NLB to be deleted with its Service", timeoutMs: 60_000, intervalMs: 250 },
    );
    const groups = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    expect(groups.map((g) => g.TargetGroupArn)).not.toContain(ours);
  });
});
