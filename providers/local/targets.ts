/**
 * Pure target logic of one listener: which node address and port each node is reached on, the diff
 * between the registered and the wanted targets, and which targets may take a new connection.
 *
 * @module
 */
import { ipFamilyOfAddress } from "../rules/ip-families.ts";
import type { HealthCheckSpec, IPFamily, NodeSpec } from "../types.ts";
import type { HealthStatus } from "./health-state.ts";
import type { NodeAddressType } from "./settings.ts";

/** Where traffic for one listener goes on one node, and how that node's health is probed. */
export interface TargetSpec {
  /** `address:port` (`[address]:port` for IPv6): unique within a listener. */
  readonly id: string;
  readonly node: string;
  readonly address: string;
  readonly port: number;
  readonly probe: ProbeSpec;
}

/** One health probe; targets that share a probe (same node, same port) share its result. */
export type ProbeSpec =
  | { readonly key: string; readonly kind: "tcp"; readonly address: string; readonly port: number }
  | {
      readonly key: string;
      readonly kind: "http";
      readonly address: string;
      readonly port: number;
      readonly path: string;
    };

export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The address of `node` to send traffic to, or `undefined` when it has none of that type and family. */
export function nodeAddress(node: NodeSpec, type: NodeAddressType, family: IPFamily): string | undefined {
  return node.addresses.find((a) => a.type === type && ipFamilyOfAddress(a.address) === family)?.address;
}

function probeFor(address: string, trafficPort: number, healthCheck: HealthCheckSpec): ProbeSpec {
  if (healthCheck.kind === "http") {
    const { port, path } = healthCheck;
    return { key: `http://${hostPort(address, port)}${path}`, kind: "http", address, port, path };
  }
  return { key: `tcp://${hostPort(address, trafficPort)}`, kind: "tcp", address, port: trafficPort };
}

/**
 * The targets of a listener forwarding to `nodePort`: one per node that has an address of `type` in
 * `family` (the Service's primary family, whose node ports kube-proxy serves).
 */
export function targetsFor(
  nodes: readonly NodeSpec[],
  nodePort: number,
  healthCheck: HealthCheckSpec,
  type: NodeAddressType,
  family: IPFamily,
): TargetSpec[] {
  return nodes.flatMap((node): TargetSpec[] => {
    const address = nodeAddress(node, type, family);
    if (address === undefined) return [];
    const id = hostPort(address, nodePort);
    return [{ id, node: node.name, address, port: nodePort, probe: probeFor(address, nodePort, healthCheck) }];
  });
}

/**
 * Targets to register (new, or now another node's) and ids to deregister. A changed health check alone
 * is not a registration: the target stays, only its probe changes.
 */
export function diffTargets(
  current: ReadonlyMap<string, TargetSpec>,
  wanted: readonly TargetSpec[],
): { readonly register: TargetSpec[]; readonly deregister: string[] } {
  const wantedIds = new Set(wanted.map((t) => t.id));
  const register = wanted.filter((t) => {
    const existing = current.get(t.id);
    return existing === undefined || existing.node !== t.node;
  });
  const deregister = [...current.keys()].filter((id) => !wantedIds.has(id));
  return { register, deregister };
}

/**
 * The targets a new connection may go to: the healthy ones; when none is healthy, all of them (fail
 * open, as a network load balancer does, so that a broken health check does not black-hole a Service).
 */
export function eligibleTargets<T extends { readonly probe: ProbeSpec }>(
  targets: readonly T[],
  healthOf: (probeKey: string) => HealthStatus,
): readonly T[] {
  const healthy = targets.filter((t) => healthOf(t.probe.key) === "healthy");
  return healthy.length > 0 ? healthy : targets;
}

/** `items` rotated to start at `cursor mod length`: round robin, with the rest as fallbacks in order. */
export function rotate<T>(items: readonly T[], cursor: number): T[] {
  if (items.length === 0) return [];
  const start = cursor % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
