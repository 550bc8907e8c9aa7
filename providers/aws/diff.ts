/**
 * The pure expected-vs-actual diff: which AWS calls turn the actual state of a Service's load balancer
 * into the desired one, in an order that keeps traffic flowing.
 *
 * Order, and why:
 * 1. Security group first (the load balancer is created with it attached); new rules are authorized
 *    before stale ones are revoked, so changing source ranges never closes the door in between.
 * 2. Load balancer: created when missing; replaced (listeners, then itself) only when the scheme changes,
 *    which AWS cannot do in place. Attributes and tags converge in place, and so does `IpAddressType`:
 *    to `dualstack` here, before any IPv6 target group is made (AWS allows those only behind a dualstack
 *    load balancer); to `ipv4` at the very end, once no IPv6 target group is attached any more.
 * 3. Target groups, each fully converged (health check, attributes, tags, targets) before any listener
 *    points at it. Targets: deregister before register, so an instance replacement works even at the
 *    targets-per-load-balancer quota (cloud-provider-aws#1328); at most {@link TARGETS_PER_CALL} a call.
 * 4. Listeners: stale ones deleted, changed ones modified (repointed), missing ones created.
 * 5. Target groups nothing points at any more deleted last — after their listeners moved away. A target
 *    group whose immutable fields changed has a new name, so it is replaced by steps 3–5 without
 *    touching any other port.
 *
 * An unchanged Service yields no action at all.
 *
 * @module
 */
import { ConflictError } from "../errors.ts";
import { NLB_DEFAULT_ATTRIBUTES, TARGET_GROUP_DEFAULT_ATTRIBUTES } from "./model.ts";
import {
  type Action,
  type ActualHealthCheck,
  type ActualListener,
  type ActualLoadBalancer,
  type ActualState,
  type ActualTargetGroup,
  type DesiredListener,
  type DesiredState,
  type DesiredTargetGroup,
  type HealthCheck,
  type IngressRule,
  ingressRuleKey,
  type ListenerChange,
  type Tags,
  type Target,
} from "./state.ts";
import { missingTags } from "./tags.ts";

/** Targets per RegisterTargets/DeregisterTargets call (the AWS Load Balancer Controller's chunk size). */
export const TARGETS_PER_CALL = 200;

/** Protocols a listener can switch between in place; any other change deletes and recreates it. */
const MODIFIABLE_PROTOCOLS: ReadonlySet<string> = new Set(["TCP", "TLS"]);

/**
 * The actions, in order. Throws {@link ConflictError} when the scheme changes but the load balancer to
 * replace has deletion protection on (and the Service does not switch it off).
 */
export function planActions(desired: DesiredState, actual: ActualState): Action[] {
  const sg = actual.securityGroup;
  // AWS cannot give security groups to an NLB created without any (as the legacy provider makes them).
  const kept = actual.loadBalancer?.scheme === desired.loadBalancer.scheme ? actual.loadBalancer : undefined;
  const groups: GroupSituation = {
    withoutGroups: kept !== undefined && kept.securityGroups.length === 0,
    ownGroups: desired.loadBalancer.securityGroups,
    sg,
  };
  const actions: Action[] = [...adoptActions(desired, actual), ...securityGroupActions(desired, groups)];

  // A scheme AWS cannot change in place: the load balancer is replaced, and its listeners with it.
  const replaced = actual.loadBalancer !== undefined && actual.loadBalancer.scheme !== desired.loadBalancer.scheme;
  if (replaced) actions.push(...replacementActions(desired, actual));
  const lb = replaced ? undefined : actual.loadBalancer;
  const listeners: readonly ActualListener[] = replaced ? [] : actual.listeners;
  actions.push(...loadBalancerActions(desired, actual, lb, groups));

  // To dualstack before anything uses IPv6; back to ipv4 last, once nothing does.
  const addressType = addressTypeChange(desired, lb);
  if (addressType === "dualstack") actions.push({ kind: "setIpAddressType", ipAddressType: addressType });
  const attributes = changedAttributes(desired.loadBalancer.attributes, lb?.attributes ?? {}, NLB_DEFAULT_ATTRIBUTES);
  if (Object.keys(attributes).length > 0) actions.push({ kind: "modifyLoadBalancerAttributes", attributes });

  const actualGroups = new Map(actual.targetGroups.map((tg) => [tg.name, tg]));
  for (const tg of desired.targetGroups) actions.push(...targetGroupActions(tg, actualGroups.get(tg.name)));
  actions.push(...listenerActions(desired, listeners, actualGroups));

  actions.push(...cleanupActions(desired, actual, groups));
  if (addressType === "ipv4") actions.push({ kind: "setIpAddressType", ipAddressType: addressType });
  return actions;
}

/** The address type the kept load balancer `lb` changes to, if any. */
function addressTypeChange(
  desired: DesiredState,
  lb: ActualState["loadBalancer"],
): DesiredState["loadBalancer"]["ipAddressType"] | undefined {
  const wanted = desired.loadBalancer.ipAddressType;
  return lb !== undefined && (lb.ipAddressType ?? "ipv4") !== wanted ? wanted : undefined;
}

/** Target groups no listener wants any more; the managed security group once the Service brings its own. */
function cleanupActions(desired: DesiredState, actual: ActualState, groups: GroupSituation): Action[] {
  const actions: Action[] = [];
  const wantedGroups = new Set(desired.targetGroups.map((tg) => tg.name));
  for (const tg of actual.targetGroups)
    if (!wantedGroups.has(tg.name)) actions.push({ kind: "deleteTargetGroup", arn: tg.arn, name: tg.name });
  // Detached from the load balancer above, deleted last.
  if (groups.ownGroups !== undefined && !groups.withoutGroups && groups.sg !== undefined)
    actions.push({ kind: "deleteSecurityGroup", id: groups.sg.id });
  return actions;
}

/** What decides the security group actions: an NLB without groups, the Service's own groups, the managed one. */
interface GroupSituation {
  readonly withoutGroups: boolean;
  readonly ownGroups: DesiredState["loadBalancer"]["securityGroups"];
  readonly sg: ActualState["securityGroup"];
}

/** Adopting is the first step: once the load balancer carries our tags it is ours (`adopt.ts`). */
function adoptActions(desired: DesiredState, actual: ActualState): Action[] {
  if (actual.adopt !== true || actual.loadBalancer === undefined) return [];
  return [
    {
      kind: "adoptLoadBalancer",
      arn: actual.loadBalancer.arn,
      name: actual.loadBalancer.name,
      tags: missingTags(desired.loadBalancer.tags, actual.loadBalancer.tags),
    },
  ];
}

/** The managed security group and its rules. */
function securityGroupActions(desired: DesiredState, { withoutGroups, ownGroups, sg }: GroupSituation): Action[] {
  // Nothing to attach a security group to (source ranges stay with whatever admits the traffic now),
  // or the Service brings its own: no managed group, no rules.
  if (withoutGroups || ownGroups !== undefined) return [];
  if (sg === undefined) {
    const rules = desired.securityGroup.ingress;
    return [
      { kind: "createSecurityGroup" },
      ...(rules.length > 0 ? [{ kind: "authorizeIngress", rules } as const] : []),
    ];
  }
  const { add, remove } = diffIngress(desired.securityGroup.ingress, sg.ingress);
  return [
    ...(add.length > 0 ? [{ kind: "authorizeIngress", rules: add } as const] : []),
    ...(remove.length > 0 ? [{ kind: "revokeIngress", rules: remove } as const] : []),
  ];
}

/** Deletes the listeners and the load balancer whose scheme AWS cannot change in place. */
function replacementActions(desired: DesiredState, actual: ActualState): Action[] {
  const lb = actual.loadBalancer;
  if (lb === undefined) return [];
  return [
    ...releaseProtection(desired, lb),
    ...actual.listeners.map((listener): Action => ({ kind: "deleteListener", arn: listener.arn, port: listener.port })),
    {
      kind: "deleteLoadBalancer",
      arn: lb.arn,
      reason: `scheme changes from ${lb.scheme} to ${desired.loadBalancer.scheme}, which AWS cannot change in place`,
    },
  ];
}

/** Creates the load balancer, or brings the kept one's security groups and tags up to date. */
function loadBalancerActions(
  desired: DesiredState,
  actual: ActualState,
  lb: ActualState["loadBalancer"],
  { withoutGroups, ownGroups, sg }: GroupSituation,
): Action[] {
  if (lb === undefined) return [{ kind: "createLoadBalancer" }];
  const actions: Action[] = [];
  if (withoutGroups) {
    // AWS cannot give security groups to a load balancer created without any.
  } else if (ownGroups !== undefined) {
    if (!sameMembers(ownGroups, lb.securityGroups))
      actions.push({ kind: "setSecurityGroups", securityGroups: ownGroups });
  } else if (sg === undefined || !lb.securityGroups.includes(sg.id))
    actions.push({ kind: "setSecurityGroups", securityGroups: "owned" });
  const tags = missingTags(desired.loadBalancer.tags, lb.tags);
  if (actual.adopt !== true && Object.keys(tags).length > 0) actions.push({ kind: "tagLoadBalancer", tags });
  return actions;
}

/** Creates `tg` with its attributes and targets, or converges the existing `current` to it. */
function targetGroupActions(tg: DesiredTargetGroup, current: ActualTargetGroup | undefined): Action[] {
  const actions: Action[] = [];
  if (current === undefined) {
    actions.push({ kind: "createTargetGroup", name: tg.name });
    const attributes = changedAttributes(tg.attributes, {}, TARGET_GROUP_DEFAULT_ATTRIBUTES);
    if (Object.keys(attributes).length > 0)
      actions.push({ kind: "modifyTargetGroupAttributes", name: tg.name, attributes });
    for (const chunk of chunks(tg.targets)) actions.push({ kind: "registerTargets", name: tg.name, targets: chunk });
    return actions;
  }
  if (healthCheckDiffers(tg.healthCheck, current.healthCheck))
    actions.push({ kind: "modifyTargetGroup", name: tg.name });
  if (current.attributes !== undefined) {
    const changed = changedAttributes(tg.attributes, current.attributes, {});
    if (Object.keys(changed).length > 0)
      actions.push({ kind: "modifyTargetGroupAttributes", name: tg.name, attributes: changed });
  }
  const tags = missingTags(tg.tags, current.tags);
  if (Object.keys(tags).length > 0) actions.push({ kind: "tagTargetGroup", name: tg.name, tags });
  const { register, deregister } = diffTargets(tg.targets, current.targets);
  for (const chunk of chunks(deregister)) actions.push({ kind: "deregisterTargets", name: tg.name, targets: chunk });
  for (const chunk of chunks(register)) actions.push({ kind: "registerTargets", name: tg.name, targets: chunk });
  return actions;
}

/** Listener actions, deletes first, then modifies, then creates. */
function listenerActions(
  desired: DesiredState,
  listeners: readonly ActualListener[],
  actualGroups: ReadonlyMap<string, ActualTargetGroup>,
): Action[] {
  const deletes: Action[] = [];
  const modifies: Action[] = [];
  const creates: Action[] = [];
  const wantedPorts = new Set(desired.listeners.map((l) => l.port));
  for (const listener of listeners)
    if (!wantedPorts.has(listener.port))
      deletes.push({ kind: "deleteListener", arn: listener.arn, port: listener.port });
  for (const listener of desired.listeners) {
    const current = listeners.find((l) => l.port === listener.port);
    if (current === undefined) {
      creates.push({ kind: "createListener", port: listener.port }, ...sniChanges(listener, []));
      continue;
    }
    const changes = listenerChanges(listener, current, actualGroups.get(listener.targetGroupName)?.arn);
    if (
      changes.includes("protocol") &&
      !(MODIFIABLE_PROTOCOLS.has(current.protocol) && MODIFIABLE_PROTOCOLS.has(listener.protocol))
    ) {
      deletes.push({ kind: "deleteListener", arn: current.arn, port: current.port });
      creates.push({ kind: "createListener", port: listener.port }, ...sniChanges(listener, []));
      continue;
    }
    if (changes.length > 0) modifies.push({ kind: "modifyListener", arn: current.arn, port: listener.port, changes });
    // Unread (not TLS before): a listener turning TLS has no certificate but its default yet.
    modifies.push(...sniChanges(listener, current.sniCertificateArns ?? []));
  }
  return [...deletes, ...modifies, ...creates];
}

/**
 * Before a load balancer is replaced: AWS would refuse to delete it while its deletion protection is
 * on, after its listeners were already gone. Switched off first when the Service now asks for that;
 * otherwise nothing is changed and the Service is told how to proceed.
 */
function releaseProtection(desired: DesiredState, lb: ActualLoadBalancer): Action[] {
  if (lb.attributes[PROTECTION] !== "true") return [];
  if (desired.loadBalancer.attributes[PROTECTION] === "false")
    return [{ kind: "modifyLoadBalancerAttributes", attributes: { [PROTECTION]: "false" } }];
  throw new ConflictError(
    lb.arn,
    `the scheme changes from ${lb.scheme} to ${desired.loadBalancer.scheme}, which needs a new load balancer, ` +
      `but ${lb.arn} has deletion protection on, so nothing is changed; switch it off ` +
      `(${PROTECTION}=false in service.beta.kubernetes.io/aws-load-balancer-attributes, or with ` +
      `aws elbv2 modify-load-balancer-attributes --load-balancer-arn ${lb.arn} --attributes Key=${PROTECTION},Value=false) ` +
      "and it is replaced at the next retry",
  );
}

const PROTECTION = "deletion_protection.enabled";

/** Rules to authorize and to revoke. */
export function diffIngress(
  desired: readonly IngressRule[],
  actual: readonly IngressRule[],
): { add: IngressRule[]; remove: IngressRule[] } {
  const want = new Set(desired.map(ingressRuleKey));
  const have = new Set(actual.map(ingressRuleKey));
  return {
    add: desired.filter((rule) => !have.has(ingressRuleKey(rule))),
    remove: actual.filter((rule) => !want.has(ingressRuleKey(rule))),
  };
}

/** Targets to register and to deregister, each sorted by id then port. */
export function diffTargets(
  desired: readonly Target[],
  actual: readonly Target[],
): { register: Target[]; deregister: Target[] } {
  const key = (t: Target) => `${t.id}:${t.port}`;
  const want = new Set(desired.map(key));
  const have = new Set(actual.map(key));
  const byId = (a: Target, b: Target) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.port - b.port);
  return {
    register: desired.filter((t) => !have.has(key(t))).sort(byId),
    deregister: actual.filter((t) => !want.has(key(t))).sort(byId),
  };
}

/** Whether the mutable health check settings differ. Settings AWS does not report count as equal. */
export function healthCheckDiffers(desired: HealthCheck, actual: ActualHealthCheck): boolean {
  if (actual.protocol !== desired.protocol || actual.port !== String(desired.port)) return true;
  if (desired.protocol !== "TCP" && (actual.path ?? "/") !== (desired.path ?? "/")) return true;
  if (desired.successCodes !== undefined && actual.successCodes !== desired.successCodes) return true;
  const differs = (want: number | undefined, have: number | undefined) =>
    want !== undefined && have !== undefined && want !== have;
  return (
    differs(desired.intervalSeconds, actual.intervalSeconds) ||
    differs(desired.timeoutSeconds, actual.timeoutSeconds) ||
    differs(desired.healthyThreshold, actual.healthyThreshold) ||
    differs(desired.unhealthyThreshold, actual.unhealthyThreshold)
  );
}

function listenerChanges(
  desired: DesiredListener,
  actual: ActualListener,
  targetGroupArn: string | undefined,
): ListenerChange[] {
  const changes: ListenerChange[] = [];
  if (actual.protocol !== desired.protocol) changes.push("protocol");
  if (targetGroupArn === undefined || actual.targetGroupArn !== targetGroupArn) changes.push("targetGroup");
  if (desired.protocol === "TLS") {
    if (actual.certificateArn !== desired.certificateArn) changes.push("certificate");
    // Without a policy annotation, whatever policy AWS applied by default is accepted.
    if (desired.sslPolicy !== undefined && actual.sslPolicy !== desired.sslPolicy) changes.push("sslPolicy");
    if (desired.alpnPolicy !== undefined && actual.alpnPolicy !== desired.alpnPolicy) changes.push("alpnPolicy");
  }
  return changes;
}

/** The SNI certificates to add to and remove from a TLS listener that has `actual` besides its default. */
function sniChanges(desired: DesiredListener, actual: readonly string[]): Action[] {
  const want = desired.protocol === "TLS" ? (desired.sniCertificateArns ?? []) : [];
  const add = want.filter((arn) => !actual.includes(arn));
  const remove = actual.filter((arn) => !want.includes(arn) && arn !== desired.certificateArn);
  return [
    ...(add.length > 0 ? [{ kind: "addListenerCertificates" as const, port: desired.port, certificateArns: add }] : []),
    ...(remove.length > 0
      ? [{ kind: "removeListenerCertificates" as const, port: desired.port, certificateArns: remove }]
      : []),
  ];
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Desired attributes whose actual value (or, when unreported, the default) differs. */
function changedAttributes(desired: Tags, actual: Tags, defaults: Tags): Record<string, string> {
  const changed: Record<string, string> = {};
  for (const [key, value] of Object.entries(desired))
    if ((actual[key] ?? defaults[key]) !== value) changed[key] = value;
  return changed;
}

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += TARGETS_PER_CALL) result.push(items.slice(i, i + TARGETS_PER_CALL));
  return result;
}
