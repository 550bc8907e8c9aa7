/**
 * What the AWS endpoint holds for one cluster, read the way an auditor would: every page of every
 * Describe call (page sizes kept small so paging is exercised), then tags, listeners and targets.
 * Resources deleted while the audit reads them are left out. Only resources tagged `kubernetes.io/cluster/<cluster>=owned` count; each is attributed to the
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
import type { V1Service } from "@kubernetes/client-node";

const SERVICE_TAG = "kubernetes.io/service-name";
/** The finalizer of class-less Services, which the tests' controllers manage. */
const FINALIZER = "service.kubernetes.io/load-balancer-cleanup";
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

/**
 * The tags of each ARN, 20 per DescribeTags call (the API's limit). A batch naming a resource deleted
 * since it was listed fails as a whole; it is then read one ARN at a time, leaving the gone one out.
 */
export async function tagsOf(
  elbv2: ElasticLoadBalancingV2Client,
  arns: readonly string[],
): Promise<Map<string, Tag[]>> {
  const tags = new Map<string, Tag[]>();
  const read = async (batch: string[]): Promise<boolean> => {
    const page = await unlessGone(elbv2.send(new DescribeTagsCommand({ ResourceArns: batch })));
    for (const description of page?.TagDescriptions ?? [])
      tags.set(description.ResourceArn ?? "", description.Tags ?? []);
    return page !== undefined;
  };
  for (let index = 0; index < arns.length; index += 20) {
    const batch = arns.slice(index, index + 20);
    if (!(await read(batch))) for (const arn of batch) await read([arn]);
  }
  return tags;
}

/** `call`'s result, or undefined when what it describes was deleted since it was listed. */
async function unlessGone<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    const name = (error as { name?: unknown }).name;
    if (name === "LoadBalancerNotFoundException" || name === "TargetGroupNotFoundException") return undefined;
    throw error;
  }
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
    const found = await unlessGone(elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn })));
    if (found === undefined) continue;
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
    const health = await unlessGone(elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn })));
    if (health === undefined) continue;
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

/** The AWS instance id in a Node's providerID. */
export function instanceOf(providerID: string | undefined): string {
  return providerID?.split("/").pop() ?? "";
}

/**
 * Every way the cloud and the cluster disagree about the Services `names` of `namespace` (which may be
 * gone), given the Services that exist and the nodes' instance ids; empty when converged. Every owned
 * resource must belong to one of `names`.
 */
export function disagreements(
  audit: CloudAudit,
  namespace: string,
  services: readonly V1Service[],
  instances: readonly string[],
  names: readonly string[],
): string[] {
  const problems: string[] = [];
  const live = new Map(services.map((service) => [service.metadata?.name ?? "", service]));
  const owners = new Set<string>();
  for (const name of names) {
    const key = `${namespace}/${name}`;
    owners.add(key);
    const service = live.get(name);
    const mine = resourcesOf(audit, key);
    const wanted = service?.spec?.type === "LoadBalancer" && !service.metadata?.deletionTimestamp;
    if (!wanted) {
      const left = mine.loadBalancers.length + mine.targetGroups.length + mine.securityGroups.length;
      if (left > 0)
        problems.push(
          `${key} (${service ? service.spec?.type : "deleted"}) still has ${mine.loadBalancers.length} load balancers, ${mine.targetGroups.length} target groups, ${mine.securityGroups.length} security groups`,
        );
      if (service?.metadata?.finalizers?.includes(FINALIZER)) problems.push(`${key} still has the finalizer`);
      if ((service?.status?.loadBalancer?.ingress ?? []).length > 0) problems.push(`${key} still has a status`);
      continue;
    }
    if (!service.metadata?.finalizers?.includes(FINALIZER)) problems.push(`${key} has no finalizer`);
    if (mine.loadBalancers.length !== 1) {
      problems.push(`${key} has ${mine.loadBalancers.length} load balancers`);
      continue;
    }
    const [lb] = mine.loadBalancers as [(typeof mine.loadBalancers)[number]];
    const hostname = service.status?.loadBalancer?.ingress?.[0]?.hostname;
    if (hostname !== lb.dnsName) problems.push(`${key} status says ${hostname}, its load balancer is ${lb.dnsName}`);
    const ports = service.spec?.ports ?? [];
    const listeners = [...lb.listeners].sort((a, b) => a.port - b.port);
    const wantedListeners = ports.map((p) => `${p.port}/TCP`).sort();
    const haveListeners = listeners.map((l) => `${l.port}/${l.protocol}`).sort();
    if (wantedListeners.join() !== haveListeners.join())
      problems.push(`${key} listeners ${haveListeners.join(",")}, wants ${wantedListeners.join(",")}`);
    for (const port of ports) {
      const listener = lb.listeners.find((l) => l.port === port.port);
      const group = mine.targetGroups.find((tg) => tg.arn === listener?.targetGroupArn);
      if (!listener || !group) {
        problems.push(`${key} port ${port.port} forwards to no target group of its own`);
        continue;
      }
      if (group.port !== port.nodePort)
        problems.push(`${key} port ${port.port} targets ${group.port}, wants ${port.nodePort}`);
      const targets = instances.map((id) => `${id}:${port.nodePort}`).sort();
      if (group.targets.join() !== targets.join())
        problems.push(`${key} port ${port.port} targets [${group.targets.join(",")}], wants [${targets.join(",")}]`);
    }
    const forwarded = new Set(lb.listeners.map((l) => l.targetGroupArn));
    const stray = mine.targetGroups.filter((tg) => !forwarded.has(tg.arn));
    if (stray.length > 0)
      problems.push(
        `${key} has ${stray.length} target groups no listener uses (ports ${stray.map((tg) => tg.port).join(",")})`,
      );
    if (mine.securityGroups.length !== 1) problems.push(`${key} has ${mine.securityGroups.length} security groups`);
  }
  for (const resource of [...audit.loadBalancers, ...audit.targetGroups, ...audit.securityGroups])
    if (!owners.has(resource.service)) problems.push(`a resource of unknown Service "${resource.service}"`);
  return problems;
}
