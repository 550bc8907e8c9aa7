import type { CoreV1Event, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ObservedLoadBalancer } from "../../../providers/index.ts";
import { parseServiceArgument } from "../../../src/commands/plan.ts";
import { renderGc } from "../../../src/plan/gc.ts";
import {
  eventTime,
  formatAge,
  latestControllerEvent,
  renderStatusTable,
  statusRow,
} from "../../../src/plan/service-status.ts";

const service: V1Service = {
  metadata: { namespace: "default", name: "web", uid: "u-1" },
  spec: { type: "LoadBalancer", ports: [{ port: 80, protocol: "TCP" }, { port: 53 }] },
  status: { loadBalancer: { ingress: [{ hostname: "lb.example.test" }] } },
};

const observed: ObservedLoadBalancer = {
  ref: { clusterName: "c", service: { namespace: "default", name: "web" } },
  status: { ingress: [{ hostname: "lb.example.test" }] },
  listeners: [
    {
      port: 80,
      protocol: "TCP",
      targetPort: 30008,
      targets: [
        { id: "node-1", port: 30008 },
        { id: "node-2", port: 30008 },
      ],
    },
    { port: 53, protocol: "UDP", targetPort: 30053, targets: [{ id: "node-1", port: 30053 }] },
  ],
};

function event(reason: string, at: string, tweak: Partial<CoreV1Event> = {}): CoreV1Event {
  return {
    metadata: { namespace: "default", name: `web.${reason}` },
    involvedObject: { kind: "Service", namespace: "default", name: "web", uid: "u-1" },
    reason,
    type: "Normal",
    lastTimestamp: new Date(at),
    ...tweak,
  };
}

describe("status", () => {
  it("a row from the Service, the provider's view and the latest event", () => {
    const row = statusRow(service, observed, "fake", event("EnsuredLoadBalancer", "2026-01-01T00:00:00Z"));
    expect(row).toEqual({
      service: "default/web",
      address: "lb.example.test",
      provider: "fake",
      listeners: "80/TCP, 53/UDP",
      targets: 2,
      ready: undefined,
      lastResult: "Normal EnsuredLoadBalancer",
      lastResultAt: new Date("2026-01-01T00:00:00Z"),
    });
  });

  it("falls back to the Service's ports when the provider has nothing", () => {
    const row = statusRow(service, undefined, "aws", undefined);
    expect(row).toMatchObject({ listeners: "80/TCP, 53/TCP", targets: undefined, lastResult: "" });
  });

  it("the latest controller event of this Service object wins; others are ignored", () => {
    const events = [
      event("EnsuringLoadBalancer", "2026-01-01T00:00:00Z"),
      event("SyncLoadBalancerFailed", "2026-01-01T00:01:00Z", { type: "Warning", message: "boom" }),
      event("EnsuredLoadBalancer", "2026-01-01T00:00:30Z"),
      event("Scheduled", "2026-01-01T00:05:00Z"),
      event("DeletedLoadBalancer", "2026-01-01T00:09:00Z", {
        involvedObject: { kind: "Service", namespace: "default", name: "web", uid: "u-old" },
      }),
      event("EnsuredLoadBalancer", "2026-01-01T00:09:00Z", {
        involvedObject: { kind: "Service", namespace: "other", name: "web" },
      }),
    ];
    const latest = latestControllerEvent(service, events);
    expect(latest?.reason).toBe("SyncLoadBalancerFailed");
    expect(statusRow(service, observed, "fake", latest).lastResult).toBe("Warning SyncLoadBalancerFailed: boom");
  });

  it("breaks a tie of one-second timestamps by write order", () => {
    const at = "2026-01-01T00:00:00Z";
    const ensured = event("EnsuredLoadBalancer", at, { metadata: { name: "b", resourceVersion: "120" } });
    const ensuring = event("EnsuringLoadBalancer", at, { metadata: { name: "a", resourceVersion: "99" } });
    expect(latestControllerEvent(service, [ensured, ensuring])?.reason).toBe("EnsuredLoadBalancer");
    expect(latestControllerEvent(service, [ensuring, ensured])?.reason).toBe("EnsuredLoadBalancer");
  });

  it("reads the time of series, classic and new-style events", () => {
    expect(eventTime(event("X", "2026-01-01T00:00:00Z"))).toEqual(new Date("2026-01-01T00:00:00Z"));
    expect(
      eventTime({
        metadata: {},
        involvedObject: {},
        eventTime: new Date("2026-02-01T00:00:00Z"),
        series: { count: 3, lastObservedTime: new Date("2026-02-02T00:00:00Z") },
      }),
    ).toEqual(new Date("2026-02-02T00:00:00Z"));
    expect(eventTime({ metadata: {}, involvedObject: {} })).toBeUndefined();
  });

  it.each([
    [0, "0s"],
    [119_999, "119s"],
    [120_000, "2m"],
    [7_199_000, "119m"],
    [7_200_000, "2h"],
    [48 * 3_600_000, "2d"],
    [-5, "0s"],
  ])("age of %d ms is %s", (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });

  it("renders a table, with placeholders for what is not known yet", () => {
    const now = new Date("2026-01-01T00:03:00Z");
    const ready = {
      type: "lb-provisioner.io/LoadBalancerReady",
      status: "True",
      reason: "Ensured",
      message: "Ensured load balancer",
      lastTransitionTime: new Date("2026-01-01T00:00:00Z"),
    };
    const waiting = { ...ready, status: "False", reason: "WaitingForCloud", message: "provisioning" };
    const withCondition = (condition: typeof ready, name: string) => ({
      ...service,
      metadata: { namespace: "default", name },
      status: { ...service.status, conditions: [condition] },
    });
    const rows = [
      statusRow(withCondition(ready, "web"), observed, "fake", event("EnsuredLoadBalancer", "2026-01-01T00:00:00Z")),
      statusRow(withCondition(waiting, "slow"), observed, "fake", undefined),
      statusRow(
        { ...service, metadata: { namespace: "default", name: "new" }, status: {} },
        undefined,
        "fake",
        undefined,
      ),
    ];
    expect(renderStatusTable(rows, now)).toBe(
      [
        "SERVICE       ADDRESS          PROVIDER  LISTENERS       TARGETS  READY                    LAST RESULT                 AGE",
        "default/web   lb.example.test  fake      80/TCP, 53/UDP  2        True                     Normal EnsuredLoadBalancer  3m",
        "default/slow  lb.example.test  fake      80/TCP, 53/UDP  2        False (WaitingForCloud)  -                           -",
        "default/new   <pending>        fake      80/TCP, 53/TCP  -        -                        -                           -",
        "",
      ].join("\n"),
    );
    expect(renderStatusTable([], now)).toBe("No Services managed by this controller.\n");
  });
});

describe("status of a load balancer with deletion protection", () => {
  it("says so in the row and the table", () => {
    const row = statusRow(service, { ...observed, deletionProtection: true }, "aws", undefined);
    expect(row.deletionProtection).toBe(true);
    expect(renderStatusTable([row], new Date())).toMatch(/lb\.example\.test \(deletion protection on\)/);
    expect(statusRow(service, observed, "aws", undefined)).not.toHaveProperty("deletionProtection");
  });
});

describe("gc output", () => {
  const orphan = { loadBalancer: { ...observed, resources: { loadBalancer: "abc" } }, reason: "Service not found" };

  it("lists and says how to delete", () => {
    expect(renderGc({ orphans: [orphan], deleted: false, failed: [] }, "c")).toBe(
      [
        "SERVICE      ADDRESS          REASON             RESOURCES",
        "default/web  lb.example.test  Service not found  loadBalancer=abc",
        "1 orphaned load balancer; run again with --yes to delete.",
        "",
      ].join("\n"),
    );
  });

  it("says what it deleted, or that there was nothing", () => {
    expect(renderGc({ orphans: [orphan, orphan], deleted: true, failed: [] }, "c")).toMatch(
      /Deleted 2 orphaned load balancers\.\n$/,
    );
    expect(renderGc({ orphans: [], deleted: true, failed: [] }, "c")).toBe(
      "No orphaned load balancers in cluster c.\n",
    );
  });

  it("says which orphan has deletion protection on, and which it could not delete", () => {
    const protectedOrphan = {
      loadBalancer: {
        ...observed,
        deletionProtection: true,
        ref: { ...observed.ref, service: { namespace: "default", name: "kept" } },
      },
      reason: "Service not found",
    };
    expect(renderGc({ orphans: [protectedOrphan], deleted: false, failed: [] }, "c")).toMatch(
      /Service not found; deletion protection on \(switch it off to delete\)/,
    );
    const failed = [{ orphan: protectedOrphan, message: "load balancer arn:x has deletion protection on" }];
    expect(renderGc({ orphans: [orphan, protectedOrphan], deleted: true, failed }, "c")).toMatch(
      /\nCould not delete default\/kept: load balancer arn:x has deletion protection on\nDeleted 1 orphaned load balancer; the rest are left as they are\.\n$/,
    );
  });

  it("counts what a Service left without a load balancer apart from load balancers", () => {
    const leftovers = {
      loadBalancer: {
        ...observed,
        status: { ingress: [] },
        listeners: [],
        leftovers: [{ kind: "security-group", id: "sg-1" }],
        resources: { securityGroup: "sg-1" },
      },
      reason: "Service not found",
    };
    expect(renderGc({ orphans: [orphan, leftovers], deleted: false, failed: [] }, "c")).toMatch(
      /\n1 orphaned load balancer and the leftovers \(target groups, security groups\) of 1 more Service; run again with --yes to delete\.\n$/,
    );
    expect(renderGc({ orphans: [leftovers], deleted: true, failed: [] }, "c")).toMatch(
      /-\s+Service not found\s+securityGroup=sg-1\nDeleted the leftovers \(target groups, security groups\) of 1 Service\.\n$/,
    );
  });
});

describe("plan argument", () => {
  it.each([
    ["default/web", { namespace: "default", name: "web" }],
    ["web", { namespace: "default", name: "web" }],
    ["kube-system/dns", { namespace: "kube-system", name: "dns" }],
  ])("%s", (text, parsed) => {
    expect(parseServiceArgument(text)).toEqual(parsed);
  });

  it.each(["a/b/c", "/web", "ns/", ""])("rejects %j", (text) => {
    expect(() => parseServiceArgument(text)).toThrow(/expected namespace\/name/);
  });
});
