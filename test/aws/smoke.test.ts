/**
 * Proves the aws tier talks to a real AWS API implementation through the real SDKs: the seed network
 * (VPC, subnets in two zones, three instances) and, on top of it, an NLB with a target group on the
 * seed nodePort holding the three instances and a listener on 80, all read back from the endpoint.
 */
import { DescribeInstancesCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { beforeAll, describe, expect, it } from "vitest";
import {
  SEED_NODE_IPS,
  SEED_NODE_PORT,
  SEED_SERVICE_PORT,
  type SeededAwsNetwork,
  seedAwsNetwork,
  withAwsEndpoint,
} from "../harness/index.ts";

const CLUSTER = "smoke";

describe("aws endpoint smoke", () => {
  const aws = withAwsEndpoint();
  let ec2: EC2Client;
  let elbv2: ElasticLoadBalancingV2Client;
  let network: SeededAwsNetwork;

  beforeAll(async () => {
    const config = { endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials };
    ec2 = new EC2Client(config);
    elbv2 = new ElasticLoadBalancingV2Client(config);
    network = await seedAwsNetwork(ec2, { clusterName: CLUSTER });
  });

  it("seeds a cluster-tagged VPC with public subnets in two zones", async () => {
    const vpcs = await ec2.send(new DescribeVpcsCommand({ VpcIds: [network.vpcId] }));
    expect(vpcs.Vpcs?.[0]?.CidrBlock).toBe("192.168.0.0/16");
    expect(vpcs.Vpcs?.[0]?.Tags).toContainEqual({ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: "owned" });

    const subnets = await ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: `tag:kubernetes.io/cluster/${CLUSTER}`, Values: ["owned"] }] }),
    );
    const found = (subnets.Subnets ?? []).map((subnet) => ({
      zone: subnet.AvailabilityZone,
      cidr: subnet.CidrBlock,
      elbRole: subnet.Tags?.find((tag) => tag.Key === "kubernetes.io/role/elb")?.Value,
    }));
    expect(found).toEqual(
      expect.arrayContaining([
        { zone: `${aws.region}a`, cidr: "192.168.1.0/24", elbRole: "1" },
        { zone: `${aws.region}b`, cidr: "192.168.2.0/24", elbRole: "1" },
      ]),
    );
    expect(found).toHaveLength(2);
  });

  it("runs three instances at the seed node addresses with AWS providerIDs", async () => {
    const ids = network.instances.map((instance) => instance.instanceId);
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    const instances = (described.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
    expect(instances.map((instance) => instance.PrivateIpAddress).sort()).toEqual([...SEED_NODE_IPS]);
    expect(network.instances.map((instance) => instance.nodeName)).toEqual(["node-1", "node-2", "node-3"]);
    for (const instance of network.instances) {
      expect(instance.providerID).toBe(`aws:///${instance.zone}/${instance.instanceId}`);
    }
  });

  it("builds an NLB with a listener on 80 forwarding to a target group of the three instances on 30008", async () => {
    const created = await elbv2.send(
      new CreateLoadBalancerCommand({
        Name: "smoke-nlb",
        Type: "network",
        Scheme: "internet-facing",
        Subnets: network.subnets.map((subnet) => subnet.subnetId),
      }),
    );
    const loadBalancerArn = created.LoadBalancers?.[0]?.LoadBalancerArn as string;
    expect(loadBalancerArn).toMatch(/^arn:aws:elasticloadbalancing:/);

    const targetGroup = await elbv2.send(
      new CreateTargetGroupCommand({
        Name: "smoke-tg-30008",
        Protocol: "TCP",
        Port: SEED_NODE_PORT,
        VpcId: network.vpcId,
        TargetType: "instance",
      }),
    );
    const targetGroupArn = targetGroup.TargetGroups?.[0]?.TargetGroupArn as string;
    await elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: targetGroupArn,
        Targets: network.instances.map((instance) => ({ Id: instance.instanceId, Port: SEED_NODE_PORT })),
      }),
    );
    await elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: loadBalancerArn,
        Protocol: "TCP",
        Port: SEED_SERVICE_PORT,
        DefaultActions: [{ Type: "forward", TargetGroupArn: targetGroupArn }],
      }),
    );

    const described = await elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [loadBalancerArn] }));
    const loadBalancer = described.LoadBalancers?.[0];
    expect(loadBalancer?.Type).toBe("network");
    expect(loadBalancer?.VpcId).toBe(network.vpcId);
    expect(loadBalancer?.DNSName).toBeTruthy();
    expect(loadBalancer?.AvailabilityZones?.map((zone) => zone.ZoneName).sort()).toEqual(
      network.subnets.map((subnet) => subnet.zone).sort(),
    );

    const listeners = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }));
    expect(listeners.Listeners).toHaveLength(1);
    expect(listeners.Listeners?.[0]).toMatchObject({
      Port: SEED_SERVICE_PORT,
      Protocol: "TCP",
      DefaultActions: [expect.objectContaining({ Type: "forward", TargetGroupArn: targetGroupArn })],
    });

    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    const targets = (health.TargetHealthDescriptions ?? []).map((description) => description.Target);
    expect(targets).toHaveLength(3);
    expect(targets.map((target) => target?.Id).sort()).toEqual(
      network.instances.map((instance) => instance.instanceId).sort(),
    );
    expect(new Set(targets.map((target) => target?.Port))).toEqual(new Set([SEED_NODE_PORT]));
  });
});
