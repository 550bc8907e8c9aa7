/**
 * Deletion protection, through `lb-provisioner run --provider aws` as a process against a real
 * kube-apiserver: `aws-load-balancer-attributes: deletion_protection.enabled=true` reaches AWS; deleting
 * that Service is refused with a Warning that says why and how to proceed, keeps the finalizer and every
 * resource, leaves other Services alone, shows in `status` and `gc`; once protection is switched off the
 * deletion completes.
 *
 * moto stores `deletion_protection.enabled` but deletes a protected load balancer anyway, where AWS
 * refuses with `OperationNotPermitted`. A proxy in front of moto gives AWS's answer: before passing a
 * `DeleteLoadBalancer` on, it reads the attribute from moto, and refuses as AWS does while it is on.
 */
import {
  DescribeLoadBalancerAttributesCommand,
  type ElasticLoadBalancingV2Client,
  ModifyLoadBalancerAttributesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api, type CoreV1Event, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsProvider } from "../../providers/aws/index.ts";
import { conformanceSpec, refOf } from "../../providers/conformance/index.ts";
import type { NodeSpec } from "../../providers/types.ts";
import { renderGc, runGc } from "../../src/plan/gc.ts";
import { renderStatusTable, runStatus } from "../../src/plan/service-status.ts";
import { type AwsProxy, startAwsProxy } from "../harness/aws-proxy.ts";
import {
  controllerWarningsOn,
  createNodes,
  seedAwsNetwork,
  seedNodes,
  waitFor,
  withAwsEndpoint,
  withControlPlane,
} from "../harness/index.ts";
import { type ControllerProcess, startController } from "../integration/cli-process.ts";
import { awsCredentialsEnv, awsProviderFlags } from "./aws-controller.ts";
import { type AwsClients, awsClients, awsProviderOn, nodesOf } from "./aws-provider-fixtures.ts";
import { auditCloud, resourcesOf } from "./cloud-audit.ts";
import { elbv2Error } from "./fault-proxy.ts";

const CLUSTER = "protected";
const NAMESPACE = "default";
const ATTRIBUTES = "service.beta.kubernetes.io/aws-load-balancer-attributes";
const FINALIZER = "service.kubernetes.io/load-balancer-cleanup";
const PROTECTION = "deletion_protection.enabled";

/** A proxy that refuses `DeleteLoadBalancer` of a protected load balancer, as AWS does. */
function startProtectingProxy(target: string, elbv2: ElasticLoadBalancingV2Client): Promise<AwsProxy> {
  return startAwsProxy(target, async (body) => {
    const form = new URLSearchParams(body);
    const arn = form.get("LoadBalancerArn");
    if (form.get("Action") !== "DeleteLoadBalancer" || arn === null) return "forward";
    if ((await protectionOf(elbv2, arn)) !== "true") return "forward";
    return {
      status: 400,
      body: elbv2Error(
        "OperationNotPermitted",
        `Load balancer '${arn}' cannot be deleted because deletion protection is enabled`,
      ),
    };
  });
}

async function protectionOf(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<string | undefined> {
  const out = await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }));
  return out.Attributes?.find((a) => a.Key === PROTECTION)?.Value;
}

async function switchProtectionOff(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<void> {
  await elbv2.send(
    new ModifyLoadBalancerAttributesCommand({
      LoadBalancerArn: arn,
      Attributes: [{ Key: PROTECTION, Value: "false" }],
    }),
  );
}

function service(name: string, annotations: Record<string, string> = {}): V1Service {
  return {
    metadata: { name, namespace: NAMESPACE, annotations },
    spec: { type: "LoadBalancer", selector: { app: name }, ports: [{ port: 80, protocol: "TCP" }] },
  };
}

describe("deletion protection through the controller (aws provider, moto behind an AWS-like proxy)", () => {
  const controlPlane = withControlPlane();
  const aws = withAwsEndpoint();
  let core: CoreV1Api;
  /** Straight to moto: what the test reads and what an operator changes. */
  let direct: AwsClients;
  /** Through the proxy: what `status` and `gc` use, as the controller does. */
  let proxied: AwsClients;
  let proxy: AwsProxy;
  let controller: ControllerProcess;
  let operatorProvider: AwsProvider;
  let nodes: NodeSpec[];

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    direct = awsClients(aws);
    const network = await seedAwsNetwork(direct.ec2, { clusterName: CLUSTER });
    nodes = nodesOf(network);
    await createNodes(core, seedNodes(network.instances));
    proxy = await startProtectingProxy(aws.endpoint, direct.elbv2);
    proxied = awsClients({ ...aws, endpoint: proxy.endpoint });
    operatorProvider = await awsProviderOn({ ...aws, endpoint: proxy.endpoint }, proxied, { clusterName: CLUSTER });
    controller = await startController({
      name: "deletion-protection",
      args: [...awsProviderFlags(controlPlane, aws, CLUSTER, proxy.endpoint), "--leader-elect=false"],
      env: awsCredentialsEnv(aws),
    });
    await controller.waitForLog((line) => line.msg === "caches synced; starting workers", "its caches synced");
  });

  afterAll(async () => {
    await controller?.process.stop(5_000);
    await operatorProvider?.close();
    await proxy?.close();
    for (const clients of [direct, proxied]) {
      clients?.elbv2.destroy();
      clients?.ec2.destroy();
    }
  });

  const hostnameOf = (name: string) =>
    waitFor(
      async () =>
        (await core.readNamespacedService({ namespace: NAMESPACE, name })).status?.loadBalancer?.ingress?.[0]?.hostname,
      { description: `${NAMESPACE}/${name} to get a hostname`, timeoutMs: 60_000, intervalMs: 250 },
    );
  const loadBalancerOf = async (name: string) =>
    resourcesOf(await auditCloud(direct.elbv2, direct.ec2, CLUSTER), `${NAMESPACE}/${name}`).loadBalancers[0];
  const gone = (name: string) =>
    waitFor(
      async () => {
        try {
          await core.readNamespacedService({ namespace: NAMESPACE, name });
          return false;
        } catch (error) {
          return (error as { code?: number }).code === 404;
        }
      },
      { description: `${NAMESPACE}/${name} to be deleted`, timeoutMs: 120_000, intervalMs: 500 },
    );
  const warningsOf = (name: string): Promise<CoreV1Event[]> => controllerWarningsOn(core, NAMESPACE, name);

  it("blocks the deletion with a Warning saying how to proceed, leaves other Services alone, then completes it", async () => {
    await core.createNamespacedService({
      namespace: NAMESPACE,
      body: service("guarded", { [ATTRIBUTES]: `${PROTECTION}=true` }),
    });
    await core.createNamespacedService({ namespace: NAMESPACE, body: service("neighbour") });
    await hostnameOf("guarded");
    await hostnameOf("neighbour");
    const guarded = await loadBalancerOf("guarded");
    const neighbour = await loadBalancerOf("neighbour");
    if (guarded === undefined || neighbour === undefined) throw new Error("no load balancers in AWS");
    expect(await protectionOf(direct.elbv2, guarded.arn)).toBe("true");
    expect(await protectionOf(direct.elbv2, neighbour.arn)).toBe("false");

    await core.deleteNamespacedService({ namespace: NAMESPACE, name: "guarded" });
    const [warning] = await waitFor(
      async () => ((await warningsOf("guarded")).length > 0 ? warningsOf("guarded") : undefined),
      { description: "a Warning on guarded", timeoutMs: 30_000 },
    );
    expect(warning?.reason).toBe("DeleteLoadBalancerFailed");
    expect(warning?.message).toContain(`load balancer ${guarded.arn} has deletion protection on`);
    expect(warning?.message).toContain(
      `aws elbv2 modify-load-balancer-attributes --load-balancer-arn ${guarded.arn} --attributes Key=deletion_protection.enabled,Value=false`,
    );
    // The finalizer holds the Service; the load balancer and everything it owns stay.
    const held = await core.readNamespacedService({ namespace: NAMESPACE, name: "guarded" });
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    expect(held.metadata?.finalizers).toContain(FINALIZER);
    const kept = resourcesOf(await auditCloud(direct.elbv2, direct.ec2, CLUSTER), `${NAMESPACE}/guarded`);
    expect([kept.loadBalancers.length, kept.targetGroups.length, kept.securityGroups.length]).toEqual([1, 1, 1]);

    // status shows it: the address marked, the Warning as the last result.
    const deps = {
      kubeConfig: controlPlane.kubeConfig(),
      provider: operatorProvider,
      clusterName: CLUSTER,
      selection: {},
    };
    const row = (await runStatus(deps)).find((r) => r.service === `${NAMESPACE}/guarded`);
    expect(row?.deletionProtection).toBe(true);
    expect(row?.lastResult).toMatch(/^Warning DeleteLoadBalancerFailed: .*deletion protection on/);
    expect(renderStatusTable(row === undefined ? [] : [row], new Date())).toContain("(deletion protection on)");

    // Another Service is deleted meanwhile, as if nothing were stuck.
    await core.deleteNamespacedService({ namespace: NAMESPACE, name: "neighbour" });
    await gone("neighbour");
    expect(await loadBalancerOf("neighbour")).toBeUndefined();

    // Switched off by an operator: the next retry deletes everything and lets the Service go.
    await switchProtectionOff(direct.elbv2, guarded.arn);
    await gone("guarded");
    const left = resourcesOf(await auditCloud(direct.elbv2, direct.ec2, CLUSTER), `${NAMESPACE}/guarded`);
    expect([left.loadBalancers, left.targetGroups, left.securityGroups]).toEqual([[], [], []]);
  });

  it("gc marks an orphan with deletion protection on, deletes the others with --yes, and that one once it is off", async () => {
    const annotations = { [ATTRIBUTES]: `${PROTECTION}=true` };
    const ghost = conformanceSpec({ clusterName: CLUSTER, namespace: NAMESPACE, name: "ghost", nodes, annotations });
    const stray = conformanceSpec({ clusterName: CLUSTER, namespace: NAMESPACE, name: "stray", nodes });
    await operatorProvider.ensureLoadBalancer(ghost);
    await operatorProvider.ensureLoadBalancer(stray);
    const deps = {
      kubeConfig: controlPlane.kubeConfig(),
      provider: operatorProvider,
      clusterName: CLUSTER,
      selection: {},
    };

    const listed = await runGc(deps, { yes: false });
    expect(listed.orphans.map((o) => [o.loadBalancer.ref.service.name, o.loadBalancer.deletionProtection])).toEqual([
      ["ghost", true],
      ["stray", undefined],
    ]);
    expect(renderGc(listed, CLUSTER)).toContain("Service not found; deletion protection on (switch it off to delete)");

    const attempted = await runGc(deps, { yes: true });
    expect(attempted.failed.map((f) => f.orphan.loadBalancer.ref.service.name)).toEqual(["ghost"]);
    expect(renderGc(attempted, CLUSTER)).toMatch(
      /Could not delete default\/ghost: load balancer .* deletion protection on/,
    );
    expect(await loadBalancerOf("stray")).toBeUndefined();
    const ghostLb = await loadBalancerOf("ghost");
    if (ghostLb === undefined) throw new Error("gc deleted a protected load balancer");

    await switchProtectionOff(direct.elbv2, ghostLb.arn);
    expect((await runGc(deps, { yes: true })).failed).toEqual([]);
    expect(await loadBalancerOf("ghost")).toBeUndefined();
    expect((await runGc(deps, { yes: false })).orphans).toEqual([]);
    await operatorProvider.ensureLoadBalancerDeleted(refOf(ghost));
  });
});
