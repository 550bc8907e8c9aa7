/**
 * The only writes the controller makes to Services: its finalizer (metadata), and in the status
 * subresource `status.loadBalancer.ingress` and its own condition. Each is a patch that touches nothing
 * else, so the controller never overwrites a user's edit or another writer's status:
 * - the finalizer list and the ingress list are replaced whole by a patch, so those patches carry the
 *   resourceVersion they were computed from, and a conflict is computed again from a fresh read;
 * - the condition is a strategic merge on `status.conditions`, keyed by type, which leaves every other
 *   writer's condition alone.
 *
 * @module
 */
import type { V1Condition, V1LoadBalancerIngress, V1Service } from "@kubernetes/client-node";
import { type KubeApi, namespacedPath } from "./api-client.ts";
import { isConflict } from "./api-errors.ts";

/** What reconcile needs to write; {@link ServiceWriter} implements it against the API server. */
export interface ServiceWrites {
  /**
   * Adds (`present: true`) or removes `finalizer`, conditioned on `service`'s resourceVersion so a
   * concurrent change to the finalizer list is never overwritten. Resolves the updated Service; rejects
   * with the API error (404 when the Service is gone, 409 when it keeps changing under us).
   */
  setFinalizer(service: V1Service, finalizer: string, present: boolean): Promise<V1Service>;
  /**
   * Writes what `change` computes from `service` in one status patch, or nothing when it computes
   * nothing. A write that sets the ingress is conditioned on the resourceVersion it was computed from;
   * when the Service changed meanwhile, `change` is computed again from a fresh read and written once
   * more. Resolves the Service as written (or as given, when nothing was); rejects with the API error
   * (404 when the Service is gone, 409 when it keeps changing under us).
   */
  patchStatus(service: V1Service, change: (current: V1Service) => StatusChange | undefined): Promise<V1Service>;
}

/** What the controller owns of a Service's status, to change in one patch. */
export interface StatusChange {
  /** The new `status.loadBalancer.ingress`; `null` removes it; absent leaves it as it is. */
  readonly ingress?: readonly V1LoadBalancerIngress[] | null;
  /** A condition to set (by its type), or the type of one to remove; absent leaves conditions alone. */
  readonly condition?: { readonly set: V1Condition } | { readonly remove: string };
}

/** The API path of a Service. */
export function servicePath(namespace: string, name: string): string {
  return namespacedPath("/api/v1", "services", namespace, name);
}

/** The strategic merge patch body of `change` (see {@link StatusChange}). */
export function statusPatchBody(change: StatusChange, resourceVersion: string | undefined): object {
  const status: Record<string, unknown> = {};
  if (change.ingress !== undefined) {
    // A list without a merge key is replaced whole; null deletes the key.
    status.loadBalancer = { ingress: change.ingress === null ? null : [...change.ingress] };
  }
  if (change.condition !== undefined) {
    status.conditions =
      "set" in change.condition ? [change.condition.set] : [{ type: change.condition.remove, $patch: "delete" }];
  }
  // Only a written ingress list can lose another writer's entries to a stale read.
  const guarded = change.ingress !== undefined && change.ingress !== null && resourceVersion !== undefined;
  return guarded ? { metadata: { resourceVersion }, status } : { status };
}

export class ServiceWriter implements ServiceWrites {
  readonly #api: KubeApi;

  constructor(api: KubeApi) {
    this.#api = api;
  }

  async setFinalizer(service: V1Service, finalizer: string, present: boolean): Promise<V1Service> {
    const namespace = service.metadata?.namespace ?? "";
    const name = service.metadata?.name ?? "";
    try {
      return await this.#patchFinalizers(service, finalizer, present);
    } catch (error) {
      // The cache was behind the API server. Read the current object once and try again from it.
      if (!isConflict(error)) throw error;
      const current = await this.#api.get<V1Service>(servicePath(namespace, name));
      if ((current.metadata?.finalizers ?? []).includes(finalizer) === present) return current;
      return await this.#patchFinalizers(current, finalizer, present);
    }
  }

  async patchStatus(service: V1Service, change: (current: V1Service) => StatusChange | undefined): Promise<V1Service> {
    const namespace = service.metadata?.namespace ?? "";
    const name = service.metadata?.name ?? "";
    const write = (current: V1Service): Promise<V1Service> => {
      const computed = change(current);
      if (computed === undefined) return Promise.resolve(current);
      const body = statusPatchBody(computed, current.metadata?.resourceVersion);
      return this.#api.patch<V1Service>(`${servicePath(namespace, name)}/status`, body, "strategic-merge");
    };
    try {
      return await write(service);
    } catch (error) {
      // The cache was behind the API server (another writer's status, say): compute again from the truth.
      if (!isConflict(error)) throw error;
      return await write(await this.#api.get<V1Service>(servicePath(namespace, name)));
    }
  }

  #patchFinalizers(service: V1Service, finalizer: string, present: boolean): Promise<V1Service> {
    const current = service.metadata?.finalizers ?? [];
    const finalizers = present
      ? [...current.filter((item) => item !== finalizer), finalizer]
      : current.filter((item) => item !== finalizer);
    // A merge patch replaces the whole list; the resourceVersion makes that safe against concurrent edits.
    const body = { metadata: { finalizers, resourceVersion: service.metadata?.resourceVersion } };
    return this.#api.patch<V1Service>(
      servicePath(service.metadata?.namespace ?? "", service.metadata?.name ?? ""),
      body,
      "merge",
    );
  }
}
