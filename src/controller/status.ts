/**
 * `status.loadBalancer` as the provider reports it versus as the Service has it.
 *
 * The API server defaults `ipMode: VIP` on every ingress that has an `ip`, and the provider contract
 * carries no `ipMode`; so an absent or `VIP` ipMode on the Service counts as equal to the provider's
 * entry. Without that, every ensure would re-patch a status that never changes.
 *
 * @module
 */
import type { V1LoadBalancerIngress, V1LoadBalancerStatus } from "@kubernetes/client-node";
import type { LoadBalancerIngress, LoadBalancerStatus } from "../../providers/index.ts";

/** The `status.loadBalancer.ingress` entries to write for a provider status. */
export function toServiceIngress(status: LoadBalancerStatus): V1LoadBalancerIngress[] {
  return status.ingress.map((entry) => ({
    ...(entry.hostname ? { hostname: entry.hostname } : {}),
    ...(entry.ip ? { ip: entry.ip } : {}),
  }));
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

function ingressEqual(current: V1LoadBalancerIngress, desired: LoadBalancerIngress): boolean {
  if ((current.hostname ?? "") !== (desired.hostname ?? "")) return false;
  if ((current.ip ?? "") !== (desired.ip ?? "")) return false;
  if (current.ipMode !== undefined && current.ipMode !== "VIP") return false;
  return (current.ports ?? []).length === 0;
}

/** Whether the Service's `status.loadBalancer` already says what `desired` says. */
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
