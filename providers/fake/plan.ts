/**
 * Expected-vs-actual diff for one fake load balancer: the cloud operations that turn what exists into
 * what a spec asks for, in the order a cloud needs them. Pure; applying them is `apply.ts`'s job.
 *
 * Cost is O(listeners + nodes): targets are compared as sorted name lists, and nothing outside this one
 * load balancer is looked at.
 *
 * @module
 */
import type {
  HealthCheckSpec,
  IPFamily,
  LoadBalancerSpec,
  NodeSpec,
  ObservedHealthCheck,
  SessionAffinitySpec,
} from "../types.ts";
import { type FakeLoadBalancer, type FakeProtocol, type FakeTargetGroup, listenerKey, targetGroupId } from "./state.ts";
import type { FakeScheme } from "./validation.ts";

/** What a fake load balancer is, apart from its listeners and target groups. */
export interface FakeAttributes {
  readonly scheme: FakeScheme;
  readonly sourceRanges: readonly string[];
  /** The families it serves clients on, primary first. */
  readonly ipFamilies: readonly IPFamily[];
  readonly sessionAffinity?: SessionAffinitySpec | undefined;
  /** The address asked for by `spec.loadBalancerIP`, published instead of the hostname. */
  readonly address?: string | undefined;
}

/** One mutating cloud operation with its arguments. */
export type FakeChange =
  | ({ readonly operation: "CreateLoadBalancer" } & FakeAttributes)
  | ({ readonly operation: "ModifyLoadBalancerAttributes" } & FakeAttributes)
  | { readonly operation: "DeleteListener"; readonly listener: string }
  | {
      readonly operation: "CreateTargetGroup";
      readonly id: string;
      readonly protocol: FakeProtocol;
      readonly port: number;
      readonly healthCheck: ObservedHealthCheck;
    }
  | { readonly operation: "ModifyTargetGroup"; readonly id: string; readonly healthCheck: ObservedHealthCheck }
  | { readonly operation: "DeregisterTargets"; readonly id: string; readonly nodes: readonly string[] }
  | {
      readonly operation: "RegisterTargets";
      readonly id: string;
      readonly nodes: readonly string[];
      /** The full target list once registered; reused as-is so equal lists stay shared. */
      readonly desired: readonly string[];
    }
  | {
      readonly operation: "CreateListener";
      readonly port: number;
      readonly protocol: FakeProtocol;
      readonly targetGroupId: string;
    }
  | { readonly operation: "ModifyListener"; readonly listener: string; readonly targetGroupId: string }
  | { readonly operation: "DeleteTargetGroup"; readonly id: string };

export interface DesiredLoadBalancer extends FakeAttributes {
  readonly healthCheck: ObservedHealthCheck;
  /** Sorted, unique node names. */
  readonly targets: readonly string[];
  readonly listeners: LoadBalancerSpec["listeners"];
}

/**
 * The changes that converge `current` (undefined when nothing exists) to `desired`: load balancer
 * first, then stale listeners removed, then each listener's target group and listener, then target
 * groups nothing forwards to any more. Deregistration precedes registration, as in a cloud at its
 * target limit.
 */
export function planChanges(current: FakeLoadBalancer | undefined, desired: DesiredLoadBalancer): FakeChange[] {
  const changes: FakeChange[] = [];
  planLoadBalancer(changes, current, desired);

  const wantedListeners = new Set<string>();
  const wantedGroups = new Set<string>();
  for (const listener of desired.listeners) {
    wantedListeners.add(listenerKey(listener.port, listener.protocol));
    wantedGroups.add(targetGroupId(listener.port, listener.protocol as FakeProtocol, listener.nodePort));
  }
  for (const key of current?.listeners.keys() ?? []) {
    if (!wantedListeners.has(key)) changes.push({ operation: "DeleteListener", listener: key });
  }

  for (const listener of desired.listeners) {
    const protocol = listener.protocol as FakeProtocol;
    const id = targetGroupId(listener.port, protocol, listener.nodePort);
    planTargetGroup(changes, current?.targetGroups.get(id), { id, protocol, port: listener.nodePort }, desired);
    const key = listenerKey(listener.port, protocol);
    const existing = current?.listeners.get(key);
    if (existing === undefined) {
      changes.push({ operation: "CreateListener", port: listener.port, protocol, targetGroupId: id });
    } else if (existing.targetGroupId !== id) {
      changes.push({ operation: "ModifyListener", listener: key, targetGroupId: id });
    }
  }

  for (const id of current?.targetGroups.keys() ?? []) {
    if (!wantedGroups.has(id)) changes.push({ operation: "DeleteTargetGroup", id });
  }
  return changes;
}

function planLoadBalancer(
  changes: FakeChange[],
  current: FakeLoadBalancer | undefined,
  desired: DesiredLoadBalancer,
): void {
  const { scheme, sourceRanges, ipFamilies, sessionAffinity, address } = desired;
  const attributes: FakeAttributes = { scheme, sourceRanges, ipFamilies, sessionAffinity, address };
  if (current === undefined) {
    changes.push({ operation: "CreateLoadBalancer", ...attributes });
  } else if (!sameAttributes(current, attributes)) {
    changes.push({ operation: "ModifyLoadBalancerAttributes", ...attributes });
  }
}

function planTargetGroup(
  changes: FakeChange[],
  current: FakeTargetGroup | undefined,
  group: { readonly id: string; readonly protocol: FakeProtocol; readonly port: number },
  desired: DesiredLoadBalancer,
): void {
  const { id } = group;
  if (current === undefined) {
    changes.push({ operation: "CreateTargetGroup", ...group, healthCheck: desired.healthCheck });
    if (desired.targets.length > 0) {
      changes.push({ operation: "RegisterTargets", id, nodes: desired.targets, desired: desired.targets });
    }
    return;
  }
  if (!sameHealthCheck(current.healthCheck, desired.healthCheck)) {
    changes.push({ operation: "ModifyTargetGroup", id, healthCheck: desired.healthCheck });
  }
  if (current.targets === desired.targets) return;
  const { added, removed } = diffSorted(current.targets, desired.targets);
  if (removed.length > 0) changes.push({ operation: "DeregisterTargets", id, nodes: removed });
  if (added.length > 0) changes.push({ operation: "RegisterTargets", id, nodes: added, desired: desired.targets });
}

/** What the cloud's health check becomes for a spec's health check. */
export function healthCheckFor(spec: HealthCheckSpec): ObservedHealthCheck {
  return spec.kind === "http"
    ? { protocol: "HTTP", port: spec.port, path: spec.path }
    : { protocol: "TCP", port: "traffic-port" };
}

const namesByNodeList = new WeakMap<readonly NodeSpec[], readonly string[]>();

/**
 * Sorted, unique names of `nodes`. Cached per array, so Services built from the same node list share
 * one target list (the controller builds the list once per node-set change). The cache is re-checked
 * against the array on every use, so a caller that edits its array in place still gets fresh names.
 */
export function targetNames(nodes: readonly NodeSpec[]): readonly string[] {
  const cached = namesByNodeList.get(nodes);
  if (cached !== undefined && namesMatch(cached, nodes)) return cached;
  const names = nodes.map((node) => node.name);
  if (!isStrictlySorted(names)) {
    names.sort();
    for (let i = names.length - 1; i > 0; i--) if (names[i] === names[i - 1]) names.splice(i, 1);
  }
  Object.freeze(names);
  namesByNodeList.set(nodes, names);
  return names;
}

/** Nodes in `desired` but not `current`, and the reverse; both inputs sorted. O(n). */
export function diffSorted(
  current: readonly string[],
  desired: readonly string[],
): { added: string[]; removed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < current.length || j < desired.length) {
    const have = current[i];
    const want = desired[j];
    if (want === undefined || (have !== undefined && have < want)) {
      removed.push(have as string);
      i++;
    } else if (have === undefined || want < have) {
      added.push(want);
      j++;
    } else {
      i++;
      j++;
    }
  }
  return { added, removed };
}

/** Union of two sorted unique lists, sorted. O(n). */
export function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const merged: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left < right)) {
      merged.push(left as string);
      i++;
    } else if (left === undefined || right < left) {
      merged.push(right);
      j++;
    } else {
      merged.push(left);
      i++;
      j++;
    }
  }
  return merged;
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameAttributes(a: FakeAttributes, b: FakeAttributes): boolean {
  return (
    a.scheme === b.scheme &&
    sameSet(a.sourceRanges, b.sourceRanges) &&
    sameList(a.ipFamilies, b.ipFamilies) &&
    a.sessionAffinity?.timeoutSeconds === b.sessionAffinity?.timeoutSeconds &&
    a.address === b.address
  );
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && sameList([...a].sort(), [...b].sort());
}

function sameHealthCheck(a: ObservedHealthCheck, b: ObservedHealthCheck): boolean {
  return a.protocol === b.protocol && a.port === b.port && a.path === b.path;
}

function namesMatch(names: readonly string[], nodes: readonly NodeSpec[]): boolean {
  if (names.length !== nodes.length) return false;
  for (let i = 0; i < names.length; i++) if (names[i] !== nodes[i]?.name) return false;
  return true;
}

function isStrictlySorted(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) {
    if ((names[i - 1] as string) >= (names[i] as string)) return false;
  }
  return true;
}
