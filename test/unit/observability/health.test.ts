import { describe, expect, it } from "vitest";
import { liveness, ProbeState, type Role, readiness } from "../../../src/observability/health.ts";

function state(role: Role, synced: boolean, shuttingDown = false): ProbeState {
  const probes = new ProbeState();
  probes.role = role;
  probes.hasSynced = () => synced;
  probes.shuttingDown = shuttingDown;
  return probes;
}

describe("readiness", () => {
  it.each([
    { role: "standby", synced: false, shuttingDown: false, status: 200, body: "ok: standby" },
    { role: "leader", synced: false, shuttingDown: false, status: 503, body: "informers not synced" },
    { role: "leader", synced: true, shuttingDown: false, status: 200, body: "ok: leader" },
    { role: "single", synced: false, shuttingDown: false, status: 503, body: "informers not synced" },
    { role: "single", synced: true, shuttingDown: false, status: 200, body: "ok: single" },
    { role: "leader", synced: true, shuttingDown: true, status: 503, body: "shutting down" },
    { role: "standby", synced: false, shuttingDown: true, status: 503, body: "shutting down" },
  ] as const)("$role synced=$synced shuttingDown=$shuttingDown -> $status", (row) => {
    expect(readiness(state(row.role, row.synced, row.shuttingDown))).toEqual({ status: row.status, body: row.body });
  });

  it.each(["leader", "single"] as const)("a %s that cannot reach the API server is not ready", (role) => {
    const probes = state(role, true);
    probes.apiReachable = () => false;
    expect(readiness(probes)).toEqual({ status: 503, body: "cannot reach the API server" });
  });

  it("starts as a standby that is not synced", () => {
    expect(readiness(new ProbeState())).toEqual({ status: 200, body: "ok: standby" });
  });
});

describe("liveness", () => {
  it("is ok while the process runs", () => {
    expect(liveness()).toEqual({ status: 200, body: "ok" });
  });
});
