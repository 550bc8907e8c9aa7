/**
 * Reads what exists in AWS for one Service and sorts it by ownership: the load balancer with our name,
 * its listeners, every target group of the Service — those the listeners forward to, those the
 * desired state names, and those the caller knows of that no listener uses (left by a change or delete
 * that failed half-way) — and our security group. Only resources whose tags prove they are this
 * Service's (`tags.ts`) reach the {@link ActualState} the diff works on; anything else with our name is
 * a conflict, never touched.
 *
 * The load balancer's and the target groups' tags are read in one call: listeners and target groups
 * are described first (reading is harmless), ownership is decided before anything is changed.
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
import { judgeLegacyLoadBalancer, legacyLoadBalancerName } from "./adopt.ts";
import type { AwsClient } from "./client.ts";
import { loadBalancerName, securityGroupName } from "./names.ts";
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
 * - `read`: a load balancer that is not ours reads as absent; target health of every listener and the
 *   load balancer's attributes (deletion protection) are read.
 * - `delete`: like `read`, without listeners, target health or attributes; the target groups are those
 *   the caller knows of (`knownTargetGroups`).
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
  /** Owned target groups no listener of our load balancer forwards to (also in `state.targetGroups`). */
  readonly detachedTargetGroups: readonly ActualTargetGroup[];
  /** Targets with health, by target group ARN (draining ones included). */
  readonly health: ReadonlyMap<string, readonly TargetHealth[]>;
}

export interface ObserveOptions {
  readonly mode: ObserveMode;
  /** In `ensure` mode: which target groups to look for by name, and whose attributes to read. */
  readonly desired?: DesiredState;
  /**
   * ARNs of target groups the Service is believed to own besides those its listeners forward to (see
   * `inventory.ts`). Described with the others in the same calls; kept only if their tags agree.
   */
  readonly knownTargetGroups?: readonly string[];
  /**
   * When set (the provider sets it when an inventory listed a load balancer of that name), a Service
   * with a uid and no load balancer of our name is also looked for under the legacy cloud provider's
   * name, and judged by `adopt.ts`: adopted (or already ours) it is the Service's load
   * balancer; otherwise a conflict (`ensure`) or absent (`read`, `delete`).
   */
  readonly legacy?: { readonly adopt: boolean };
  readonly signal?: AbortSignal | undefined;
}

/**
 * Observes in phases, each reading only after the one before has decided what it needs: find the load
 * balancer (under the legacy name too), read its listeners, describe the target groups and every tag
 * in one call, decide ownership, sort the target groups, then read their targets and attributes and
 * the security group together.
 */
export async function observe(client: AwsClient, ref: LoadBalancerRef, options: ObserveOptions): Promise<Observation> {
  const { mode, desired, signal } = options;
  const { lbName, found, legacy } = await findLoadBalancers(client, ref, options);
  // AWS keeps names unique; of an emulator's duplicates, the first network load balancer is read.
  const candidate = found.find((lb) => lb.Type === "network");
  const candidateListeners = await readListeners(client, candidate, mode, signal);
  const forwardedTo = new Set(
    candidateListeners.flatMap((l) => (l.targetGroupArn === undefined ? [] : [l.targetGroupArn])),
  );
  const described = await client.describeTargetGroups([...forwardedTo, ...(options.knownTargetGroups ?? [])], {
    signal,
  });
  const tags = await client.describeTags(
    [...found.map((lb) => lb.LoadBalancerArn ?? ""), ...described.map((tg) => tg.TargetGroupArn ?? "")],
    { signal },
  );

  const { verdict, mine } = decideOwnership(ref, options, { lbName, found, legacy, candidate, tags });
  const ours = mine !== undefined && mine === candidate;
  const listeners = ours ? await withSniCertificates(client, candidateListeners, mode, desired, signal) : [];
  const lb = await readLoadBalancer(client, mine, tags, mode, signal);

  const wantedNames = new Set(desired?.targetGroups.map((tg) => tg.name) ?? []);
  const { listenerTargetGroups, owned } = sortTargetGroups(ref, mode, described, tags, {
    ours,
    forwardedTo,
    wantedNames,
    // What a load balancer that is not ours uses is not ours to clean up either, tags or not.
    skip: (raw) =>
      verdict?.kind === "conflict" && (forwardedTo.has(raw.TargetGroupArn ?? "") || usedBy(raw, candidate)),
  });
  if (mode === "ensure") await findWantedTargetGroups(client, ref, wantedNames, owned, signal);
  const detachedTargetGroups = [...owned.values()].filter((tg) => !ours || !forwardedTo.has(tg.arn));

  const [securityGroup, { health, groupAttributes }] = await Promise.all([
    ownedSecurityGroup(client, ref, lb?.vpcId, signal),
    readTargetDetail(client, options, { owned, wantedNames, listenerTargetGroups }),
  ]);
  const state: ActualState = {
    ...(lb !== undefined && { loadBalancer: lb }),
    listeners,
    targetGroups: withTargets(owned, health, groupAttributes),
    ...(securityGroup !== undefined && { securityGroup }),
    ...(verdict?.kind === "adopt" && lb !== undefined && { adopt: true as const }),
  };
  return { state, listenerTargetGroups, detachedTargetGroups, health };
}

/** Our load balancer as the diff sees it, with its attributes unless deleting. */
async function readLoadBalancer(
  client: AwsClient,
  mine: LoadBalancer | undefined,
  tags: ReadonlyMap<string, Tags>,
  mode: ObserveMode,
  signal: AbortSignal | undefined,
): Promise<ActualLoadBalancer | undefined> {
  if (mine === undefined) return undefined;
  const attributes =
    mode !== "delete" ? await client.describeLoadBalancerAttributes(mine.LoadBalancerArn ?? "", { signal }) : {};
  return toLoadBalancer(mine, tags.get(mine.LoadBalancerArn ?? "") ?? {}, attributes);
}

/** Adds to `owned` each wanted target group that exists under its name but no listener showed. */
async function findWantedTargetGroups(
  client: AwsClient,
  ref: LoadBalancerRef,
  wantedNames: ReadonlySet<string>,
  owned: Map<string, ActualTargetGroup>,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const name of wantedNames) {
    if (owned.has(name)) continue;
    const tg = await findOwnedTargetGroup(client, ref, name, signal);
    if (tg !== undefined) owned.set(name, tg);
  }
}

/**
 * Targets with health of what the diff converges (`ensure`) or of everything a listener shows (`read`),
 * and in `ensure` mode the attributes of the target groups the desired state sets some on.
 */
async function readTargetDetail(
  client: AwsClient,
  options: ObserveOptions,
  groups: {
    readonly owned: ReadonlyMap<string, ActualTargetGroup>;
    readonly wantedNames: ReadonlySet<string>;
    readonly listenerTargetGroups: ReadonlyMap<string, ActualTargetGroup>;
  },
): Promise<{ health: Map<string, TargetHealth[]>; groupAttributes: Map<string, Tags> }> {
  const { mode, desired, signal } = options;
  const owned = [...groups.owned.values()];
  const healthOf =
    mode === "ensure"
      ? owned.filter((tg) => groups.wantedNames.has(tg.name))
      : mode === "read"
        ? [...groups.listenerTargetGroups.values()]
        : [];
  const withAttributes = new Set(
    desired?.targetGroups.filter((tg) => Object.keys(tg.attributes).length > 0).map((tg) => tg.name) ?? [],
  );
  const attributesOf = mode === "ensure" ? owned.filter((tg) => withAttributes.has(tg.name)) : [];
  const [health, groupAttributes] = await Promise.all([
    readTargetHealth(client, healthOf, signal),
    readTargetGroupAttributes(client, attributesOf, signal),
  ]);
  return { health, groupAttributes };
}

/** The owned target groups with their registered targets (draining ones left out) and attributes read. */
function withTargets(
  owned: ReadonlyMap<string, ActualTargetGroup>,
  health: ReadonlyMap<string, readonly TargetHealth[]>,
  groupAttributes: ReadonlyMap<string, Tags>,
): ActualTargetGroup[] {
  return [...owned.values()].map((tg): ActualTargetGroup => {
    const registered = (health.get(tg.arn) ?? [])
      .filter((t) => t.state !== "draining")
      .map(({ id, port }) => ({ id, port }));
    const attrs = groupAttributes.get(tg.name);
    return { ...tg, targets: sortTargets(registered), ...(attrs !== undefined && { attributes: attrs }) };
  });
}

/**
 * The load balancers with our name; when there is no network one and `options.legacy` is set, those
 * with the legacy cloud provider's name for the Service (then `legacy` is true).
 */
async function findLoadBalancers(
  client: AwsClient,
  ref: LoadBalancerRef,
  options: ObserveOptions,
): Promise<{ lbName: string; found: LoadBalancer[]; legacy: boolean }> {
  const { signal } = options;
  const lbName = loadBalancerName(scopeOf(ref));
  const found = await client.findLoadBalancers(lbName, { signal });
  const uid = ref.service.uid;
  if (options.legacy === undefined || uid === undefined || uid === "" || found.some((lb) => lb.Type === "network"))
    return { lbName, found, legacy: false };
  const legacyName = legacyLoadBalancerName(uid);
  const legacyFound = (await client.findLoadBalancers(legacyName, { signal })).filter((lb) => lb.Type === "network");
  return legacyFound.length > 0
    ? { lbName: legacyName, found: legacyFound, legacy: true }
    : { lbName, found, legacy: false };
}

/** The listeners of `candidate`; none in `delete` mode, since AWS deletes them with the load balancer. */
async function readListeners(
  client: AwsClient,
  candidate: LoadBalancer | undefined,
  mode: ObserveMode,
  signal: AbortSignal | undefined,
): Promise<ActualListener[]> {
  if (candidate?.LoadBalancerArn === undefined || mode === "delete") return [];
  return (await client.describeListeners(candidate.LoadBalancerArn, { signal }))
    .map(toListener)
    .filter((l): l is ActualListener => l !== undefined);
}

/**
 * Which load balancer is the Service's (`mine`), and for one found under the legacy name, the adoption
 * verdict. In `ensure` mode a load balancer with our name that is not ours is a conflict.
 */
function decideOwnership(
  ref: LoadBalancerRef,
  options: ObserveOptions,
  seen: {
    readonly lbName: string;
    readonly found: readonly LoadBalancer[];
    readonly legacy: boolean;
    readonly candidate: LoadBalancer | undefined;
    readonly tags: ReadonlyMap<string, Tags>;
  },
): { verdict: ReturnType<typeof judgeLegacyLoadBalancer> | undefined; mine: LoadBalancer | undefined } {
  const { lbName, found, legacy, candidate, tags } = seen;
  const verdict =
    legacy && candidate !== undefined
      ? judgeLegacyLoadBalancer(tags.get(candidate.LoadBalancerArn ?? "") ?? {}, ref, options.legacy?.adopt ?? false)
      : undefined;
  if (verdict?.kind === "conflict" && options.mode === "ensure")
    throw new ConflictError(
      lbName,
      `the load balancer ${lbName} has this Service's legacy name, but ${verdict.reason}`,
    );
  const mine =
    verdict?.kind === "conflict"
      ? undefined
      : found.find((lb) => lb.Type === "network" && isOwnedBy(tags.get(lb.LoadBalancerArn ?? "") ?? {}, ref));
  if (mine === undefined && found.length > 0 && options.mode === "ensure") throw conflict(lbName, "load balancer", ref);
  return { verdict, mine };
}

/**
 * The described target groups sorted: those our listeners forward to (by ARN), and those whose tags
 * say they are the Service's (by name). In `ensure` mode, a wanted name held by someone else's target
 * group is a conflict.
 */
function sortTargetGroups(
  ref: LoadBalancerRef,
  mode: ObserveMode,
  described: readonly TargetGroup[],
  tags: ReadonlyMap<string, Tags>,
  how: {
    readonly ours: boolean;
    readonly forwardedTo: ReadonlySet<string>;
    readonly wantedNames: ReadonlySet<string>;
    readonly skip: (raw: TargetGroup) => boolean;
  },
): { listenerTargetGroups: Map<string, ActualTargetGroup>; owned: Map<string, ActualTargetGroup> } {
  const listenerTargetGroups = new Map<string, ActualTargetGroup>();
  const owned = new Map<string, ActualTargetGroup>();
  for (const raw of described) {
    if (how.skip(raw)) continue;
    const tg = toTargetGroup(raw, tags.get(raw.TargetGroupArn ?? "") ?? {});
    if (tg === undefined) continue;
    if (how.ours && how.forwardedTo.has(tg.arn)) listenerTargetGroups.set(tg.arn, tg);
    if (isOwnedBy(tg.tags, ref)) owned.set(tg.name, tg);
    else if (mode === "ensure" && how.wantedNames.has(tg.name)) throw conflict(tg.name, "target group", ref);
  }
  return { listenerTargetGroups, owned };
}

/** The targets of each target group with the health AWS reports, by target group ARN. */
async function readTargetHealth(
  client: AwsClient,
  targetGroups: readonly ActualTargetGroup[],
  signal: AbortSignal | undefined,
): Promise<Map<string, TargetHealth[]>> {
  const health = new Map<string, TargetHealth[]>();
  await Promise.all(
    targetGroups.map(async (tg) => {
      const described = await client.describeTargetHealth(tg.arn, { signal });
      health.set(
        tg.arn,
        described.map(toTargetHealth).filter((t): t is TargetHealth => t !== undefined),
      );
    }),
  );
  return health;
}

/** The attributes of each target group, by target group name. */
async function readTargetGroupAttributes(
  client: AwsClient,
  targetGroups: readonly ActualTargetGroup[],
  signal: AbortSignal | undefined,
): Promise<Map<string, Tags>> {
  const attributes = new Map<string, Tags>();
  await Promise.all(
    targetGroups.map(async (tg) =>
      attributes.set(tg.name, await client.describeTargetGroupAttributes(tg.arn, { signal })),
    ),
  );
  return attributes;
}

/** Whether AWS reports `tg` in use by `lb` (a listener of it forwards there). */
function usedBy(tg: TargetGroup, lb: LoadBalancer | undefined): boolean {
  return lb?.LoadBalancerArn !== undefined && (tg.LoadBalancerArns ?? []).includes(lb.LoadBalancerArn);
}

function scopeOf(ref: LoadBalancerRef) {
  return { clusterName: ref.clusterName, namespace: ref.service.namespace, name: ref.service.name };
}

/**
 * In `ensure` mode, the SNI certificates of each TLS listener the desired state keeps TLS: the only
 * listeners whose certificates besides the default the diff converges.
 */
async function withSniCertificates(
  client: AwsClient,
  listeners: readonly ActualListener[],
  mode: ObserveMode,
  desired: DesiredState | undefined,
  signal: AbortSignal | undefined,
): Promise<ActualListener[]> {
  const wantsTls = new Set(desired?.listeners.filter((l) => l.protocol === "TLS").map((l) => l.port) ?? []);
  return Promise.all(
    listeners.map(async (listener) => {
      if (mode !== "ensure" || listener.protocol !== "TLS" || !wantsTls.has(listener.port)) return listener;
      const sni = await client.describeListenerCertificates(listener.arn, { signal });
      return { ...listener, sniCertificateArns: sni.sort() };
    }),
  );
}

/** The target group named `name` if it is `ref`'s; a conflict if it is someone else's. */
async function findOwnedTargetGroup(
  client: AwsClient,
  ref: LoadBalancerRef,
  name: string,
  signal: AbortSignal | undefined,
): Promise<ActualTargetGroup | undefined> {
  const raw = await client.findTargetGroup(name, { signal });
  if (raw?.TargetGroupArn === undefined) return undefined;
  const tags = (await client.describeTags([raw.TargetGroupArn], { signal })).get(raw.TargetGroupArn) ?? {};
  const tg = toTargetGroup(raw, tags);
  if (tg === undefined) return undefined;
  if (!isOwnedBy(tg.tags, ref)) throw conflict(tg.name, "target group", ref);
  return tg;
}

/** Our security group, found by its tags and name (attached or not). */
async function ownedSecurityGroup(
  client: AwsClient,
  ref: LoadBalancerRef,
  vpcId: string | undefined,
  signal: AbortSignal | undefined,
): Promise<ActualSecurityGroup | undefined> {
  const groups = await client.describeSecurityGroups(
    [
      { Name: "group-name", Values: [securityGroupName(scopeOf(ref))] },
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

/** The SDK's shapes as the provider reasons with them (also for what an inventory listed). */
export function toLoadBalancer(lb: LoadBalancer, tags: Tags, attributes: Tags): ActualLoadBalancer {
  return {
    arn: lb.LoadBalancerArn ?? "",
    name: lb.LoadBalancerName ?? "",
    dnsName: lb.DNSName ?? "",
    scheme: lb.Scheme === "internal" ? "internal" : "internet-facing",
    // An NLB is ipv4 or dualstack; any other answer (an ALB's dualstack-without-public-ipv4) is not ours.
    ipAddressType: lb.IpAddressType === "dualstack" ? "dualstack" : "ipv4",
    subnetIds: (lb.AvailabilityZones ?? []).flatMap((zone) => (zone.SubnetId === undefined ? [] : [zone.SubnetId])),
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
  const alpnPolicy = listener.AlpnPolicy?.[0];
  return {
    arn: listener.ListenerArn,
    port: listener.Port,
    protocol: listener.Protocol ?? "",
    ...(targetGroupArn !== undefined && { targetGroupArn }),
    ...(certificateArn !== undefined && { certificateArn }),
    ...(listener.SslPolicy !== undefined && { sslPolicy: listener.SslPolicy }),
    ...(alpnPolicy !== undefined && { alpnPolicy }),
  };
}

export function toTargetGroup(tg: TargetGroup, tags: Tags): ActualTargetGroup | undefined {
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
      ...(tg.Matcher?.HttpCode !== undefined && { successCodes: tg.Matcher.HttpCode }),
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

export function toSecurityGroup(
  group: SecurityGroup,
): (ActualSecurityGroup & { vpcId: string | undefined }) | undefined {
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
