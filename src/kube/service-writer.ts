/**
 * The only writes the controller makes to Services: its finalizer (metadata) and
 * `status.loadBalancer` (the status subresource). Both are JSON merge patches that touch nothing else,
 * so the controller never overwrites a user's edit or another controller's status conditions.
 *
 * @module
 */
import {
  type CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1LoadBalancerIngress,
  type V1Service,
} from "@kubernetes/client-node";
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
   * Sets `status.loadBalancer.ingress` (`undefined` removes it), leaving every other status field as
   * it is. Resolves the updated Service.
   */
  patchLoadBalancerIngress(
    namespace: string,
    name: string,
    ingress: readonly V1LoadBalancerIngress[] | undefined,
  ): Promise<V1Service>;
}

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export class ServiceWriter implements ServiceWrites {
  readonly #core: CoreV1Api;

  constructor(core: CoreV1Api) {
    this.#core = core;
  }

  async setFinalizer(service: V1Service, finalizer: string, present: boolean): Promise<V1Service> {
    const namespace = service.metadata?.namespace ?? "";
    const name = service.metadata?.name ?? "";
    try {
      return await this.#patchFinalizers(service, finalizer, present);
    } catch (error) {
      // The cache was behind the API server. Read the current object once and try again from it.
      if (!isConflict(error)) throw error;
      const current = await this.#core.readNamespacedService({ namespace, name });
      if ((current.metadata?.finalizers ?? []).includes(finalizer) === present) return current;
      return await this.#patchFinalizers(current, finalizer, present);
    }
  }

  patchLoadBalancerIngress(
    namespace: string,
    name: string,
    ingress: readonly V1LoadBalancerIngress[] | undefined,
  ): Promise<V1Service> {
    // In a merge patch, null deletes the key; a list replaces the whole list.
    const body = { status: { loadBalancer: { ingress: ingress === undefined ? null : [...ingress] } } };
    return this.#core.patchNamespacedServiceStatus({ namespace, name, body }, MERGE_PATCH);
  }

  #patchFinalizers(service: V1Service, finalizer: string, present: boolean): Promise<V1Service> {
    const current = service.metadata?.finalizers ?? [];
    const finalizers = present
      ? [...current.filter((item) => item !== finalizer), finalizer]
      : current.filter((item) => item !== finalizer);
    // A merge patch replaces the whole list; the resourceVersion makes that safe against concurrent edits.
    const body = { metadata: { finalizers, resourceVersion: service.metadata?.resourceVersion } };
    return this.#core.patchNamespacedService(
      { namespace: service.metadata?.namespace ?? "", name: service.metadata?.name ?? "", body },
      MERGE_PATCH,
    );
  }
}
