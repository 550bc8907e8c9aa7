/**
 * Which of the provider's load balancers no Service accounts for: the pure half of `gc`.
 *
 * A load balancer is accounted for when its Service exists and is still the controller's business: it
 * wants a load balancer, or holds the finalizer so the controller will clean up itself.
 *
 * A different UID alone does not make an orphan. A load balancer's identity is its cluster, namespace
 * and name (see `LoadBalancerRef`), so a Service recreated under the same name is served by the very
 * same load balancer once the controller converges it; deleting it would cut that Service's traffic.
 *
 * @module
 */
import type { V1Service } from "@kubernetes/client-node";
import type { ObservedLoadBalancer } from "../../providers/index.ts";
import {
  cleanupFinalizer,
  hasFinalizer,
  objectKey,
  type ServiceSelection,
  wantsLoadBalancer,
} from "../controller/service-filters.ts";

/** A load balancer `gc` would remove, and why. */
export interface Orphan {
  readonly loadBalancer: ObservedLoadBalancer;
  readonly reason: string;
}

/** The load balancers in `owned` that no Service in `services` accounts for, with the reason for each. */
export function findOrphans(
  owned: readonly ObservedLoadBalancer[],
  services: readonly V1Service[],
  selection: ServiceSelection,
): Orphan[] {
  const byKey = new Map(services.map((service) => [objectKey(service), service]));
  const finalizer = cleanupFinalizer(selection);
  const orphans: Orphan[] = [];
  for (const loadBalancer of owned) {
    const { namespace, name } = loadBalancer.ref.service;
    const service = byKey.get(`${namespace}/${name}`);
    const reason =
      service === undefined
        ? "Service not found"
        : !wantsLoadBalancer(service, selection) && !hasFinalizer(service, finalizer)
          ? `Service does not want one from this controller (${describeWish(service)}) and has no finalizer`
          : undefined;
    if (reason !== undefined) orphans.push({ loadBalancer, reason });
  }
  return orphans;
}

function describeWish(service: V1Service): string {
  const type = service.spec?.type ?? "ClusterIP";
  if (type !== "LoadBalancer") return `type ${type}`;
  return `loadBalancerClass ${service.spec?.loadBalancerClass ?? "(none)"}`;
}
