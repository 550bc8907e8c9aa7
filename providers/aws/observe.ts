/**
 * Reads what exists in AWS for one Service and sorts it by ownership: the load balancer with our name,
 * its listeners and target groups, target groups with our names that a failed run left unattached, and
 * our security group. Only resources whose tags prove they are this Service's (`tags.ts`) reach the
 * {@link ActualState} the diff works on; anything else with our name is a conflict, never touched.
 *
 * @module
 */
import type { SecurityGroup } from "@aws-sdk/client-ec2";
import type {
  Listener,
  LoadBalancer,
  TargetGroup,
  TargetHealthDescription,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { ConflictError } from "../errors.ts";
import type { LoadBalancerRef } from "../types.ts";
import type { AwsClient } from "./client.ts";
import { loadBalancerName, namePrefix, securityGroupName } from "./names.ts";
import type {
  ActualListener,
  ActualLoadBalancer,
  ActualSecurityGroup,
  ActualState,
  ActualTargetGroup,
  DesiredState,
  IngressRule,
  Tags,
  Target,
} from "./state.ts";
import { clusterTagKey, fromTagList, isOwnedBy, OWNED, SERVICE_NAME_TAG } from "./tags.ts";

/**
 * - `ensure`: a resource with our name that is not ours throws {@link ConflictError}; reads only what
 *   the diff needs for the desired state.
 * - `read`: a load balancer that is not ours reads as absent; target health of every listener is read.
 * - `delete`: like `read`, and also finds target groups of this Service that no load balancer uses (what
 *   a failed delete or replacement left behind).
 */
export type ObserveMode = "ensure" | "read" | "delete";

/** A registered target with the health AWS reports. */
export interface TargetHealth extends Target {
  readonly state: string;
}

/** Everything observed: the owned state for the diff, plus read-only detail for `getLoadBalancer`. */
export interface Observation {
  readonly state: ActualState;
  /** Every target group a listener of our load balancer forwards to, owned or not, by ARN. */
  readonly listenerTargetGroups: ReadonlyMap<string, ActualTargetGroup>;
  /** Targets with health, by target group ARN (draining ones included). */
  readonly health: ReadonlyMap<string, readonly TargetHealth[]>;
}

export interface ObserveOptions {
  readonly mode: ObserveMode;
  /** In `ensure` mode: which target groups to look for by name, and whose attributes to read. */
  readonly desired?: DesiredState;
  readonly signal?: AbortSignal | undefined;
}

export async function observe(client: AwsClient, ref: LoadBalancerRef, options: ObserveOptions): Promise<Observation> {
  const { mode, desired, signal } = options;
  const scope = { clusterName: ref.clusterName, namespace: ref.service.namespace, name: ref.service.name };
  const lbName = loadBalancerName(scope);
  const found = await client.findLoadBalancers(lbName, { signal });
  const lb = await ownedLoadBalancer(client, ref, lbName, found, mode, signal);

  const health = new Map<string, TargetHealth[]>();
  const listenerTargetGroups = new Map<string, ActualTargetGroup>();
  const owned = new Map<string, ActualTargetGroup>();
  let listeners: ActualListener[] = [];

  if (lb !== undefined) {
    listeners = (await client.describeListeners(lb.arn, { signal }))
      .map(toListener)
      .filter((l): l is ActualListener => l !== undefined);
    // Target groups by what the listeners forward to, which is exact; the load balancer's own list of
    // associated target groups lags behind listener changes (in emulators, indefinitely).
    const forwardedTo = listeners.flatMap((l) => (l.targetGroupArn === undefined ? [] : [l.targetGroupArn]));
    const attached = forwardedTo.length === 0 ? [] : await client.describeTargetGroups(forwardedTo, { signal });
    const tags = await client.describeTags(
      attached.map((tg) => tg.TargetGroupArn ?? ""),
      { signal },
    );
    for (const raw of attached) {
      const tg = toTargetGroup(raw, tags.get(raw.TargetGroupArn ?? "") ?? {});
      if (tg === undefined) continue;
      listenerTargetGroups.set(tg.arn, tg);
      if (isOwnedBy(tg.tags, ref)) owned.set(tg.name, tg);
      else if (mode === "ensure" && desired?.targetGroups.some((d) => d.name === tg.name))
        throw conflict(tg.name, "target group", ref);
    }
  }

  if (mode === "ensure" && desired !== undefined) {
    for (const wanted of desired.targetGroups) {
      if (owned.has(wanted.name)) continue;
      const raw = await client.findTargetGroup(wanted.name, { signal });
      if (raw?.TargetGroupArn === undefined) continue;
      const tags = (await client.describeTags([raw.TargetGroupArn], { signal })).get(raw.TargetGroupArn) ?? {};
      const tg = toTargetGroup(raw, tags);
      if (tg === undefined) continue;
      if (!isOwnedBy(tg.tags, ref)) throw conflict(tg.name, "target group", ref);
      owned.set(tg.name, tg);
    }
  } else if (mode === "delete") {
    for (const tg of await findServiceTargetGroups(client, ref, signal))
      if (!owned.has(tg.name)) owned.set(tg.name, tg);
  }

  // Targets: of what the diff converges (ensure), or of everything a listener shows (read).
  const wantedNames = new Set(desired?.targetGroups.map((tg) => tg.name) ?? []);
  const healthOf =
    mode === "ensure"
      ? [...owned.values()].filter((tg) => wantedNames.has(tg.name))
      : mode === "read"
        ? [...listenerTargetGroups.values()]
        : [];
  await Promise.all(
    healthOf.map(async (tg) => {
      const described = await client.describeTargetHealth(tg.arn, { signal });
      health.set(
        tg.arn,
        described.map(toTargetHealth).filter((t): t is TargetHealth => t !== undefined),
      );
    }),
  );
  const withAttributes = new Set(
    desired?.targetGroups.filter((tg) => Object.keys(tg.attributes).length > 0).map((tg) => tg.name) ?? [],
  );
  const attributes = new Map<string, Tags>();
  if (mode === "ensure")
    await Promise.all(
      [...owned.values()]
        .filter((tg) => withAttributes.has(tg.name))
        .map(async (tg) => attributes.set(tg.name, await client.describeTargetGroupAttributes(tg.arn, { signal }))),
    );

  const targetGroups = [...owned.values()].map((tg): ActualTargetGroup => {
    const registered = (health.get(tg.arn) ?? [])
      .filter((t) => t.state !== "draining")
      .map(({ id, port }) => ({ id, port }));
    const attrs = attributes.get(tg.name);
    return { ...tg, targets: sortTargets(registered), ...(attrs !== undefined && { attributes: attrs }) };
  });

  const securityGroup = await ownedSecurityGroup(client, ref, lb?.vpcId, signal);
  const state: ActualState = {
    ...(lb !== undefined && { loadBalancer: lb }),
    listeners,
    targetGroups,
    ...(securityGroup !== undefined && { securityGroup }),
  };
  return { state, listenerTargetGroups, health };
}

async function ownedLoadBalancer(
  client: AwsClient,
  ref: LoadBalancerRef,
  name: string,
  found: readonly LoadBalancer[],
  mode: ObserveMode,
  signal: AbortSignal | undefined,
): Promise<ActualLoadBalancer | undefined> {
  if (found.length === 0) return undefined;
  const tags = await client.describeTags(
    found.map((lb) => lb.LoadBalancerArn ?? ""),
    { signal },
  );
  const mine = found.find((lb) => lb.Type === "network" && isOwnedBy(tags.get(lb.LoadBalancerArn ?? "") ?? {}, ref));
  if (mine === undefined) {
    if (mode === "ensure") throw conflict(name, "load balancer", ref);
    return undefined;
  }
  const arn = mine.LoadBalancerArn ?? "";
  const attributes = mode === "ensure" ? await client.describeLoadBalancerAttributes(arn, { signal }) : {};
  return toLoadBalancer(mine, tags.get(arn) ?? {}, attributes);
}

/**
 * Every target group of this Service, attached or not: also finds what a delete interrupted after the
 * load balancer was gone, or a failed replacement, left behind. Names narrow the search before tags
 * prove ownership. Lists every target group of the region, so it runs only when deleting.
 */
async function findServiceTargetGroups(
  client: AwsClient,
  ref: LoadBalancerRef,
  signal: AbortSignal | undefined,
): Promise<ActualTargetGroup[]> {
  const prefix = namePrefix({ namespace: ref.service.namespace, name: ref.service.name });
  // Not filtered by LoadBalancerArns: that list lags behind deletions (in emulators, forever), and
  // deleting the Service deletes all of its target groups anyway.
  const candidates = (await client.listTargetGroups({ signal })).filter((tg) => tg.TargetGroupName?.startsWith(prefix));
  if (candidates.length === 0) return [];
  const tags = await client.describeTags(
    candidates.map((tg) => tg.TargetGroupArn ?? ""),
    { signal },
  );
  return candidates
    .map((raw) => toTargetGroup(raw, tags.get(raw.TargetGroupArn ?? "") ?? {}))
    .filter((tg): tg is ActualTargetGroup => tg !== undefined && isOwnedBy(tg.tags, ref));
}

/** Our security group, found by its tags and name (attached or not). */
async function ownedSecurityGroup(
  client: AwsClient,
  ref: LoadBalancerRef,
  vpcId: string | undefined,
  signal: AbortSignal | undefined,
): Promise<ActualSecurityGroup | undefined> {
  const name = securityGroupName({
    clusterName: ref.clusterName,
    namespace: ref.service.namespace,
    name: ref.service.name,
  });
  const groups = await client.describeSecurityGroups(
    [
      { Name: "group-name", Values: [name] },
      { Name: `tag:${clusterTagKey(ref.clusterName)}`, Values: [OWNED] },
      { Name: `tag:${SERVICE_NAME_TAG}`, Values: [`${ref.service.namespace}/${ref.service.name}`] },
    ],
    { signal },
  );
  const mine = groups.map(toSecurityGroup).filter((g) => g !== undefined && isOwnedBy(g.tags, ref));
  return mine.find((g) => g?.vpcId === vpcId) ?? mine[0];
}

function conflict(name: string, kind: string, ref: LoadBalancerRef): ConflictError {
  return new ConflictError(
    name,
    `a ${kind} named ${name} already exists and is not tagged as this Service's ` +
      `(${clusterTagKey(ref.clusterName)}=${OWNED}, ${SERVICE_NAME_TAG}=${ref.service.namespace}/${ref.service.name}); ` +
      "it is left untouched: delete it, or tag it as this Service's to adopt it",
  );
}

function toLoadBalancer(lb: LoadBalancer, tags: Tags, attributes: Tags): ActualLoadBalancer {
  return {
    arn: lb.LoadBalancerArn ?? "",
    name: lb.LoadBalancerName ?? "",
    dnsName: lb.DNSName ?? "",
    scheme: lb.Scheme === "internal" ? "internal" : "internet-facing",
    vpcId: lb.VpcId ?? "",
    securityGroups: lb.SecurityGroups ?? [],
    tags,
    attributes,
  };
}

function toListener(listener: Listener): ActualListener | undefined {
  if (listener.ListenerArn === undefined || listener.Port === undefined) return undefined;
  const forward = listener.DefaultActions?.length === 1 ? listener.DefaultActions[0] : undefined;
  const forwardGroups = forward?.ForwardConfig?.TargetGroups ?? [];
  const targetGroupArn =
    forward?.Type !== "forward"
      ? undefined
      : (forward.TargetGroupArn ?? (forwardGroups.length === 1 ? forwardGroups[0]?.TargetGroupArn : undefined));
  const certificateArn = listener.Certificates?.[0]?.CertificateArn;
  return {
    arn: listener.ListenerArn,
    port: listener.Port,
    protocol: listener.Protocol ?? "",
    ...(targetGroupArn !== undefined && { targetGroupArn }),
    ...(certificateArn !== undefined && { certificateArn }),
    ...(listener.SslPolicy !== undefined && { sslPolicy: listener.SslPolicy }),
  };
}

function toTargetGroup(tg: TargetGroup, tags: Tags): ActualTargetGroup | undefined {
  if (tg.TargetGroupArn === undefined || tg.TargetGroupName === undefined) return undefined;
  return {
    arn: tg.TargetGroupArn,
    name: tg.TargetGroupName,
    protocol: tg.Protocol ?? "",
    port: tg.Port ?? 0,
    targetType: tg.TargetType ?? "instance",
    healthCheck: {
      protocol: tg.HealthCheckProtocol ?? "TCP",
      port: tg.HealthCheckPort ?? "traffic-port",
      ...(tg.HealthCheckPath !== undefined && { path: tg.HealthCheckPath }),
      ...(tg.HealthCheckIntervalSeconds !== undefined && { intervalSeconds: tg.HealthCheckIntervalSeconds }),
      ...(tg.HealthCheckTimeoutSeconds !== undefined && { timeoutSeconds: tg.HealthCheckTimeoutSeconds }),
      ...(tg.HealthyThresholdCount !== undefined && { healthyThreshold: tg.HealthyThresholdCount }),
      ...(tg.UnhealthyThresholdCount !== undefined && { unhealthyThreshold: tg.UnhealthyThresholdCount }),
    },
    tags,
    targets: [],
  };
}

function toTargetHealth(description: TargetHealthDescription): TargetHealth | undefined {
  const id = description.Target?.Id;
  const port = description.Target?.Port;
  if (id === undefined || port === undefined) return undefined;
  return { id, port, state: description.TargetHealth?.State ?? "unknown" };
}

function toSecurityGroup(group: SecurityGroup): (ActualSecurityGroup & { vpcId: string | undefined }) | undefined {
  if (group.GroupId === undefined) return undefined;
  const ingress: IngressRule[] = [];
  for (const permission of group.IpPermissions ?? []) {
    const protocol = permission.IpProtocol;
    if (
      (protocol !== "tcp" && protocol !== "udp") ||
      permission.FromPort === undefined ||
      permission.ToPort === undefined
    )
      continue;
    const cidrs = [
      ...(permission.IpRanges ?? []).map((r) => r.CidrIp),
      ...(permission.Ipv6Ranges ?? []).map((r) => r.CidrIpv6),
    ];
    for (const cidr of cidrs)
      if (cidr !== undefined)
        ingress.push({ protocol, fromPort: permission.FromPort, toPort: permission.ToPort, cidr });
  }
  const tags = fromTagList(group.Tags);
  return { id: group.GroupId, name: group.GroupName ?? "", tags, ingress, vpcId: group.VpcId };
}

function sortTargets(targets: Target[]): Target[] {
  return targets.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.port - b.port));
}
