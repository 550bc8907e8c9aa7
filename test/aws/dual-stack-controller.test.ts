/**
 * A dual-stack Service through `lb-provisioner run --provider aws` as a process, against a dual-stack
 * kube-apiserver and moto: the Service's families reach the provider, the NLB is built `dualstack` in
 * the VPC's IPv6 subnets (read back with DescribeLoadBalancers) and the Service's condition turns True;
 * a dual-stack Service placed in a subnet without an IPv6 CIDR block gets one Warning naming
 * `spec.ipFamilies` and the subnet, its condition False with reason InvalidConfiguration, and nothing
 * in the cloud.
 */
import { CreateSubnetCommand, type EC2Client } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOAD_BALANCER_CONDITION } from "../../src/controller/condition.ts";
import {
  controllerWarningsOn,
  createNodes,
  DUAL_STACK_SERVICE_RANGES,
  type SeededAwsNetwork,
  seedAwsNetwork,
  seedNodes,
  waitFor,
  withAwsEndpoint,
  withControlPlane,
} from "../harness/index.ts";
import type { ControllerProcess } from "../integration/cli-process.ts";
import { startAwsController } from "./aws-controller.ts";
import { addIpv6, awsClients, loadBalancerOf } from "./aws-provider-fixtures.ts";
import { auditCloud, resourcesOf } from "./cloud-audit.ts";

const CLUSTER = "dual-stack";
const NAMESPACE = "default";

describe("a dual-stack Service through the controller as a process (aws provider, moto)", () => {
  const controlPlane = withControlPlane({ serviceRanges: DUAL_STACK_SERVICE_RANGES });
  const aws = withAwsEndpoint();
  let core: CoreV1Api;
  let ec2: EC2Client;
  let elbv2: ElasticLoadBalancingV2Client;
  let network: SeededAwsNetwork;
  let controller: ControllerProcess;

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    ({ ec2, elbv2 } = awsClients(aws));
    network = await seedAwsNetwork(ec2, { clusterName: CLUSTER });
    await addIpv6(ec2, network);
    await createNodes(core, seedNodes(network.instances));
    controller = await startAwsController("dual-stack", controlPlane, aws, CLUSTER, ["--leader-elect=false"]);
  });

  afterAll(async () => {
    await controller?.process.stop(5_000);
    ec2?.destroy();
    elbv2?.destroy();
  });

  function dualStackService(name: string, annotations: Record<string, string> = {}): V1Service {
    return {
      metadata: { name, namespace: NAMESPACE, annotations },
      spec: {
        type: "LoadBalancer",
        selector: { app: name },
        ports: [{ port: 80, protocol: "TCP" }],
        ipFamilyPolicy: "RequireDualStack",
        ipFamilies: ["IPv4", "IPv6"],
      },
    };
  }

  const conditionOf = async (name: string) =>
    (await core.readNamespacedService({ namespace: NAMESPACE, name })).status?.conditions?.find(
      (condition) => condition.type === LOAD_BALANCER_CONDITION,
    );

  it("builds a dualstack NLB for a dual-stack Service, and its condition turns True", async () => {
    const created = await core.createNamespacedService({ namespace: NAMESPACE, body: dualStackService("both") });
    expect(created.spec?.ipFamilies, "the apiserver is dual-stack").toEqual(["IPv4", "IPv6"]);
    const hostname = await waitFor(
      async () =>
        (await core.readNamespacedService({ namespace: NAMESPACE, name: "both" })).status?.loadBalancer?.ingress?.[0]
          ?.hostname,
      { description: "default/both to get a hostname", timeoutMs: 60_000, intervalMs: 250 },
    );
    const lb = await loadBalancerOf(
      { ec2, elbv2 },
      { clusterName: CLUSTER, service: { namespace: NAMESPACE, name: "both" } },
    );
    expect(lb?.DNSName).toBe(hostname);
    expect(lb?.IpAddressType).toBe("dualstack");
    const condition = await waitFor(
      async () => ((await conditionOf("both"))?.status === "True" ? conditionOf("both") : undefined),
      {
        description: "default/both's condition to turn True",
      },
    );
    expect(condition?.reason).toBe("Ensured");
  });

  it("refuses it in a subnet without an IPv6 CIDR block: one Warning naming spec.ipFamilies and the subnet, nothing built", async () => {
    const bare = await ec2.send(
      new CreateSubnetCommand({
        VpcId: network.vpcId,
        CidrBlock: "192.168.200.0/24",
        AvailabilityZone: network.subnets[0]?.zone,
      }),
    );
    const subnetId = bare.Subnet?.SubnetId ?? "";
    await core.createNamespacedService({
      namespace: NAMESPACE,
      body: dualStackService("no-ipv6", { "service.beta.kubernetes.io/aws-load-balancer-subnets": subnetId }),
    });
    const condition = await waitFor(
      async () =>
        (await conditionOf("no-ipv6"))?.status === "False" &&
        (await conditionOf("no-ipv6"))?.reason === "InvalidConfiguration"
          ? conditionOf("no-ipv6")
          : undefined,
      { description: "default/no-ipv6's condition to turn False (InvalidConfiguration)" },
    );
    expect(condition?.message).toContain("spec.ipFamilies");
    expect(condition?.message).toContain(subnetId);
    const warnings = await controllerWarningsOn(core, NAMESPACE, "no-ipv6");
    expect(warnings.map((w) => w.reason)).toEqual(["SyncLoadBalancerFailed"]);
    expect(warnings[0]?.message).toContain(subnetId);
    const mine = resourcesOf(await auditCloud(elbv2, ec2, CLUSTER), `${NAMESPACE}/no-ipv6`);
    expect([mine.loadBalancers, mine.targetGroups, mine.securityGroups]).toEqual([[], [], []]);
  });
});
