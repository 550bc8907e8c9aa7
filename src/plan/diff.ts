/**
 * The pure heart of `plan`: desired load balancer (the spec the controller would ensure) against the
 * observed one (what the provider reports), in provider-neutral terms. No I/O, no clock.
 *
 * Matching rules, chosen so that a converged load balancer of any provider plans to nothing:
 * - a listener matches when it serves the Service port by the shared rule (`servesListener` in
 *   `providers/rules/`: the same port and protocol, `TLS` for TCP, `TCP_UDP` when the Service has TCP
 *   and UDP on that port);
 * - a target matches a node when the provider mapped it back to that node, or when its id is one of the
 *   node's identities (name, the instance id at the end of its providerID, one of its addresses), and
 *   its port is the listener's nodePort;
 * - health checks, source ranges and addresses are compared only when the provider reports them.
 *
 * @module
 */
import type {
  HealthCheckSpec,
  ListenerSpec,
  LoadBalancerIngress,
  LoadBalancerSpec,
  NodeSpec,
  ObservedHealthCheck,
  ObservedLeftover,
  ObservedListener,
  ObservedLoadBalancer,
  ObservedTarget,
} from "../../providers/index.ts";
import { isOpenToAll, servesListener } from "../../providers/rules/index.ts";
import type { IngressAddress, PlanAction, PlanInput, PlannedChange, ServicePlan } from "./types.ts";

/** Compares what a Service wants with what exists and lists the changes the controller would make. */
export function planService(input: PlanInput): ServicePlan {
  const issues = input.issues ?? [];
  if (input.desired !== undefined && issues.some((issue) => issue.severity === "error")) {
    return { service: input.service, action: "invalid", changes: [], issues };
  }
  const changes = dedupe(changesFor(input));
  return { service: input.service, action: actionOf(input, changes), changes, issues };
}

function actionOf(input: PlanInput, changes: readonly PlannedChange[]): PlanAction {
  if (changes.length === 0) return "none";
  if (input.desired !== undefined && input.observed === undefined) return "create";
  if (input.desired !== undefined && input.observed?.adoptFrom !== undefined) return "adopt";
  if (input.desired === undefined && input.observed !== undefined) return "delete";
  return "update";
}

function changesFor({ desired, observed, publishedIngress, statusInSync }: PlanInput): PlannedChange[] {
  if (desired === undefined) {
    const changes = observed === undefined ? [] : [...deleteAll(observed), ...leftoverChanges(undefined, observed)];
    if (publishedIngress.length > 0) {
      changes.push({ action: "delete", subject: "status", name: "ingress", from: formatIngress(publishedIngress) });
    }
    return changes;
  }
  if (observed === undefined) return createAll(desired, publishedIngress);
  return [
    ...adoptionChanges(desired, observed),
    ...listenerChanges(desired, observed),
    ...leftoverChanges(desired, observed),
    ...sourceRangeChanges(desired, observed),
    ...statusChanges(observed.status.ingress, publishedIngress, statusInSync),
  ];
}

/** Taking over what another controller built for the Service: first, and kept at its address. */
function adoptionChanges(desired: LoadBalancerSpec, observed: ObservedLoadBalancer): PlannedChange[] {
  if (observed.adoptFrom === undefined) return [];
  const address = formatIngress(observed.status.ingress);
  return [
    {
      action: "adopt",
      subject: "load-balancer",
      name: serviceName(desired),
      from: `built by ${observed.adoptFrom}`,
      to: address === "" ? "kept" : `kept at ${address}`,
    },
  ];
}

function createAll(desired: LoadBalancerSpec, publishedIngress: readonly IngressAddress[]): PlannedChange[] {
  const changes: PlannedChange[] = [
    { action: "create", subject: "load-balancer", name: serviceName(desired), to: describeSpec(desired) },
  ];
  for (const listener of desired.listeners) changes.push(...createListener(listener, desired));
  changes.push({
    action: publishedIngress.length === 0 ? "create" : "update",
    subject: "status",
    name: "ingress",
    ...(publishedIngress.length === 0 ? {} : { from: formatIngress(publishedIngress) }),
    to: "the new load balancer's address",
  });
  return changes;
}

function createListener(listener: ListenerSpec, desired: LoadBalancerSpec): PlannedChange[] {
  const name = listenerName(listener);
  return [
    { action: "create", subject: "listener", name, to: `forward to nodePort ${listener.nodePort}` },
    {
      action: "create",
      subject: "target-group",
      name,
      to: `${listener.protocol}:${listener.nodePort}, health ${formatDesiredHealthCheck(desired.healthCheck)}`,
    },
    ...desired.nodes.map(
      (node): PlannedChange => ({ action: "create", subject: "target", name: `${node.name}:${listener.nodePort}` }),
    ),
  ];
}

function deleteAll(observed: ObservedLoadBalancer): PlannedChange[] {
  const address = formatIngress(observed.status.ingress);
  const changes: PlannedChange[] = [
    {
      action: "delete",
      subject: "load-balancer",
      name: `${observed.ref.service.namespace}/${observed.ref.service.name}`,
      ...(address === "" ? {} : { from: address }),
    },
  ];
  for (const listener of observed.listeners) changes.push(...deleteListener(listener));
  return changes;
}

function deleteListener(listener: ObservedListener): PlannedChange[] {
  const name = `${listener.port}/${listener.protocol}`;
  return [
    { action: "delete", subject: "listener", name, from: `forward to nodePort ${listener.targetPort}` },
    {
      action: "delete",
      subject: "target-group",
      name,
      from: `${listener.targets.length} target${listener.targets.length === 1 ? "" : "s"} on ${listener.targetPort}`,
    },
  ];
}

function listenerChanges(desired: LoadBalancerSpec, observed: ObservedLoadBalancer): PlannedChange[] {
  const changes: PlannedChange[] = [];
  const matched = new Set<ObservedListener>();
  for (const listener of desired.listeners) {
    const current = observed.listeners.find((candidate) => servesListener(candidate, listener, desired.listeners));
    if (current === undefined) {
      changes.push(...createListener(listener, desired));
      continue;
    }
    matched.add(current);
    changes.push(...targetGroupChanges(listener, current, desired));
  }
  for (const listener of observed.listeners) {
    if (!matched.has(listener)) changes.push(...deleteListener(listener));
  }
  return changes;
}

function targetGroupChanges(
  listener: ListenerSpec,
  current: ObservedListener,
  desired: LoadBalancerSpec,
): PlannedChange[] {
  const name = listenerName(listener);
  const changes: PlannedChange[] = [];
  if (current.targetPort !== listener.nodePort) {
    changes.push({
      action: "update",
      subject: "target-group",
      name,
      from: `nodePort ${current.targetPort}`,
      to: `nodePort ${listener.nodePort}`,
    });
  }
  if (current.healthCheck !== undefined && !healthCheckMatches(desired.healthCheck, current.healthCheck)) {
    changes.push({
      action: "update",
      subject: "health-check",
      name,
      from: formatObservedHealthCheck(current.healthCheck),
      to: formatDesiredHealthCheck(desired.healthCheck),
    });
  }
  changes.push(...targetChanges(listener, current.targets, desired.nodes));
  return changes;
}

/** Leftovers are removed, except a target group that a listener the plan creates or repoints takes into use. */
function leftoverChanges(desired: LoadBalancerSpec | undefined, observed: ObservedLoadBalancer): PlannedChange[] {
  return (observed.leftovers ?? [])
    .filter((leftover) => !takenIntoUse(leftover, desired, observed))
    .map((leftover) => ({
      action: "delete",
      subject: "leftover",
      name: `${leftover.kind} ${leftover.id}`,
      from:
        leftover.targetPort === undefined
          ? "not in use"
          : `${leftover.protocol ?? ""}:${leftover.targetPort}, no listener forwards to it`,
    }));
}

function takenIntoUse(
  leftover: ObservedLeftover,
  desired: LoadBalancerSpec | undefined,
  observed: ObservedLoadBalancer,
): boolean {
  if (desired === undefined || leftover.targetPort === undefined) return false;
  return desired.listeners.some(
    (listener) =>
      listener.nodePort === leftover.targetPort &&
      // A target group has no port of its own: does its protocol serve this Service port's?
      servesListener({ port: listener.port, protocol: leftover.protocol ?? "" }, listener, desired.listeners) &&
      !observed.listeners.some(
        (current) => servesListener(current, listener, desired.listeners) && current.targetPort === listener.nodePort,
      ),
  );
}

/** Deregistrations first, as providers apply them, so a plan reads in the order things happen. */
function targetChanges(
  listener: ListenerSpec,
  targets: readonly ObservedTarget[],
  nodes: readonly NodeSpec[],
): PlannedChange[] {
  const wanted = new Set<ObservedTarget>();
  const registrations: PlannedChange[] = [];
  for (const node of nodes) {
    const target = targets.find((candidate) => candidate.port === listener.nodePort && isTargetOf(candidate, node));
    if (target === undefined) {
      registrations.push({ action: "create", subject: "target", name: `${node.name}:${listener.nodePort}` });
    } else {
      wanted.add(target);
    }
  }
  const deregistrations = targets
    .filter((target) => !wanted.has(target))
    .map(
      (target): PlannedChange => ({
        action: "delete",
        subject: "target",
        name: `${target.node ?? target.id}:${target.port}`,
      }),
    );
  return [...deregistrations, ...registrations];
}

function isTargetOf(target: ObservedTarget, node: NodeSpec): boolean {
  if (target.node !== undefined) return target.node === node.name;
  return nodeIdentities(node).includes(target.id);
}

/** Every id a provider may use for a node's target. */
export function nodeIdentities(node: NodeSpec): string[] {
  const identities = [node.name, ...node.addresses.map((address) => address.address)];
  const instanceId = node.providerID?.split("/").at(-1);
  if (instanceId !== undefined && instanceId !== "") identities.push(instanceId);
  return identities;
}

function healthCheckMatches(desired: HealthCheckSpec, observed: ObservedHealthCheck): boolean {
  if (desired.kind === "traffic-port") return observed.protocol === "TCP" && observed.port === "traffic-port";
  return observed.protocol === "HTTP" && observed.port === desired.port && (observed.path ?? "/") === desired.path;
}

function sourceRangeChanges(desired: LoadBalancerSpec, observed: ObservedLoadBalancer): PlannedChange[] {
  if (observed.sourceRanges === undefined) return [];
  const want = normalizeRanges(desired.sourceRanges);
  const have = normalizeRanges(observed.sourceRanges);
  if (want.join(",") === have.join(",")) return [];
  return [
    {
      action: "update",
      subject: "source-ranges",
      name: "sourceRanges",
      from: have.length === 0 ? "any" : have.join(", "),
      to: want.length === 0 ? "any" : want.join(", "),
    },
  ];
}

/** "Allow all" may be reported as no ranges or as the all-addresses CIDRs; both mean the same. */
function normalizeRanges(ranges: readonly string[]): string[] {
  return isOpenToAll(ranges) ? [] : [...new Set(ranges)].sort();
}

function statusChanges(
  observedIngress: readonly LoadBalancerIngress[],
  publishedIngress: readonly IngressAddress[],
  statusInSync: boolean | undefined,
): PlannedChange[] {
  const want = formatIngress(observedIngress);
  const have = formatIngress(publishedIngress);
  if (statusInSync ?? want === have) return [];
  return [
    {
      action: have === "" ? "create" : "update",
      subject: "status",
      name: "ingress",
      ...(have === "" ? {} : { from: have }),
      to: want === "" ? "(none)" : want,
    },
  ];
}

/** Addresses as a stable, order-independent string (only `hostname` and `ip` count, as upstream). */
export function formatIngress(ingress: readonly IngressAddress[]): string {
  return ingress
    .map((entry) => [entry.hostname, entry.ip].filter((part) => part !== undefined && part !== "").join("/"))
    .filter((entry) => entry !== "")
    .sort()
    .join(", ");
}

export function formatDesiredHealthCheck(healthCheck: HealthCheckSpec): string {
  return healthCheck.kind === "traffic-port" ? "TCP traffic-port" : `HTTP:${healthCheck.port}${healthCheck.path}`;
}

export function formatObservedHealthCheck(healthCheck: ObservedHealthCheck): string {
  return healthCheck.port === "traffic-port"
    ? `${healthCheck.protocol} traffic-port`
    : `${healthCheck.protocol}:${healthCheck.port}${healthCheck.path ?? ""}`;
}

function listenerName(listener: ListenerSpec): string {
  return `${listener.port}/${listener.protocol}`;
}

function serviceName(spec: LoadBalancerSpec): string {
  return `${spec.service.namespace}/${spec.service.name}`;
}

function describeSpec(spec: LoadBalancerSpec): string {
  const count = spec.nodes.length;
  return `${spec.listeners.length} listener${spec.listeners.length === 1 ? "" : "s"}, ${count} node${count === 1 ? "" : "s"}`;
}

/** A TCP and a UDP listener carried by one `TCP_UDP` cloud listener would otherwise report its targets twice. */
function dedupe(changes: readonly PlannedChange[]): PlannedChange[] {
  const seen = new Set<string>();
  return changes.filter((change) => {
    const key = `${change.action} ${change.subject} ${change.name} ${change.from ?? ""} ${change.to ?? ""}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
