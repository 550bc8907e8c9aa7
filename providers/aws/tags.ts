/**
 * Ownership tags: the only proof that an AWS resource was made by this cluster for this Service.
 *
 * Every load balancer, target group, listener and security group carries
 * `kubernetes.io/cluster/<cluster>=owned` and `kubernetes.io/service-name=<namespace>/<name>` (the keys
 * cloud-provider-aws uses), plus the Service's uid for operators and `gc`. Nothing is modified or deleted
 * unless {@link isOwnedBy} holds; a resource in the way that fails it is a conflict, never touched.
 *
 * @module
 */
import type { LoadBalancerRef } from "../types.ts";
import type { Tags } from "./state.ts";

export const CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/";
export const SERVICE_NAME_TAG = "kubernetes.io/service-name";
export const SERVICE_UID_TAG = "lb-provisioner/service-uid";
export const OWNED = "owned";

/** Keys the provider sets itself; `additional-resource-tags` may not override them. */
export function isReservedTagKey(key: string, clusterName: string): boolean {
  return key === clusterTagKey(clusterName) || key === SERVICE_NAME_TAG || key === SERVICE_UID_TAG;
}

export function clusterTagKey(clusterName: string): string {
  return `${CLUSTER_TAG_PREFIX}${clusterName}`;
}

/** The tags that mark a resource as `ref`'s. */
export function ownershipTags(ref: LoadBalancerRef): Tags {
  const tags: Record<string, string> = {
    [clusterTagKey(ref.clusterName)]: OWNED,
    [SERVICE_NAME_TAG]: `${ref.service.namespace}/${ref.service.name}`,
  };
  if (ref.service.uid !== undefined && ref.service.uid !== "") tags[SERVICE_UID_TAG] = ref.service.uid;
  return tags;
}

/** Whether `tags` prove the resource belongs to `ref` (cluster and Service; the uid is informative). */
export function isOwnedBy(tags: Tags, ref: LoadBalancerRef): boolean {
  return (
    tags[clusterTagKey(ref.clusterName)] === OWNED &&
    tags[SERVICE_NAME_TAG] === `${ref.service.namespace}/${ref.service.name}`
  );
}

/** The Service a resource owned by `clusterName` was made for, or `undefined` when not this cluster's. */
export function ownerOf(
  tags: Tags,
  clusterName: string,
): { namespace: string; name: string; uid?: string } | undefined {
  if (tags[clusterTagKey(clusterName)] !== OWNED) return undefined;
  const serviceName = tags[SERVICE_NAME_TAG];
  const slash = serviceName?.indexOf("/") ?? -1;
  if (serviceName === undefined || slash <= 0 || slash === serviceName.length - 1) return undefined;
  const owner = { namespace: serviceName.slice(0, slash), name: serviceName.slice(slash + 1) };
  const uid = tags[SERVICE_UID_TAG];
  return uid === undefined ? owner : { ...owner, uid };
}

/** Tags in `desired` that `actual` lacks or holds with another value. Extra actual tags are kept. */
export function missingTags(desired: Tags, actual: Tags): Tags {
  return Object.fromEntries(
    Object.entries(desired).filter(([key, value]) => !Object.hasOwn(actual, key) || actual[key] !== value),
  );
}

/** AWS `[{Key, Value}]` lists to a record and back. */
export function fromTagList(list: readonly { Key?: string | undefined; Value?: string | undefined }[] = []): Tags {
  // From entries, so a tag key such as `__proto__` stays a tag instead of replacing the prototype.
  return Object.fromEntries(list.flatMap(({ Key, Value }) => (Key === undefined ? [] : [[Key, Value ?? ""]])));
}

export function toTagList(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([Key, Value]) => ({ Key, Value }));
}
