/**
 * What the controller keeps of each cached object: only the fields it reads. The informers strip the
 * rest in place as objects arrive (list pages and watch events alike), so the one copy the cache holds
 * is the small one — in a production cluster a Node is mostly images, conditions, capacity and
 * managedFields, none of which a load balancer needs.
 *
 * Kept on every object: `metadata.name`, `namespace`, `uid` and `resourceVersion` (the cache's key and
 * the watch's resume point). Kept on a Service: everything else too, but `metadata.managedFields` and
 * `kubectl apply`'s copy of the last applied object, which the controller never reads (its spec,
 * annotations, finalizers and status are what it decides on and fingerprints). Kept on a Node: what
 * {@link isNodeEligible} and {@link toNodeSpec} read, and nothing more.
 *
 * @module
 */
import type { V1Node, V1Service } from "@kubernetes/client-node";

/** `kubectl apply`'s annotation: a second copy of the Service as last applied. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * Strips `service` in place of what the controller never reads; returns it. Parts are replaced, never
 * deleted from: an object that loses a property in V8 becomes a dictionary and grows.
 */
export function trimService(service: V1Service): V1Service {
  if (!service.metadata) return service;
  const { managedFields, annotations, ...metadata } = service.metadata;
  if (annotations !== undefined && LAST_APPLIED_ANNOTATION in annotations) {
    const { [LAST_APPLIED_ANNOTATION]: _lastApplied, ...others } = annotations;
    service.metadata = { ...metadata, annotations: others };
  } else if (managedFields !== undefined) {
    service.metadata = annotations === undefined ? metadata : { ...metadata, annotations };
  }
  return service;
}

/**
 * Strips `node` in place to what the controller reads: name, labels, deletion, taints, providerID and
 * addresses (see `node-eligibility.ts`, which must read nothing else). Returns it.
 */
export function trimNode(node: V1Node): V1Node {
  const { metadata, spec, status } = node;
  node.metadata = defined({
    name: metadata?.name,
    uid: metadata?.uid,
    resourceVersion: metadata?.resourceVersion,
    labels: metadata?.labels,
    deletionTimestamp: metadata?.deletionTimestamp,
  });
  node.spec = defined({ providerID: spec?.providerID, taints: spec?.taints });
  node.status = defined({ addresses: status?.addresses });
  return node;
}

/** `fields` without its undefined ones, built anew (so no property is ever deleted). */
function defined<T extends object>(fields: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
