/**
 * Pure: what the provider knows of a Service's resources between reconciles, and the views a
 * reconcile builds from it instead of reading everything again.
 *
 * - {@link convergedState}: after a plan ran without error, AWS holds the desired state; this is it,
 *   with the ARNs the plan found or made. Kept as the Service's record (`records.ts`).
 * - {@link resyncView}: the record with what an inventory (`inventory.ts`) saw since: the load balancer,
 *   target groups (with their health checks) and security group (with its rules) come from the
 *   inventory; listeners, targets and attributes, which no listing call shows, from the record.
 *
 * @module
 */
import type { SecurityGroup } from "@aws-sdk/client-ec2";
import type { LoadBalancer, TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { LoadBalancerRef } from "../types.ts";
import type { ServiceResources } from "./inventory.ts";
import { toLoadBalancer, toSecurityGroup, toTargetGroup } from "./observe.ts";
import type {
  Action,
  ActualHealthCheck,
  ActualListener,
  ActualState,
  ActualTargetGroup,
  DesiredState,
  HealthCheck,
  Tags,
} from "./state.ts";
import { isOwnedBy } from "./tags.ts";

/** The resources a plan ended with (what `apply.ts` reports), by what identifies them in the desired state. */
export interface AppliedResources {
  readonly loadBalancer: {
    readonly arn: string;
    readonly dnsName: string;
    readonly vpcId: string;
    readonly subnetIds?: readonly string[];
  };
  /** Security groups attached to the load balancer. */
  readonly attachedSecurityGroups: readonly string[];
  readonly securityGroupId: string | undefined;
  /** By target group name. */
  readonly targetGroupArns: ReadonlyMap<string, string>;
  /** By listener port. */
  readonly listenerArns: ReadonlyMap<number, string>;
}

/** A target group as recorded: its targets as ids (all on its port), shared between target groups alike. */
export type RecordedTargetGroup = Omit<ActualTargetGroup, "targets"> & { readonly targetIds: readonly string[] };

/** A Service's resources as recorded between reconciles. */
export type RecordedState = Omit<ActualState, "targetGroups"> & {
  readonly targetGroups: readonly RecordedTargetGroup[];
};

/** What nothing-to-do leaves: the resources of `state` as they are. */
export function appliedAsIs(state: ActualState): AppliedResources | undefined {
  const lb = state.loadBalancer;
  if (lb === undefined) return undefined;
  return {
    loadBalancer: {
      arn: lb.arn,
      dnsName: lb.dnsName,
      vpcId: lb.vpcId,
      ...(lb.subnetIds !== undefined && { subnetIds: lb.subnetIds }),
    },
    attachedSecurityGroups: lb.securityGroups,
    securityGroupId: state.securityGroup?.id,
    targetGroupArns: new Map(state.targetGroups.map((tg) => [tg.name, tg.arn])),
    listenerArns: new Map(state.listeners.map((l) => [l.port, l.arn])),
  };
}

/**
 * The state AWS holds after a plan for `desired` ran without error from `before`: exactly the desired
 * state, with tags and attributes AWS had beyond it kept, and the ARNs from `applied`.
 */
export function convergedState(
  desired: DesiredState,
  before: ActualState,
  applied: AppliedResources,
  internIds: (ids: readonly string[]) => readonly string[] = (ids) => ids,
): RecordedState {
  const lbBefore = before.loadBalancer?.arn === applied.loadBalancer.arn ? before.loadBalancer : undefined;
  const groupsBefore = new Map(before.targetGroups.map((tg) => [tg.arn, tg]));
  const listenersBefore = new Map(before.listeners.map((l) => [l.arn, l]));
  const targetGroups = desired.targetGroups.map((tg): RecordedTargetGroup => {
    const arn = applied.targetGroupArns.get(tg.name) ?? "";
    const previous = groupsBefore.get(arn);
    const attributes =
      Object.keys(tg.attributes).length === 0 ? previous?.attributes : { ...previous?.attributes, ...tg.attributes };
    return {
      arn,
      name: tg.name,
      protocol: tg.protocol,
      port: tg.port,
      targetType: tg.targetType,
      healthCheck: recordedHealthCheck(tg.healthCheck),
      tags: { ...previous?.tags, ...tg.tags },
      ...(attributes !== undefined && { attributes }),
      targetIds: internIds(tg.targets.map((t) => t.id)),
    };
  });
  const listeners = desired.listeners.map((l): ActualListener => {
    const arn = applied.listenerArns.get(l.port) ?? "";
    const sslPolicy = l.sslPolicy ?? listenersBefore.get(arn)?.sslPolicy;
    const alpnPolicy = l.alpnPolicy ?? listenersBefore.get(arn)?.alpnPolicy;
    const targetGroupArn = applied.targetGroupArns.get(l.targetGroupName);
    return {
      arn,
      port: l.port,
      protocol: l.protocol,
      ...(targetGroupArn !== undefined && { targetGroupArn }),
      ...(l.certificateArn !== undefined && { certificateArn: l.certificateArn }),
      ...(l.sniCertificateArns !== undefined && { sniCertificateArns: l.sniCertificateArns }),
      ...(sslPolicy !== undefined && { sslPolicy }),
      ...(alpnPolicy !== undefined && { alpnPolicy }),
    };
  });
  const { securityGroupId } = applied;
  return {
    loadBalancer: {
      ...applied.loadBalancer,
      // An adopted load balancer keeps the name it was built with.
      name: lbBefore?.name ?? desired.loadBalancer.name,
      scheme: desired.loadBalancer.scheme,
      ipAddressType: desired.loadBalancer.ipAddressType,
      securityGroups: applied.attachedSecurityGroups,
      tags: { ...lbBefore?.tags, ...desired.loadBalancer.tags },
      attributes: { ...lbBefore?.attributes, ...desired.loadBalancer.attributes },
    },
    listeners,
    targetGroups,
    ...(securityGroupId !== undefined && {
      securityGroup: {
        id: securityGroupId,
        name: desired.securityGroup.name,
        tags: { ...before.securityGroup?.tags, ...desired.securityGroup.tags },
        ingress: desired.securityGroup.ingress,
      },
    }),
  };
}

/** A recorded state as the diff takes it. */
export function actualOf(recorded: RecordedState): ActualState {
  return { ...recorded, targetGroups: recorded.targetGroups.map(withTargets) };
}

function withTargets({ targetIds, ...tg }: RecordedTargetGroup): ActualTargetGroup {
  return { ...tg, targets: targetIds.map((id) => ({ id, port: tg.port })) };
}

/**
 * The record, brought up to date with an inventory taken after it. `undefined` when the two disagree
 * in a way only a fresh read can settle: a listener's target group that AWS no longer associates with
 * the load balancer (its listener was deleted or repointed behind our back).
 */
export function resyncView(
  ref: LoadBalancerRef,
  recorded: RecordedState,
  resources: ServiceResources,
  tags: ReadonlyMap<string, Tags>,
): ActualState | undefined {
  const tagsOf = (arn: string | undefined) => tags.get(arn ?? "") ?? {};
  const rawLb: LoadBalancer | undefined = resources.loadBalancer;
  const sameLb = rawLb !== undefined && rawLb.LoadBalancerArn === recorded.loadBalancer?.arn;
  // Attributes are not listed: the record's, for the load balancer it recorded.
  const lb =
    rawLb === undefined
      ? undefined
      : toLoadBalancer(rawLb, tagsOf(rawLb.LoadBalancerArn), sameLb ? (recorded.loadBalancer?.attributes ?? {}) : {});
  const listeners = sameLb ? recorded.listeners : [];
  if (listeners.some((listener) => !stillAssociated(listener, resources, lb?.arn ?? ""))) return undefined;
  const rawGroup: SecurityGroup | undefined = resources.securityGroup;
  const securityGroup = rawGroup === undefined ? undefined : toSecurityGroup(rawGroup);
  return {
    ...(lb !== undefined && { loadBalancer: lb }),
    listeners,
    targetGroups: listedTargetGroups(ref, recorded, resources, tagsOf),
    ...(securityGroup !== undefined && { securityGroup }),
  };
}

/** The Service's listed target groups, with the attributes and targets the record knows of them. */
function listedTargetGroups(
  ref: LoadBalancerRef,
  recorded: RecordedState,
  resources: ServiceResources,
  tagsOf: (arn: string | undefined) => Tags,
): ActualTargetGroup[] {
  const recordedGroups = new Map(recorded.targetGroups.map((tg) => [tg.arn, tg]));
  const targetGroups: ActualTargetGroup[] = [];
  for (const raw of resources.targetGroups) {
    const listed = toTargetGroup(raw as TargetGroup, tagsOf(raw.TargetGroupArn));
    if (listed === undefined || !isOwnedBy(listed.tags, ref)) continue;
    const known = recordedGroups.get(listed.arn);
    targetGroups.push({
      ...listed,
      ...(known?.attributes !== undefined && { attributes: known.attributes }),
      targets: (known?.targetIds ?? []).map((id) => ({ id, port: listed.port })),
    });
  }
  return targetGroups;
}

/** Whether AWS still associates the recorded listener's target group with the load balancer `lbArn`. */
function stillAssociated(
  listener: RecordedState["listeners"][number],
  resources: ServiceResources,
  lbArn: string,
): boolean {
  const group = resources.targetGroups.find((tg) => tg.TargetGroupArn === listener.targetGroupArn);
  const associated = group?.LoadBalancerArns;
  return associated === undefined || associated.includes(lbArn);
}

/** Whether a plan only registers or deregisters targets (what a node change needs). */
export function onlyTargetChanges(actions: readonly Action[]): boolean {
  return actions.every((a) => a.kind === "registerTargets" || a.kind === "deregisterTargets");
}

function recordedHealthCheck(hc: HealthCheck): ActualHealthCheck {
  return {
    protocol: hc.protocol,
    port: String(hc.port),
    ...(hc.path !== undefined && { path: hc.path }),
    intervalSeconds: hc.intervalSeconds,
    ...(hc.timeoutSeconds !== undefined && { timeoutSeconds: hc.timeoutSeconds }),
    healthyThreshold: hc.healthyThreshold,
    unhealthyThreshold: hc.unhealthyThreshold,
    ...(hc.successCodes !== undefined && { successCodes: hc.successCodes }),
  };
}
