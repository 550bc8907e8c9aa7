import { describe, expect, it } from "vitest";
import { statusPatchBody } from "../../../src/kube/service-writer.ts";

const CONDITION = {
  type: "lb-provisioner.io/LoadBalancerReady",
  status: "True",
  reason: "Ensured",
  message: "Ensured load balancer",
  lastTransitionTime: new Date("2026-12-02T10:00:00Z"),
};

describe("statusPatchBody", () => {
  it("writes the ingress with the resourceVersion it was computed from, and the condition by type", () => {
    expect(
      statusPatchBody({ ingress: [{ ip: "127.0.0.1", ipMode: "Proxy" }], condition: { set: CONDITION } }, "42"),
    ).toEqual({
      metadata: { resourceVersion: "42" },
      status: { loadBalancer: { ingress: [{ ip: "127.0.0.1", ipMode: "Proxy" }] }, conditions: [CONDITION] },
    });
  });

  it("sets or deletes only the condition, unguarded: a merge by type cannot lose another writer's", () => {
    expect(statusPatchBody({ condition: { set: CONDITION } }, "42")).toEqual({ status: { conditions: [CONDITION] } });
    expect(statusPatchBody({ ingress: null, condition: { remove: CONDITION.type } }, "42")).toEqual({
      status: { loadBalancer: { ingress: null }, conditions: [{ type: CONDITION.type, $patch: "delete" }] },
    });
  });
});
