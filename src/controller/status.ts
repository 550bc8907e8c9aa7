/**
 * `status.loadBalancer` as the provider reports it versus as the Service has it.
 *
 * The controller owns each ingress entry's address (`hostname`, `ip`) and `ipMode`; `ports` is left to
 * whoever writes it (a data plane reporting port errors, say). The list is replaced whole on a write (the
 * API server keeps no per-entry merge key for it), so each entry carries on the `ports` of the published
 * entry with the same address.
 *
 * The API server defaults `ipMode: VIP` on every ingress that has an `ip`; so an absent or `VIP`
 * ipMode on either side counts as equal. Without that, every ensure would re-patch a status that never
 * changes.
 *
 * @module
 */
import type { V1LoadBalancerIngress, V1LoadBalancerStatus } from "@kubernetes/client-node";
import type { LoadBalancerIngress, LoadBalancerStatus } from "../../providers/index.ts";

function sameAddress(a: { hostname?: string; ip?: string }, b: { hostname?: string; ip?: string }): boolean {
  return (a.hostname ?? "") === (b.hostname ?? "") && (a.ip ?? "") === (b.ip ?? "");
}

/**
 * The `status.loadBalancer.ingress` entries to write for a provider status: its addresses and `ipMode`,
 * with the `ports` of the entry `current` publishes for the same address.
 */
export function toServiceIngress(
  status: LoadBalancerStatus,
  current: V1LoadBalancerStatus | undefined = undefined,
): V1LoadBalancerIngress[] {
  const published = current?.ingress ?? [];
  return status.ingress.map((entry) => {
    const ports = published.find((candidate) => sameAddress(candidate, entry))?.ports;
    return {
      ...(entry.hostname ? { hostname: entry.hostname } : {}),
      ...(entry.ip ? { ip: entry.ip } : {}),
      ...(entry.ip && entry.ipMode ? { ipMode: entry.ipMode } : {}),
      ...(ports === undefined ? {} : { ports }),
    };
  });
}

/** The Service's published `status.loadBalancer` in provider terms, or `undefined` when it publishes nothing. */
export function publishedStatusOf(current: V1LoadBalancerStatus | undefined): LoadBalancerStatus | undefined {
  const ingress = (current?.ingress ?? []).flatMap((entry): LoadBalancerIngress[] =>
    entry.hostname || entry.ip
      ? [{ ...(entry.hostname ? { hostname: entry.hostname } : {}), ...(entry.ip ? { ip: entry.ip } : {}) }]
      : [],
  );
  return ingress.length === 0 ? undefined : { ingress };
}

/** An entry's ipMode as the API server reads it: `VIP` when absent beside an ip; none without an ip. */
function effectiveIpMode(entry: { ip?: string; ipMode?: string }): string | undefined {
  return entry.ip ? (entry.ipMode ?? "VIP") : undefined;
}

function ingressEqual(current: V1LoadBalancerIngress, desired: LoadBalancerIngress): boolean {
  return sameAddress(current, desired) && effectiveIpMode(current) === effectiveIpMode(desired);
}

/** Whether the Service's `status.loadBalancer` already says what `desired` says (its `ports` aside). */
export function loadBalancerStatusEqual(
  current: V1LoadBalancerStatus | undefined,
  desired: LoadBalancerStatus,
): boolean {
  const ingress = current?.ingress ?? [];
  if (ingress.length !== desired.ingress.length) return false;
  return ingress.every((entry, index) => {
    const wanted = desired.ingress[index];
    return wanted !== undefined && ingressEqual(entry, wanted);
  });
}

/** Whether the Service has any load balancer status to clear. */
export function hasLoadBalancerStatus(current: V1LoadBalancerStatus | undefined): boolean {
  return (current?.ingress ?? []).length > 0;
}
