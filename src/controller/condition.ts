/**
 * The condition the controller keeps on every Service it manages, so a user (or `kubectl wait
 * --for=condition=lb-provisioner.io/LoadBalancerReady`) can tell whether the load balancer is there for
 * what the Service says now, without reading Events.
 *
 * - `True`, reason `Ensured`: the provider ensured the load balancer for the Service's current spec and
 *   the eligible nodes.
 * - `False`, with the reason in {@link ConditionReason} and the message of the Event recorded for the
 *   same outcome (a Warning, or for `Ensuring` and `WaitingForCloud` what the controller logs).
 *
 * `observedGeneration` is the Service's `metadata.generation` the outcome is for. The API server keeps
 * no generation for Services (as of Kubernetes 1.37), so it is 0, which the API server leaves out of
 * what it returns. A change therefore does not show as an older generation; instead the controller sets the condition `False`
 * (`Ensuring`) when it takes up a change to a Service whose condition says `True`. Pure: the caller
 * supplies the clock; the write (merged by type, leaving conditions of other writers alone) is
 * `service-writer.ts`.
 *
 * @module
 */
import type { V1Condition, V1Service } from "@kubernetes/client-node";
import { providerErrorKind } from "../../providers/index.ts";

/** The condition type: domain-prefixed, as Kubernetes asks of types not its own. */
export const LOAD_BALANCER_CONDITION = "lb-provisioner.io/LoadBalancerReady";

/** Why the condition is what it is (CamelCase, as the API server requires of a reason). */
export const ConditionReason = {
  /** The load balancer is ensured for the current spec and nodes. */
  Ensured: "Ensured",
  /** The Service changed since the load balancer was last ensured; the controller is at it. */
  Ensuring: "Ensuring",
  /** There is no eligible node: the load balancer exists but has nowhere to send traffic. */
  NoNodes: "NoNodes",
  /** The Service asks for something no load balancer can be built from; fix the field named. */
  InvalidConfiguration: "InvalidConfiguration",
  /** A cloud resource in the way belongs to someone else. */
  Conflict: "Conflict",
  /** The cloud failed (or throttled); retried with backoff. */
  CloudError: "CloudError",
  /** The provider asked to be called again later (the cloud is still building). */
  WaitingForCloud: "WaitingForCloud",
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

/** What the condition should say. */
export interface ConditionState {
  readonly status: "True" | "False";
  readonly reason: ConditionReason;
  readonly message: string;
}

/** The API server's limit on a condition message. */
const MAX_MESSAGE_LENGTH = 32_768;

/** The reason for a failed ensure, from the provider error's kind. */
export function failureReason(error: unknown): ConditionReason {
  switch (providerErrorKind(error)) {
    case "invalid-configuration":
      return ConditionReason.InvalidConfiguration;
    case "conflict":
      return ConditionReason.Conflict;
    case "retry-after":
      return ConditionReason.WaitingForCloud;
    default:
      return ConditionReason.CloudError;
  }
}

/** The controller's condition on `service`, when it carries one. */
export function conditionOf(service: V1Service | undefined): V1Condition | undefined {
  return service?.status?.conditions?.find((condition) => condition.type === LOAD_BALANCER_CONDITION);
}

/** `metav1.Time`: RFC 3339 to the second. */
function apiTime(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 1000) * 1000);
}

/**
 * The condition to write for `state` on `service`, or `undefined` when the Service already says it for
 * its current generation. `lastTransitionTime` moves only when the status does.
 */
export function nextCondition(service: V1Service, state: ConditionState, now: Date): V1Condition | undefined {
  const current = conditionOf(service);
  const generation = service.metadata?.generation ?? 0;
  const message = state.message.slice(0, MAX_MESSAGE_LENGTH);
  if (
    current !== undefined &&
    current.status === state.status &&
    current.reason === state.reason &&
    current.message === message &&
    (current.observedGeneration ?? 0) === generation
  ) {
    return undefined;
  }
  const transitioned = current === undefined || current.status !== state.status;
  return {
    type: LOAD_BALANCER_CONDITION,
    status: state.status,
    reason: state.reason,
    message,
    lastTransitionTime: transitioned ? apiTime(now) : new Date(current.lastTransitionTime),
    observedGeneration: generation,
  };
}
