/**
 * Seeds an AWS account (an emulator's, in practice) with the network the seed scenario runs on: a VPC,
 * one public subnet per availability zone tagged for the cluster, and instances standing for the
 * cluster's nodes at 192.168.1.2, .3, .4. The aws test tier, the demo and LocalStack's init hooks all
 * seed through this one function, so every tier sees the same network.
 *
 * @module
 */
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  type EC2Client,
  RunInstancesCommand,
  type Tag,
  type TagSpecification,
} from "@aws-sdk/client-ec2";

/** What to seed. */
export interface SeedAwsNetworkOptions {
  /** The `--cluster-name`; resources are tagged `kubernetes.io/cluster/<clusterName>=owned`. */
  readonly clusterName: string;
  /** One subnet per zone, in this order. Default: the region's first two available zones. */
  readonly zones?: readonly string[];
  /** How many instances (nodes) to run, all in the first subnet. Default 3. */
  readonly instances?: number;
  /** AMI for the instances. Default: the first image the endpoint lists for owner `amazon`. */
  readonly imageId?: string;
}

/** A seeded subnet. */
export interface SeededSubnet {
  readonly subnetId: string;
  readonly zone: string;
  readonly cidr: string;
}

/** A seeded instance, with the Node identity it stands for. */
export interface SeededInstance {
  readonly instanceId: string;
  readonly zone: string;
  readonly subnetId: string;
  readonly privateIp: string;
  /** `aws:///<zone>/<instance id>`, as the Node's `spec.providerID`. */
  readonly providerID: string;
  /** `node-1`, `node-2`, ... (the seed scenario's Node names). */
  readonly nodeName: string;
}

/** Everything seeded, by id. */
export interface SeededAwsNetwork {
  readonly vpcId: string;
  readonly subnets: readonly SeededSubnet[];
  readonly instances: readonly SeededInstance[];
  /** Security group the instances run in (the nodes' group), tagged for the cluster. */
  readonly securityGroupId: string;
  readonly internetGatewayId: string;
  /** Route table sending 0.0.0.0/0 to the internet gateway; every seeded subnet is associated with it. */
  readonly routeTableId: string;
}

/** The seed scenario's addresses: VPC, per-zone subnets, and node IPs from .2 upwards in the first subnet. */
export const SEED_VPC_CIDR = "192.168.0.0/16";
const subnetCidr = (index: number): string => `192.168.${index + 1}.0/24`;
const nodeIp = (index: number): string => `192.168.1.${index + 2}`;
const MAX_INSTANCES = 250;
const FALLBACK_IMAGE_ID = "ami-0123456789abcdef0";

/**
 * Creates the network and instances described in the module doc and returns their ids. Subnets are
 * public (routed to an internet gateway) and tagged `kubernetes.io/role/elb=1`, so subnet discovery
 * picks them for internet-facing load balancers. Instances ask for 192.168.1.2, .3, ...; an endpoint
 * that refuses a fixed address (real AWS reserves .1-.3 of every subnet) assigns one instead.
 */
export async function seedAwsNetwork(ec2: EC2Client, options: SeedAwsNetworkOptions): Promise<SeededAwsNetwork> {
  const { clusterName } = options;
  if (!clusterName) throw new TypeError("seedAwsNetwork: clusterName must be a non-empty string");
  const instanceCount = options.instances ?? 3;
  if (!Number.isInteger(instanceCount) || instanceCount < 0 || instanceCount > MAX_INSTANCES) {
    throw new RangeError(
      `seedAwsNetwork: instances must be an integer from 0 to ${MAX_INSTANCES}, got ${instanceCount}`,
    );
  }
  const zones = options.zones ?? (await firstZones(ec2, 2));
  if (zones.length === 0) throw new RangeError("seedAwsNetwork: zones must name at least one availability zone");

  const ownership: Tag = { Key: `kubernetes.io/cluster/${clusterName}`, Value: "owned" };
  const tagged = (resourceType: TagSpecification["ResourceType"], name: string, extra: Tag[] = []) => [
    { ResourceType: resourceType, Tags: [{ Key: "Name", Value: name }, ownership, ...extra] },
  ];

  const vpc = await ec2.send(
    new CreateVpcCommand({ CidrBlock: SEED_VPC_CIDR, TagSpecifications: tagged("vpc", clusterName) }),
  );
  const vpcId = required(vpc.Vpc?.VpcId, "CreateVpc VpcId");

  const gateway = await ec2.send(
    new CreateInternetGatewayCommand({ TagSpecifications: tagged("internet-gateway", clusterName) }),
  );
  const internetGatewayId = required(gateway.InternetGateway?.InternetGatewayId, "CreateInternetGateway id");
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: internetGatewayId, VpcId: vpcId }));
  const routeTable = await ec2.send(
    new CreateRouteTableCommand({ VpcId: vpcId, TagSpecifications: tagged("route-table", `${clusterName}-public`) }),
  );
  const routeTableId = required(routeTable.RouteTable?.RouteTableId, "CreateRouteTable id");
  await ec2.send(
    new CreateRouteCommand({
      RouteTableId: routeTableId,
      DestinationCidrBlock: "0.0.0.0/0",
      GatewayId: internetGatewayId,
    }),
  );

  const subnets: SeededSubnet[] = [];
  for (const [index, zone] of zones.entries()) {
    const cidr = subnetCidr(index);
    const created = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: cidr,
        AvailabilityZone: zone,
        TagSpecifications: tagged("subnet", `${clusterName}-public-${zone}`, [
          { Key: "kubernetes.io/role/elb", Value: "1" },
        ]),
      }),
    );
    const subnetId = required(created.Subnet?.SubnetId, "CreateSubnet id");
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetId }));
    subnets.push({ subnetId, zone, cidr });
  }

  const group = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `${clusterName}-nodes`,
      Description: `Nodes of cluster ${clusterName}`,
      VpcId: vpcId,
      TagSpecifications: tagged("security-group", `${clusterName}-nodes`),
    }),
  );
  const securityGroupId = required(group.GroupId, "CreateSecurityGroup GroupId");

  const imageId = instanceCount > 0 ? (options.imageId ?? (await defaultImageId(ec2))) : "";
  const [home] = subnets as [SeededSubnet];
  const instances: SeededInstance[] = [];
  for (let index = 0; index < instanceCount; index++) {
    const nodeName = `node-${index + 1}`;
    const request = {
      ImageId: imageId,
      InstanceType: "t3.medium" as const,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: home.subnetId,
      SecurityGroupIds: [securityGroupId],
      TagSpecifications: tagged("instance", nodeName),
    };
    const launched = await ec2
      .send(new RunInstancesCommand({ ...request, PrivateIpAddress: nodeIp(index) }))
      .catch(() => ec2.send(new RunInstancesCommand(request)));
    const instance = launched.Instances?.[0];
    const instanceId = required(instance?.InstanceId, "RunInstances InstanceId");
    instances.push({
      instanceId,
      zone: home.zone,
      subnetId: home.subnetId,
      privateIp: required(instance?.PrivateIpAddress, "RunInstances PrivateIpAddress"),
      providerID: `aws:///${home.zone}/${instanceId}`,
      nodeName,
    });
  }

  return { vpcId, subnets, instances, securityGroupId, internetGatewayId, routeTableId };
}

async function firstZones(ec2: EC2Client, count: number): Promise<string[]> {
  const answer = await ec2.send(
    new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "state", Values: ["available"] }] }),
  );
  return (answer.AvailabilityZones ?? [])
    .filter((zone) => zone.ZoneType === undefined || zone.ZoneType === "availability-zone")
    .map((zone) => zone.ZoneName)
    .filter((name): name is string => Boolean(name))
    .sort()
    .slice(0, count);
}

async function defaultImageId(ec2: EC2Client): Promise<string> {
  const answer = await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }));
  return answer.Images?.find((image) => image.ImageId)?.ImageId ?? FALLBACK_IMAGE_ID;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null || value === "") {
    throw new Error(`seedAwsNetwork: the endpoint's answer lacks ${what}`);
  }
  return value;
}
