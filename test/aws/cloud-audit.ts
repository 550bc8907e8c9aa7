/**
 * What the AWS endpoint holds for one cluster, read the way an auditor would: every page of every
 * Describe call (page sizes kept small so paging is exercised), then tags, listeners and targets.
 * Only resources tagged `kubernetes.io/cluster/<cluster>=owned` count; each is attributed to the
 * Service its `kubernetes.io/service-name` tag names.
 *
 * @module
 */
import { type EC2Client, paginateDescribeSecurityGroups } from "@aws-sdk/client-ec2";
import {
  DescribeListenersCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  paginateDescribeLoadBalancers,
  paginateDescribeTargetGroups,
  type Tag,
} from "@aws-sdk/client-elastic-load-balancing-v2";

const SERVICE_TAG = "kubernetes.io/service-name";
/** Small pages, so an audit of a few dozen resources reads several of them. */
const PAGE_SIZE = 20;

export interface AuditedListener {
  readonly port: number;
  readonly protocol: string;
  readonly targetGroupArn: string;
}

export interface AuditedLoadBalancer {
  readonly arn: string;
  readonly dnsName: string;
  readonly service: string;
  readonly listeners: readonly AuditedListener[];
}

export interface AuditedTargetGroup {
  readonly arn: string;
  readonly service: string;
  readonly port: number;
  readonly protocol: string;
  /** `id:port`, sorted. */
  readonly targets: readonly string[];
}

export interface AuditedSecurityGroup {
  readonly id: string;
  readonly service: string;
}

/** Everything owned by the cluster, with the Service each resource belongs to. */
export interface CloudAudit {
  readonly loadBalancers: readonly AuditedLoadBalancer[];
  readonly targetGroups: readonly AuditedTargetGroup[];
  readonly securityGroups: readonly AuditedSecurityGroup[];
  /** Describe pages read to take it (load balancers, target groups, security groups). */
  readonly pages: number;
}

/** The tags of each ARN, 20 per DescribeTags call (the API's limit). */
export async function tagsOf(
  elbv2: ElasticLoadBalancingV2Client,
  arns: readonly string[],
): Promise<Map<string, Tag[]>> {
  const tags = new Map<string, Tag[]>();
  for (let index = 0; index < arns.length; index += 20) {
    const page = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(index, index + 20) }));
    for (const description of page.TagDescriptions ?? [])
      tags.set(description.ResourceArn ?? "", description.Tags ?? []);
  }
  return tags;
}

/** Reads every owned load balancer, listener, target group, target and security group of `cluster`. */
export async function auditCloud(
  elbv2: ElasticLoadBalancingV2Client,
  ec2: EC2Client,
  cluster: string,
): Promise<CloudAudit> {
  const clusterTag = `kubernetes.io/cluster/${cluster}`;
  let pages = 0;
  const balancers = [];
  for await (const page of paginateDescribeLoadBalancers({ client: elbv2, pageSize: PAGE_SIZE }, {})) {
    pages++;
    balancers.push(...(page.LoadBalancers ?? []));
  }
  const groups = [];
  for await (const page of paginateDescribeTargetGroups({ client: elbv2, pageSize: PAGE_SIZE }, {})) {
    pages++;
    groups.push(...(page.TargetGroups ?? []));
  }
  const tags = await tagsOf(elbv2, [
    ...balancers.map((lb) => lb.LoadBalancerArn ?? ""),
    ...groups.map((tg) => tg.TargetGroupArn ?? ""),
  ]);
  const serviceOf = (arn: string | undefined): string | undefined => {
    const list = tags.get(arn ?? "") ?? [];
    if (!list.some((tag) => tag.Key === clusterTag && tag.Value === "owned")) return undefined;
    return list.find((tag) => tag.Key === SERVICE_TAG)?.Value ?? "";
  };

  const loadBalancers: AuditedLoadBalancer[] = [];
  for (const lb of balancers) {
    const service = serviceOf(lb.LoadBalancerArn);
    if (service === undefined) continue;
    const found = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    const listeners = (found.Listeners ?? []).map((listener) => ({
      port: listener.Port ?? 0,
      protocol: listener.Protocol ?? "",
      targetGroupArn: listener.DefaultActions?.[0]?.TargetGroupArn ?? "",
    }));
    loadBalancers.push({ arn: lb.LoadBalancerArn ?? "", dnsName: lb.DNSName ?? "", service, listeners });
  }
  const targetGroups: AuditedTargetGroup[] = [];
  for (const tg of groups) {
    const service = serviceOf(tg.TargetGroupArn);
    if (service === undefined) continue;
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
    const targets = (health.TargetHealthDescriptions ?? [])
      .map((description) => `${description.Target?.Id}:${description.Target?.Port}`)
      .sort();
    targetGroups.push({
      arn: tg.TargetGroupArn ?? "",
      service,
      port: tg.Port ?? 0,
      protocol: tg.Protocol ?? "",
      targets,
    });
  }
  const securityGroups: AuditedSecurityGroup[] = [];
  const filters = [
    { Name: `tag:${clusterTag}`, Values: ["owned"] },
    { Name: "tag-key", Values: [SERVICE_TAG] },
  ];
  for await (const page of paginateDescribeSecurityGroups({ client: ec2, pageSize: PAGE_SIZE }, { Filters: filters })) {
    pages++;
    for (const group of page.SecurityGroups ?? []) {
      const service = group.Tags?.find((tag) => tag.Key === SERVICE_TAG)?.Value ?? "";
      securityGroups.push({ id: group.GroupId ?? "", service });
    }
  }
  return { loadBalancers, targetGroups, securityGroups, pages };
}

/** The resources `audit` attributes to `service` (`namespace/name`). */
export function resourcesOf(audit: CloudAudit, service: string) {
  return {
    loadBalancers: audit.loadBalancers.filter((lb) => lb.service === service),
    targetGroups: audit.targetGroups.filter((tg) => tg.service === service),
    securityGroups: audit.securityGroups.filter((sg) => sg.service === service),
  };
}
