/**
 * What the legacy AWS cloud provider (cloud-provider-aws, its NLB path) builds for a Service, made here
 * with plain SDK calls so that tests can switch the Service over to lb-provisioner: the NLB named after
 * the Service's uid, internet-facing, in one subnet per zone and without a security group; per port a
 * `TCP` target group on the nodePort with the instances registered and the legacy health check (TCP
 * on the traffic port, 30 s, 3/3), and a listener forwarding to it; every one of them tagged
 * `kubernetes.io/cluster/<cluster>=owned` and `kubernetes.io/service-name=<namespace>/<name>`; and on
 * the nodes' security group the rules it keys by description (`kubernetes.io/rule/nlb/client=<name>`
 * for the nodePorts, `.../mtu` for path MTU discovery).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, type EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { legacyLoadBalancerName } from "../../providers/aws/adopt.ts";
import type { LoadBalancerSpec } from "../../providers/types.ts";
import type { SeededAwsNetwork } from "../harness/index.ts";

export interface LegacyNlb {
  readonly arn: string;
  readonly name: string;
  readonly dnsName: string;
  /** By listener port. */
  readonly targetGroupArns: ReadonlyMap<number, string>;
  readonly listenerArns: ReadonlyMap<number, string>;
  /** Its own security group, when built in the legacy managed mode. */
  readonly securityGroupId?: string;
}

export interface LegacyNlbOptions {
  /** The cluster id in the tags; the spec's cluster unless a test wants someone else's. */
  readonly clusterTag?: string;
  /** The instance ids to register (the legacy provider registers every node). */
  readonly instanceIds: readonly string[];
  /**
   * Built as with the legacy `NLBSecurityGroupMode = Managed`: with a security group of its own,
   * tagged only with the cluster, admitting everyone on the listener ports.
   */
  readonly managedSecurityGroup?: boolean;
}

/** Builds, in the order the legacy provider does, its NLB for `spec` (which must have a uid). */
export async function buildLegacyNlb(
  clients: { readonly elbv2: ElasticLoadBalancingV2Client; readonly ec2: EC2Client },
  network: SeededAwsNetwork,
  spec: Pick<LoadBalancerSpec, "clusterName" | "service" | "listeners">,
  options: LegacyNlbOptions,
): Promise<LegacyNlb> {
  const uid = spec.service.uid;
  if (uid === undefined) throw new Error("the legacy provider names the NLB after the Service's uid");
  const cluster = options.clusterTag ?? spec.clusterName;
  const { namespace, name: serviceName } = spec.service;
  const tags = [
    { Key: "kubernetes.io/service-name", Value: `${namespace}/${serviceName}` },
    { Key: `kubernetes.io/cluster/${cluster}`, Value: "owned" },
  ];
  const name = legacyLoadBalancerName(uid);
  const securityGroupId =
    options.managedSecurityGroup === true ? await managedSecurityGroup(clients.ec2, network, spec, cluster) : undefined;
  const created = await clients.elbv2.send(
    new CreateLoadBalancerCommand({
      Name: name,
      Type: "network",
      Scheme: "internet-facing",
      SubnetMappings: network.subnets.map((s) => ({ SubnetId: s.subnetId })),
      ...(securityGroupId !== undefined && { SecurityGroups: [securityGroupId] }),
      Tags: tags,
    }),
  );
  const lb = created.LoadBalancers?.[0];
  const arn = lb?.LoadBalancerArn ?? "";
  const targetGroupArns = new Map<number, string>();
  const listenerArns = new Map<number, string>();
  for (const listener of spec.listeners) {
    const group = await clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: legacyTargetGroupName(cluster, namespace, serviceName, listener.port, listener.nodePort),
        VpcId: network.vpcId,
        Port: listener.nodePort,
        Protocol: "TCP",
        TargetType: "instance",
        HealthCheckIntervalSeconds: 30,
        HealthCheckPort: "traffic-port",
        HealthCheckProtocol: "TCP",
        HealthyThresholdCount: 3,
        UnhealthyThresholdCount: 3,
        Tags: tags,
      }),
    );
    const groupArn = group.TargetGroups?.[0]?.TargetGroupArn ?? "";
    targetGroupArns.set(listener.port, groupArn);
    await clients.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: groupArn,
        Targets: options.instanceIds.map((id) => ({ Id: id, Port: listener.nodePort })),
      }),
    );
    const made = await clients.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: arn,
        Port: listener.port,
        Protocol: "TCP",
        DefaultActions: [{ Type: "forward", TargetGroupArn: groupArn }],
        Tags: tags,
      }),
    );
    listenerArns.set(listener.port, made.Listeners?.[0]?.ListenerArn ?? "");
  }
  // Rules are keyed by port and CIDR: a second legacy NLB on the same nodePort finds its rule there.
  await clients.ec2
    .send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: network.securityGroupId,
        IpPermissions: [
          ...spec.listeners.map((l) => ({
            IpProtocol: "tcp",
            FromPort: l.nodePort,
            ToPort: l.nodePort,
            IpRanges: [{ CidrIp: "0.0.0.0/0", Description: `kubernetes.io/rule/nlb/client=${name}` }],
          })),
          {
            IpProtocol: "icmp",
            FromPort: 3,
            ToPort: 4,
            IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "kubernetes.io/rule/nlb/mtu" }],
          },
        ],
      }),
    )
    .catch((error: Error) => {
      if (error.name !== "InvalidPermission.Duplicate") throw error;
    });
  return {
    arn,
    name,
    dnsName: lb?.DNSName ?? "",
    targetGroupArns,
    listenerArns,
    ...(securityGroupId !== undefined && { securityGroupId }),
  };
}

/** The security group the legacy provider's managed mode makes for a Service's NLB. */
async function managedSecurityGroup(
  ec2: EC2Client,
  network: SeededAwsNetwork,
  spec: Pick<LoadBalancerSpec, "service" | "listeners">,
  cluster: string,
): Promise<string> {
  const { namespace, name, uid } = spec.service;
  const hash = createHash("sha256").update([cluster, name, namespace, uid].join(";")).digest("hex");
  const alnum = (value: string) => value.replace(/[^a-zA-Z0-9]/g, "").slice(0, 8);
  const created = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `k8s-${alnum(namespace)}-${alnum(name)}-${hash.slice(0, 10)}`,
      Description: "[k8s] Managed SecurityGroup for LoadBalancer",
      VpcId: network.vpcId,
      TagSpecifications: [
        { ResourceType: "security-group", Tags: [{ Key: `kubernetes.io/cluster/${cluster}`, Value: "owned" }] },
      ],
    }),
  );
  const groupId = created.GroupId ?? "";
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: spec.listeners.map((l) => ({
        IpProtocol: "tcp",
        FromPort: l.port,
        ToPort: l.port,
        IpRanges: [{ CidrIp: "0.0.0.0/0" }],
      })),
    }),
  );
  return groupId;
}

/**
 * The legacy shape `k8s-<namespace:8>-<name:8>-<hash:10>`, alphanumerics only, hashing the cluster,
 * Service, ports and health check as the legacy provider does (its exact hash input does not matter:
 * lb-provisioner recognises these target groups by their tags alone).
 */
function legacyTargetGroupName(
  cluster: string,
  namespace: string,
  name: string,
  port: number,
  nodePort: number,
): string {
  const hash = createHash("sha1")
    .update([cluster, namespace, name, port, nodePort, "TCP", "instance", "TCP", 30].join(";"))
    .digest("hex");
  const alnum = (value: string) => value.replace(/[^a-zA-Z0-9]/g, "").slice(0, 8);
  return `k8s-${alnum(namespace)}-${alnum(name)}-${hash.slice(0, 10)}`;
}
