/**
 * Taking over the NLB the legacy AWS cloud provider built for a Service, in place: same ARN, same DNS
 * name. Pure decisions; `observe.ts` finds the load balancer, the diff and `apply.ts` converge it.
 *
 * The legacy provider names a Service's NLB after its uid ({@link legacyLoadBalancerName}) and tags the
 * NLB, its listeners and its target groups `kubernetes.io/cluster/<cluster>=owned` and
 * `kubernetes.io/service-name=<namespace>/<name>` — the very tags this provider proves ownership with.
 * So adopting is: find the NLB by that name when none has ours, decide from its tags
 * ({@link judgeLegacyLoadBalancer}), add this provider's tags (from then on it is ours, whatever
 * happens next), and let the ordinary diff bring listeners and target groups to this provider's
 * model: its target groups have other names, so each is created and filled, the listener repointed,
 * the legacy one deleted. Repointing waits until the new target group's targets have passed their
 * health checks ({@link holdUnreadyRepoints}), so the port keeps serving throughout.
 *
 * @module
 */
import { isOpenToAll } from "../rules/index.ts";
import type { LoadBalancerRef } from "../types.ts";
import type { Action, ActualState, DesiredState, Tags } from "./state.ts";
import { clusterTagKey, isOwnedBy, OWNED, SERVICE_NAME_TAG, SERVICE_UID_TAG } from "./tags.ts";

/** AWS's limit, which the legacy name is cut to. */
const LEGACY_NAME_LENGTH = 32;

/**
 * The name the legacy cloud provider gives a Service's load balancer: `a` and the uid without its
 * hyphens, cut to 32 characters (`DefaultLoadBalancerName` of k8s.io/cloud-provider).
 */
export function legacyLoadBalancerName(uid: string): string {
  return `a${uid.replaceAll("-", "")}`.slice(0, LEGACY_NAME_LENGTH);
}

/** Whether `name` has the shape of {@link legacyLoadBalancerName}: `a` and 31 hex digits. */
export function isLegacyLoadBalancerName(name: string): boolean {
  return /^a[0-9a-f]{31}$/.test(name);
}

/**
 * What to make of a network load balancer with the Service's legacy name:
 * - `ours`: it carries this provider's uid tag for this Service — adopted before (an adoption
 *   interrupted after tagging included); converged like any of ours, whatever the setting says now;
 * - `adopt`: its tags prove it is this Service's in this cluster, and adoption is on: take it over;
 * - `conflict`: anything else — another cluster's, another Service's, untagged, or adoption is off.
 *   Never modified or deleted.
 */
export type LegacyVerdict =
  | { readonly kind: "ours" }
  | { readonly kind: "adopt" }
  | { readonly kind: "conflict"; readonly reason: string };

export function judgeLegacyLoadBalancer(tags: Tags, ref: LoadBalancerRef, adoptLegacy: boolean): LegacyVerdict {
  const service = `${ref.service.namespace}/${ref.service.name}`;
  if (!isOwnedBy(tags, ref))
    return {
      kind: "conflict",
      reason:
        `it is not tagged as this Service's in this cluster (${clusterTagKey(ref.clusterName)}=${OWNED}, ` +
        `${SERVICE_NAME_TAG}=${service}), so it is not adopted and left untouched; delete it, or fix its tags if it is this Service's`,
    };
  const uid = tags[SERVICE_UID_TAG];
  if (uid !== undefined && uid === ref.service.uid) return { kind: "ours" };
  if (uid !== undefined)
    return {
      kind: "conflict",
      reason: `it carries ${SERVICE_UID_TAG}=${uid}, another Service object's, so it is left untouched; delete it`,
    };
  if (!adoptLegacy)
    return {
      kind: "conflict",
      reason:
        "it was built by the legacy cloud provider for this Service, and adoption is turned off " +
        "(--provider-config adoptLegacy=false), so it is left untouched; turn adoption on, or delete it",
    };
  return { kind: "adopt" };
}

/**
 * The source ranges nothing enforces: those the Service asks for when its load balancer was built
 * without a security group (as the legacy provider builds them) and so cannot get one; whatever admits
 * the clients now (the legacy rules on the nodes' security groups) goes on doing so. Empty when the
 * Service admits everyone or the load balancer has a security group.
 */
export function unenforcedSourceRanges(desired: DesiredState, actual: ActualState): string[] {
  const lb = actual.loadBalancer;
  if (lb === undefined || lb.securityGroups.length > 0 || lb.scheme !== desired.loadBalancer.scheme) return [];
  const cidrs = [...new Set(desired.securityGroup.ingress.map((rule) => rule.cidr))].sort();
  return isOpenToAll(cidrs) ? [] : cidrs;
}

/** What a target group's registered targets report, by target group ARN (`observe.ts`). */
export type HealthStates = ReadonlyMap<string, readonly { readonly id: string; readonly state: string }[]>;

/**
 * On an adopted load balancer (its name is not this provider's), a listener moves to a new target
 * group only once that group holds every target it should, none is still `initial` (a health verdict
 * is on its way), and one is `healthy` — or all are `unused`: AWS health-checks a target group only
 * once a listener uses it (`Target.NotInUse`), and an NLB forwards to one target group per listener,
 * so registered is as far as a target group can get before the switch. Until then the listener keeps
 * forwarding to the target group it has, which is therefore not deleted yet. Returns the plan without
 * the moves that must wait, and the ports that wait.
 *
 * A target group made by this very plan has no registrations to read yet, so an adoption takes two
 * passes at least: the first fills the new target groups, a later one repoints and cleans up.
 */
export function holdUnreadyRepoints(
  actions: readonly Action[],
  desired: DesiredState,
  actual: ActualState,
  health: HealthStates,
): { actions: Action[]; waiting: number[] } {
  const lb = actual.loadBalancer;
  if (lb === undefined || lb.name === desired.loadBalancer.name) return { actions: [...actions], waiting: [] };
  const waiting: number[] = [];
  const keep = new Set<string>();
  for (const action of actions) {
    if (action.kind !== "modifyListener" || !action.changes.includes("targetGroup")) continue;
    const listener = desired.listeners.find((l) => l.port === action.port);
    const wanted = desired.targetGroups.find((tg) => tg.name === listener?.targetGroupName);
    const existing = actual.targetGroups.find((tg) => tg.name === wanted?.name);
    if (wanted !== undefined && existing !== undefined && isReady(wanted.targets, health.get(existing.arn) ?? []))
      continue;
    waiting.push(action.port);
    const current = actual.listeners.find((l) => l.arn === action.arn)?.targetGroupArn;
    if (current !== undefined) keep.add(current);
  }
  if (waiting.length === 0) return { actions: [...actions], waiting };
  const held = new Set(waiting);
  return {
    actions: actions.filter(
      (a) =>
        !(a.kind === "modifyListener" && held.has(a.port) && a.changes.includes("targetGroup")) &&
        !(a.kind === "deleteTargetGroup" && keep.has(a.arn)),
    ),
    waiting,
  };
}

/** See {@link holdUnreadyRepoints}. */
function isReady(wanted: readonly { readonly id: string }[], registered: readonly { id: string; state: string }[]) {
  const states = new Map(registered.map((t) => [t.id, t.state]));
  if (!wanted.every((t) => states.has(t.id))) return false;
  const verdicts = wanted.map((t) => states.get(t.id));
  if (verdicts.includes("initial")) return false;
  return verdicts.includes("healthy") || verdicts.every((state) => state === "unused");
}
