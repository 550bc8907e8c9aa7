/**
 * Which Services this controller manages, which finalizer guards them, and which informer events are
 * worth a reconcile. Pure functions over Service objects.
 *
 * Ownership follows the upstream service controller: a Service is wanted when it is
 * `type: LoadBalancer` and its `spec.loadBalancerClass` is exactly the configured class — or, with no
 * class configured ("CCM mode"), when it has no class at all. Cleanup is keyed on the finalizer, not on
 * the class, because the API server wipes the class when a Service leaves `type: LoadBalancer`.
 *
 * @module
 */
import type { V1Service } from "@kubernetes/client-node";
import { deepEqual } from "./deep-equal.ts";

/** The upstream finalizer, used for class-less Services so a move to or from a cloud-controller-manager works. */
export const UPSTREAM_CLEANUP_FINALIZER = "service.kubernetes.io/load-balancer-cleanup";

/** This project's finalizer, used for Services that name our `loadBalancerClass`. */
export const CLASSED_CLEANUP_FINALIZER = "lb-provisioner.io/load-balancer-cleanup";

/** What the controller was configured to manage. */
export interface ServiceSelection {
  /** `--load-balancer-class`; `undefined` manages class-less Services (CCM mode). */
  readonly loadBalancerClass?: string | undefined;
}

/** The finalizer this controller adds and removes, given its configuration. */
export function cleanupFinalizer(selection: ServiceSelection): string {
  return selection.loadBalancerClass === undefined ? UPSTREAM_CLEANUP_FINALIZER : CLASSED_CLEANUP_FINALIZER;
}

/** Whether the Service asks for a load balancer from this controller. */
export function wantsLoadBalancer(service: V1Service, selection: ServiceSelection): boolean {
  if (service.spec?.type !== "LoadBalancer") return false;
  const serviceClass = service.spec.loadBalancerClass ?? undefined;
  return serviceClass === selection.loadBalancerClass;
}

export function hasFinalizer(service: V1Service, finalizer: string): boolean {
  return service.metadata?.finalizers?.includes(finalizer) ?? false;
}

/**
 * Whether the Service holds our finalizer but no longer wants our load balancer: it is being deleted,
 * left `type: LoadBalancer`, or (after a delete-and-recreate through another type) names another class.
 */
export function needsCleanup(service: V1Service, selection: ServiceSelection): boolean {
  if (!hasFinalizer(service, cleanupFinalizer(selection))) return false;
  if (service.metadata?.deletionTimestamp) return true;
  return !wantsLoadBalancer(service, selection);
}

/** Whether an added (or relisted) Service should be reconciled. */
export function shouldEnqueueAddedService(service: V1Service, selection: ServiceSelection): boolean {
  return wantsLoadBalancer(service, selection) || needsCleanup(service, selection);
}

/**
 * Whether an update deserves a reconcile. Status-only updates (including our own status patches) and
 * label edits are skipped, so writing status does not trigger another round of cloud calls. Anything
 * that can change the load balancer, its ownership, or its lifecycle counts: the spec, the annotations
 * (providers read theirs from there), the UID, the deletion timestamp, and our finalizer disappearing.
 */
export function shouldEnqueueUpdatedService(old: V1Service, current: V1Service, selection: ServiceSelection): boolean {
  const involved =
    wantsLoadBalancer(old, selection) || wantsLoadBalancer(current, selection) || needsCleanup(current, selection);
  if (!involved) return false;
  const finalizer = cleanupFinalizer(selection);
  return (
    old.metadata?.uid !== current.metadata?.uid ||
    !deepEqual(old.metadata?.deletionTimestamp, current.metadata?.deletionTimestamp) ||
    // Only a removal: adding it is our own first write, and re-running for that would repeat the ensure.
    (hasFinalizer(old, finalizer) && !hasFinalizer(current, finalizer)) ||
    !deepEqual(old.spec, current.spec) ||
    !deepEqual(old.metadata?.annotations ?? {}, current.metadata?.annotations ?? {})
  );
}

/** The work-queue key of an object: `namespace/name`. */
export function objectKey(object: { metadata?: { namespace?: string; name?: string } }): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

/** Splits a key made by {@link objectKey}. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  if (slash < 0) return { namespace: "", name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
