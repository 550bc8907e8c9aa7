/**
 * Provider-neutral checks of an observed load balancer against the spec it was ensured with: what any
 * test can assert without knowing the cloud.
 *
 * @module
 */
import { expect } from "vitest";
import { buildableIpFamilies, ipFamilyOfAddress } from "../rules/ip-families.ts";
import { servesListener } from "../rules/listeners.ts";
import type {
  IPFamily,
  LoadBalancerRef,
  LoadBalancerSpec,
  LoadBalancerStatus,
  ObservedListener,
  ObservedLoadBalancer,
} from "../types.ts";

/**
 * Fails unless `status` publishes at least one address, each entry as the API server accepts it: an
 * `ip` that is an IP address, a `hostname` that is not one, and an `ipMode` (`VIP` or `Proxy`) only
 * beside an `ip`.
 */
export function expectAddress(status: LoadBalancerStatus): void {
  expect(status.ingress.length, "status.ingress must hold at least one address").toBeGreaterThan(0);
  for (const ingress of status.ingress) {
    const entry = JSON.stringify(ingress);
    const address = ingress.hostname ?? ingress.ip;
    expect(address, `each ingress entry needs a hostname or an ip, got ${entry}`).toBeTruthy();
    if (ingress.ip !== undefined) {
      expect(ipFamilyOfAddress(ingress.ip), `ingress ip must be an IP address, got ${entry}`).toBeDefined();
    }
    if (ingress.hostname !== undefined) {
      expect(ipFamilyOfAddress(ingress.hostname), `ingress hostname must be a DNS name, not an IP, got ${entry}`).toBe(
        undefined,
      );
    }
    if (ingress.ipMode !== undefined) {
      expect(ingress.ip, `ipMode may only be set beside an ip (the API server refuses it), got ${entry}`).toBeDefined();
      expect(["VIP", "Proxy"], `ipMode must be VIP or Proxy, got ${entry}`).toContain(ingress.ipMode);
    }
  }
}

/**
 * Fails unless a load balancer built for `spec` by a provider serving `served` reports the families
 * it serves (`ObservedLoadBalancer.ipFamilies`): every family of the spec that the provider serves, and
 * for an IPv4-only spec not IPv6. Published `ip` addresses must cover each of those families.
 */
export function expectIpFamilies(
  observed: ObservedLoadBalancer,
  spec: LoadBalancerSpec,
  served: readonly IPFamily[],
): void {
  const who = `${spec.service.namespace}/${spec.service.name}`;
  const wanted = buildableIpFamilies(spec, served);
  const reported = observed.ipFamilies;
  expect(
    reported,
    `${who}: a provider that declares capabilities.ipFamilies reports them in ObservedLoadBalancer.ipFamilies`,
  ).toBeDefined();
  for (const family of wanted) {
    expect(reported, `${who}: spec.ipFamilies ${JSON.stringify(spec.ipFamilies)} asks for ${family}`).toContain(family);
  }
  if (wanted.length === 1 && wanted[0] === "IPv4") {
    expect(reported, `${who}: an IPv4-only Service gets an IPv4-only load balancer`).not.toContain("IPv6");
  }
  const ips = observed.status.ingress.flatMap((entry) => (entry.ip === undefined ? [] : [entry.ip]));
  if (ips.length === 0) return;
  const published = new Set(ips.map(ipFamilyOfAddress));
  for (const family of wanted) {
    expect([...published], `${who}: the published addresses ${ips.join(", ")} must include one of ${family}`).toContain(
      family,
    );
  }
}

/** Fails unless `observed` exists, belongs to `ref`, and has exactly the spec's listeners and targets. */
export function expectConverged(
  observed: ObservedLoadBalancer | undefined,
  spec: LoadBalancerSpec,
): asserts observed is ObservedLoadBalancer {
  const who = `${spec.service.namespace}/${spec.service.name}`;
  expect(observed, `getLoadBalancer found no load balancer for ${who}`).toBeDefined();
  if (observed === undefined) return;
  expectSameRef(observed.ref, spec);
  expectAddress(observed.status);
  const sorted = [...observed.listeners].sort((a, b) => a.port - b.port || compare(a.protocol, b.protocol));
  expect(observed.listeners.map(label), `${who}: listeners must be sorted by port, then protocol`).toEqual(
    sorted.map(label),
  );

  const unmatched = new Set(observed.listeners);
  for (const [index, wanted] of spec.listeners.entries()) {
    const found = observed.listeners.filter((l) => servesListener(l, wanted, spec.listeners));
    expect(
      found.length,
      `${who}: expected one listener for spec.listeners[${index}] ${wanted.port}/${wanted.protocol}, found ${describe(observed.listeners)}`,
    ).toBe(1);
    const listener = found[0] as ObservedListener;
    unmatched.delete(listener);
    expect(listener.targetPort, `${who}: listener ${wanted.port}/${wanted.protocol} must forward to its nodePort`).toBe(
      wanted.nodePort,
    );
    expectTargets(who, listener, wanted.nodePort, spec);
  }
  expect([...unmatched].map(label), `${who}: listeners that the spec does not ask for`).toEqual([]);
}

/** Fails unless `ref` names the same Service in the same cluster as `expected` (uid is not compared). */
export function expectSameRef(ref: LoadBalancerRef, expected: LoadBalancerRef): void {
  expect({ clusterName: ref.clusterName, namespace: ref.service.namespace, name: ref.service.name }).toEqual({
    clusterName: expected.clusterName,
    namespace: expected.service.namespace,
    name: expected.service.name,
  });
}

function expectTargets(who: string, listener: ObservedListener, nodePort: number, spec: LoadBalancerSpec): void {
  const where = `${who}: listener ${label(listener)}`;
  for (const target of listener.targets) {
    expect(
      target.node,
      `${where}: target ${target.id} is not mapped to a node; fill ObservedTarget.node using GetOptions.nodes`,
    ).toBeDefined();
    expect(target.port, `${where}: target ${target.id} must receive traffic on nodePort ${nodePort}`).toBe(nodePort);
  }
  const nodes = listener.targets.map((t) => t.node ?? `<unmapped ${t.id}>`).sort();
  expect(nodes, `${where}: targets must be exactly the spec's nodes`).toEqual(spec.nodes.map((n) => n.name).sort());
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function label(listener: ObservedListener): string {
  return `${listener.port}/${listener.protocol}`;
}

function describe(listeners: readonly ObservedListener[]): string {
  return listeners.length === 0 ? "none" : listeners.map(label).join(", ");
}
