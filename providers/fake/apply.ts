/**
 * Carries out one mutating operation on the fake cloud's store, with the checks a cloud makes at that
 * moment: the resources named must exist, a target group in use cannot be deleted, a listener port
 * cannot be taken twice. Those failures are transient (the next ensure converges from what is there).
 *
 * @module
 */
import { TransientError } from "../errors.ts";
import type { LoadBalancerRef } from "../types.ts";
import type { FakeAttributes, FakeChange } from "./plan.ts";
import { mergeSorted, sameList } from "./plan.ts";
import { copyRef, type FakeCloudStore, type FakeLoadBalancer, fakeHostname, listenerKey, refKey } from "./state.ts";

/** A resource named in a call does not exist (any more). Transient: the next ensure recreates it. */
export class FakeNotFoundError extends TransientError {
  override readonly name: string = "FakeNotFoundError";
}

/** The last mutating operation of a deletion. */
export interface DeleteLoadBalancerChange {
  readonly operation: "DeleteLoadBalancer";
}

export function applyChange(
  store: FakeCloudStore,
  ref: LoadBalancerRef,
  change: FakeChange | DeleteLoadBalancerChange,
): void {
  const key = refKey(ref);
  if (change.operation === "CreateLoadBalancer") {
    if (store.get(key) !== undefined) throw new TransientError(`CreateLoadBalancer: ${key} already exists`);
    store.add({
      key,
      ref: copyRef(ref),
      hostname: fakeHostname(ref),
      ...attributesOf(change),
      listeners: new Map(),
      targetGroups: new Map(),
    });
    return;
  }
  const loadBalancer = store.get(key);
  if (loadBalancer === undefined) throw new FakeNotFoundError(`${change.operation}: load balancer ${key} not found`);
  switch (change.operation) {
    case "ModifyLoadBalancerAttributes":
      Object.assign(loadBalancer, attributesOf(change));
      return;
    case "DeleteLoadBalancer":
      store.delete(key);
      return;
    case "CreateTargetGroup":
      createTargetGroup(loadBalancer, change);
      return;
    case "ModifyTargetGroup":
      targetGroup(loadBalancer, change.operation, change.id).healthCheck = { ...change.healthCheck };
      return;
    case "RegisterTargets":
      registerTargets(loadBalancer, change);
      return;
    case "DeregisterTargets": {
      const group = targetGroup(loadBalancer, change.operation, change.id);
      const leaving = new Set(change.nodes);
      group.targets = group.targets.filter((node) => !leaving.has(node));
      return;
    }
    case "DeleteTargetGroup":
      deleteTargetGroup(loadBalancer, change);
      return;
    case "CreateListener":
      createListener(loadBalancer, change);
      return;
    case "ModifyListener":
      modifyListener(loadBalancer, change);
      return;
    case "DeleteListener":
      if (!loadBalancer.listeners.delete(change.listener)) {
        throw new FakeNotFoundError(`DeleteListener: listener ${change.listener} not found`);
      }
      return;
  }
}

/** The change of `operation`. */
type ChangeOf<O extends FakeChange["operation"]> = Extract<FakeChange, { readonly operation: O }>;

function createTargetGroup(loadBalancer: FakeLoadBalancer, change: ChangeOf<"CreateTargetGroup">): void {
  if (loadBalancer.targetGroups.has(change.id)) {
    throw new TransientError(`CreateTargetGroup: target group ${change.id} already exists`);
  }
  loadBalancer.targetGroups.set(change.id, {
    id: change.id,
    protocol: change.protocol,
    port: change.port,
    healthCheck: { ...change.healthCheck },
    targets: [],
  });
}

function registerTargets(loadBalancer: FakeLoadBalancer, change: ChangeOf<"RegisterTargets">): void {
  const group = targetGroup(loadBalancer, change.operation, change.id);
  if (group.targets.length === 0 && change.nodes === change.desired) {
    group.targets = change.desired;
    return;
  }
  const merged = mergeSorted(group.targets, change.nodes);
  group.targets = sameList(merged, change.desired) ? change.desired : merged;
}

function deleteTargetGroup(loadBalancer: FakeLoadBalancer, change: ChangeOf<"DeleteTargetGroup">): void {
  for (const listener of loadBalancer.listeners.values()) {
    if (listener.targetGroupId === change.id) {
      throw new TransientError(
        `DeleteTargetGroup: target group ${change.id} is in use by listener ${listener.port}/${listener.protocol}`,
      );
    }
  }
  if (!loadBalancer.targetGroups.delete(change.id)) {
    throw new FakeNotFoundError(`DeleteTargetGroup: target group ${change.id} not found`);
  }
}

function createListener(loadBalancer: FakeLoadBalancer, change: ChangeOf<"CreateListener">): void {
  const listener = listenerKey(change.port, change.protocol);
  if (loadBalancer.listeners.has(listener)) {
    throw new TransientError(`CreateListener: a listener on ${listener} already exists`);
  }
  targetGroup(loadBalancer, change.operation, change.targetGroupId);
  loadBalancer.listeners.set(listener, {
    port: change.port,
    protocol: change.protocol,
    targetGroupId: change.targetGroupId,
  });
}

function modifyListener(loadBalancer: FakeLoadBalancer, change: ChangeOf<"ModifyListener">): void {
  const listener = loadBalancer.listeners.get(change.listener);
  if (listener === undefined) throw new FakeNotFoundError(`ModifyListener: listener ${change.listener} not found`);
  targetGroup(loadBalancer, change.operation, change.targetGroupId);
  listener.targetGroupId = change.targetGroupId;
}

/** A copy of a change's attributes, to store. */
function attributesOf(change: FakeAttributes): FakeAttributes {
  return {
    scheme: change.scheme,
    sourceRanges: [...change.sourceRanges],
    ipFamilies: [...change.ipFamilies],
    sessionAffinity: change.sessionAffinity === undefined ? undefined : { ...change.sessionAffinity },
    address: change.address,
  };
}

function targetGroup(loadBalancer: FakeLoadBalancer, operation: string, id: string) {
  const group = loadBalancer.targetGroups.get(id);
  if (group === undefined) throw new FakeNotFoundError(`${operation}: target group ${id} not found`);
  return group;
}
