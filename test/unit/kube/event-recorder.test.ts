import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { KubeApi } from "../../../src/kube/api-client.ts";
import { type EventOutcome, EventRecorder } from "../../../src/kube/event-recorder.ts";

/** An API that records each write and answers at once; the clock and timers are the test's. */
function setUp(options: { qps: number; writeBurst: number; maxQueued?: number; burst?: number }) {
  const writes: Array<{ verb: "create" | "patch"; reason: string; count: number }> = [];
  const api = {
    async create(_path: string, body: { reason: string; count: number; metadata: { name: string } }) {
      writes.push({ verb: "create", reason: body.reason, count: body.count });
      return body;
    },
    async patch(path: string, body: { count: number }) {
      writes.push({ verb: "patch", reason: decodeURIComponent(path.split("/").at(-1) ?? ""), count: body.count });
      return body;
    },
  } as unknown as KubeApi;
  let now = 0;
  const timers: Array<{ at: number; callback: () => void }> = [];
  const outcomes: EventOutcome[] = [];
  const recorder = new EventRecorder({
    api,
    component: "test",
    instance: "test",
    logger: pino({ level: "silent" }),
    ...options,
    now: () => now,
    setTimer: (callback, ms) => timers.push({ at: now + ms, callback }),
    onOutcome: (outcome) => outcomes.push(outcome),
  });
  const subject = (name: string) => ({ kind: "Service", apiVersion: "v1", namespace: "default", name, uid: name });
  /** Moves the clock on, firing the timers that fall due, and lets the writes they start finish. */
  async function advance(ms: number): Promise<void> {
    now += ms;
    for (const timer of timers.splice(0).filter((t) => t.at <= now || !timers.push(t))) timer.callback();
    await recorder.flush();
  }
  return { recorder, writes, outcomes, subject, advance };
}

describe("EventRecorder write rate", () => {
  it("writes a burst at once, then the rest at the rate, folding identical waiting events into one", async () => {
    const { recorder, writes, outcomes, subject, advance } = setUp({ qps: 2, writeBurst: 3 });
    for (let i = 0; i < 6; i++) recorder.record(subject(`svc-${i}`), "Normal", "EnsuredLoadBalancer", "Ensured");
    // Two more of one waiting event: no write of their own, its count grows.
    recorder.record(subject("svc-5"), "Normal", "EnsuredLoadBalancer", "Ensured");
    recorder.record(subject("svc-5"), "Normal", "EnsuredLoadBalancer", "Ensured");
    await recorder.flush();
    expect(writes).toHaveLength(3);
    expect(recorder.queued).toBe(3);

    await advance(500);
    expect(writes).toHaveLength(4);
    await advance(1_000);
    expect(writes).toHaveLength(6);
    expect(recorder.queued).toBe(0);
    expect(writes.at(-1)).toEqual({ verb: "create", reason: "EnsuredLoadBalancer", count: 3 });
    expect(outcomes.filter((o) => o === "written")).toHaveLength(6);
    expect(outcomes.filter((o) => o === "aggregated")).toHaveLength(2);
  });

  it("drops what does not fit the queue, and counts it", async () => {
    const { recorder, writes, outcomes, subject, advance } = setUp({ qps: 1, writeBurst: 1, maxQueued: 2 });
    for (let i = 0; i < 5; i++) recorder.record(subject(`svc-${i}`), "Warning", "SyncLoadBalancerFailed", "x");
    await recorder.flush();
    expect(writes).toHaveLength(1);
    expect(outcomes.filter((o) => o === "dropped-rate")).toHaveLength(2);
    await advance(1_000);
    await advance(1_000);
    expect(writes.map((w) => w.verb)).toEqual(["create", "create", "create"]);
  });

  it("makes room for a Warning in a full queue by dropping the oldest waiting Normal event", async () => {
    const { recorder, writes, outcomes, subject, advance } = setUp({ qps: 1, writeBurst: 1, maxQueued: 2 });
    recorder.record(subject("a"), "Normal", "EnsuredLoadBalancer", "Ensured");
    recorder.record(subject("b"), "Normal", "EnsuredLoadBalancer", "Ensured");
    recorder.record(subject("c"), "Normal", "EnsuredLoadBalancer", "Ensured");
    recorder.record(subject("d"), "Warning", "SyncLoadBalancerFailed", "x");
    recorder.record(subject("e"), "Warning", "SyncLoadBalancerFailed", "x");
    recorder.record(subject("f"), "Warning", "SyncLoadBalancerFailed", "x");
    await recorder.flush();
    await advance(1_000);
    await advance(1_000);
    expect(writes.map((w) => w.reason)).toEqual([
      "EnsuredLoadBalancer",
      "SyncLoadBalancerFailed",
      "SyncLoadBalancerFailed",
    ]);
    expect(outcomes.filter((o) => o === "dropped-rate")).toHaveLength(3);
  });

  it("counts what the per-object spam filter drops apart from the write rate", async () => {
    const { recorder, outcomes, subject } = setUp({ qps: 100, writeBurst: 100, burst: 2 });
    for (let i = 0; i < 4; i++) recorder.record(subject("svc"), "Normal", "Flood", `message ${i}`);
    await recorder.flush();
    expect(outcomes.toSorted()).toEqual(["dropped-spam", "dropped-spam", "written", "written"]);
  });
});
