/**
 * The vocabulary of `lb-provisioner plan`: what would change for one Service's load balancer, in the
 * provider-neutral terms of {@link ObservedLoadBalancer}. Produced by `diff.ts`, printed by `render.ts`.
 *
 * @module
 */
import type { LoadBalancerSpec, ObservedLoadBalancer, ValidationIssue } from "../../providers/index.ts";

/** What of an ingress entry is its address, from the provider or as a Service publishes it. */
export interface IngressAddress {
  readonly hostname?: string | undefined;
  readonly ip?: string | undefined;
}

/**
 * What happens to one piece of a load balancer. `adopt`: a load balancer another controller built for
 * the Service is taken over in place, keeping its address (the provider reports it as `adoptFrom`).
 */
export type ChangeAction = "create" | "update" | "delete" | "adopt";

/**
 * The piece that changes. A listener forwards to exactly one target group (one per Service port), so
 * `target-group` changes are about the port traffic is sent to and its health check; `status` is the
 * Service's own `status.loadBalancer`, which the controller writes after the cloud converges.
 */
export type ChangeSubject =
  | "load-balancer"
  | "listener"
  | "target-group"
  | "target"
  | "health-check"
  | "source-ranges"
  | "status"
  /** A resource the provider owns for the Service that the load balancer does not use (`name`: kind and id). */
  | "leftover";

/** One change the controller would make. `from`/`to` are short human-readable values. */
export interface PlannedChange {
  readonly action: ChangeAction;
  readonly subject: ChangeSubject;
  /** Which one: `80/TCP` for a listener, `node-1:30008` for a target, the address for a load balancer. */
  readonly name: string;
  readonly from?: string;
  readonly to?: string;
}

/**
 * The verdict for one Service:
 * - `none`: the load balancer and the Service's status already match;
 * - `create` / `update` / `delete`: the controller would make {@link ServicePlan.changes};
 * - `adopt`: the controller would take over the load balancer another controller built for the
 *   Service, keeping its address, and then make the other {@link ServicePlan.changes};
 * - `invalid`: the spec has `error` issues, so the controller would make no cloud call and report a
 *   Warning event instead.
 */
export type PlanAction = "none" | "create" | "update" | "delete" | "adopt" | "invalid";

/** Everything `plan` says about one Service. */
export interface ServicePlan {
  /** `namespace/name`. */
  readonly service: string;
  readonly action: PlanAction;
  /** Ordered: load balancer, then per listener (listener, target group, health check, targets), then status. */
  readonly changes: readonly PlannedChange[];
  /** Validation findings (warnings included), for the operator to read. */
  readonly issues: readonly ValidationIssue[];
  /** Why the controller leaves this Service alone, when it was named but is not one it manages. */
  readonly note?: string;
}

/** What the diff needs to know about one Service. Everything is plain data, read-only. */
export interface PlanInput {
  /** `namespace/name`. */
  readonly service: string;
  /**
   * The spec the controller would ensure, or `undefined` when the Service no longer wants a load
   * balancer (deleted with the finalizer still on, switched away from LoadBalancer, class changed).
   */
  readonly desired: LoadBalancerSpec | undefined;
  /** What the provider reports, or `undefined` when nothing exists. */
  readonly observed: ObservedLoadBalancer | undefined;
  /** The Service's current `status.loadBalancer.ingress`. */
  readonly publishedIngress: readonly IngressAddress[];
  /** The provider's `validate(desired)` result; empty when it has no `validate`. */
  readonly issues?: readonly ValidationIssue[];
  /**
   * Whether the published status already says what the provider reports, as the controller judges it
   * (it also minds `ipMode` and `ports`). When absent, addresses are compared by hostname and IP.
   */
  readonly statusInSync?: boolean;
}
