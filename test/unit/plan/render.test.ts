import { describe, expect, it } from "vitest";
import { planExitCode, renderPlanJson, renderPlanText } from "../../../src/plan/render.ts";
import type { ServicePlan } from "../../../src/plan/types.ts";

const upToDate: ServicePlan = { service: "default/a", action: "none", changes: [], issues: [] };
const grows: ServicePlan = {
  service: "default/b",
  action: "update",
  changes: [
    { action: "update", subject: "target-group", name: "80/TCP", from: "nodePort 30008", to: "nodePort 30009" },
    { action: "create", subject: "target", name: "node-4:30009" },
    { action: "delete", subject: "target", name: "node-4:30008" },
  ],
  issues: [{ field: "metadata.annotations[x]", message: "ignored.", severity: "warning" }],
};
const invalid: ServicePlan = {
  service: "default/c",
  action: "invalid",
  changes: [],
  issues: [{ field: "spec.ports[0].protocol", message: "SCTP is not supported.", severity: "error" }],
};

describe("plan rendering", () => {
  it.each([
    { plans: [], code: 0 },
    { plans: [upToDate], code: 0 },
    { plans: [upToDate, grows], code: 2 },
    { plans: [invalid], code: 2 },
  ])("exit code $code", ({ plans, code }) => {
    expect(planExitCode(plans)).toBe(code);
  });

  it("text: one line per change, issues first, then a summary", () => {
    expect(renderPlanText([upToDate, grows, invalid])).toBe(
      [
        "default/a: up to date",
        "default/b: update load balancer",
        "  ! warning metadata.annotations[x]: ignored.",
        "  ~ target-group 80/TCP  nodePort 30008 -> nodePort 30009",
        "  + target node-4:30009",
        "  - target node-4:30008",
        "default/c: invalid (the controller reports a Warning event and changes nothing)",
        "  ! error spec.ports[0].protocol: SCTP is not supported.",
        "Plan: 0 to create, 1 to update, 0 to clean up, 1 invalid, 1 up to date.",
        "",
      ].join("\n"),
    );
  });

  it("text: an adoption is its own verdict, change symbol and count", () => {
    const adopts: ServicePlan = {
      service: "default/d",
      action: "adopt",
      changes: [
        {
          action: "adopt",
          subject: "load-balancer",
          name: "default/d",
          from: "built by the legacy AWS cloud provider",
          to: "kept at a1.elb.amazonaws.com",
        },
      ],
      issues: [],
    };
    expect(renderPlanText([adopts, upToDate])).toBe(
      [
        "default/d: adopt load balancer",
        "  > load-balancer default/d  built by the legacy AWS cloud provider -> kept at a1.elb.amazonaws.com",
        "default/a: up to date",
        "Plan: 0 to create, 1 to adopt, 0 to update, 0 to clean up, 0 invalid, 1 up to date.",
        "",
      ].join("\n"),
    );
    expect(planExitCode([adopts])).toBe(2);
  });

  it("text: a note replaces the verdict", () => {
    expect(renderPlanText([{ ...upToDate, note: "not managed: type NodePort" }])).toContain(
      "default/a: not managed: type NodePort\n",
    );
  });

  it("text: says so when nothing would change", () => {
    expect(renderPlanText([upToDate])).toBe("default/a: up to date\nNo changes: 1 Service up to date.\n");
    expect(renderPlanText([])).toBe("No Services to plan for.\n");
  });

  it("json: the plans as they are, plus a changed flag", () => {
    expect(JSON.parse(renderPlanJson([upToDate, grows]))).toEqual({ changed: true, services: [upToDate, grows] });
    expect(JSON.parse(renderPlanJson([upToDate]))).toEqual({ changed: false, services: [upToDate] });
  });
});
