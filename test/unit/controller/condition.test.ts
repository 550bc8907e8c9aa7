import type { V1Condition } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ConflictError, InvalidConfigurationError, RetryAfterError } from "../../../providers/errors.ts";
import {
  type ConditionState,
  conditionOf,
  failureReason,
  LOAD_BALANCER_CONDITION,
  nextCondition,
} from "../../../src/controller/condition.ts";
import { newService } from "./fixtures.ts";

const READY: ConditionState = { status: "True", reason: "Ensured", message: "Ensured load balancer" };
const EARLIER = new Date("2026-12-01T08:00:00Z");
const NOW = new Date("2026-12-02T10:00:00.750Z");

function withConditions(...conditions: V1Condition[]) {
  return newService("myapp", (service) => {
    service.status = { conditions };
  });
}

function ours(state: ConditionState, observedGeneration = 0): V1Condition {
  return { type: LOAD_BALANCER_CONDITION, ...state, lastTransitionTime: EARLIER, observedGeneration };
}

describe("nextCondition", () => {
  it("is set with the time to the second and generation 0 on a Service without generation", () => {
    expect(nextCondition(newService("myapp"), READY, NOW)).toEqual({
      type: "lb-provisioner.io/LoadBalancerReady",
      ...READY,
      lastTransitionTime: new Date("2026-12-02T10:00:00Z"),
      observedGeneration: 0,
    });
  });

  it("is nothing when the Service already says it (generation 0 as the API server returns it: absent)", () => {
    expect(nextCondition(withConditions(ours(READY)), READY, NOW)).toBeUndefined();
    const { observedGeneration: _, ...returned } = ours(READY);
    expect(nextCondition(withConditions(returned), READY, NOW)).toBeUndefined();
  });

  it("keeps the transition time when only the reason or message changes", () => {
    const waiting: ConditionState = { status: "False", reason: "WaitingForCloud", message: "provisioning" };
    const next = nextCondition(withConditions(ours(waiting)), { ...waiting, reason: "CloudError" }, NOW);
    expect(next?.lastTransitionTime).toEqual(EARLIER);
  });

  it("is written again for a newer generation, where the API server keeps one", () => {
    const service = withConditions(ours(READY, 1));
    service.metadata = { ...service.metadata, generation: 2 };
    expect(nextCondition(service, READY, NOW)).toMatchObject({ observedGeneration: 2, lastTransitionTime: EARLIER });
  });

  it("cuts a message to the API server's limit", () => {
    const next = nextCondition(newService("myapp"), { ...READY, message: "x".repeat(40_000) }, NOW);
    expect(next?.message).toHaveLength(32_768);
  });
});

describe("conditionOf", () => {
  it("finds ours among others' conditions", () => {
    const theirs: V1Condition = { ...ours(READY), type: "example.com/Audited" };
    expect(conditionOf(withConditions(theirs))).toBeUndefined();
    expect(conditionOf(withConditions(theirs, ours(READY)))?.type).toBe(LOAD_BALANCER_CONDITION);
  });
});

describe("failureReason", () => {
  it.each([
    [new InvalidConfigurationError("spec.ports", "bad"), "InvalidConfiguration"],
    [new ConflictError("lb", "taken"), "Conflict"],
    [new RetryAfterError("later", 1_000), "WaitingForCloud"],
    [new Error("boom"), "CloudError"],
  ])("%s -> %s", (error, reason) => {
    expect(failureReason(error)).toBe(reason);
  });
});
