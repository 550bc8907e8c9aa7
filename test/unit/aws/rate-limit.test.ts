import { describe, expect, it } from "vitest";
import { type Clock, RateLimiter, systemClock, TokenBucket } from "../../../providers/aws/rate-limit.ts";

/** A clock that only moves when told to; `sleep` records the wait and parks until `advance`. */
function manualClock() {
  let now = 0;
  const sleepers: { until: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const requested: number[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        requested.push(ms);
        const sleeper = { until: now + ms, resolve, reject };
        sleepers.push(sleeper);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
  };
  return {
    clock,
    requested,
    advance(ms: number) {
      now += ms;
      for (const s of sleepers.splice(0)) {
        if (s.until <= now) s.resolve();
        else sleepers.push(s);
      }
    },
  };
}

describe("TokenBucket", () => {
  it("lets a burst through at once, then paces callers at the rate, in arrival order", async () => {
    const { clock, requested, advance } = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 4, burst: 2 }, clock);
    await bucket.take();
    await bucket.take();
    expect(requested).toEqual([]);
    const order: number[] = [];
    const third = bucket.take().then(() => order.push(3));
    const fourth = bucket.take().then(() => order.push(4));
    expect(requested).toEqual([250, 500]);
    advance(250);
    await third;
    expect(order).toEqual([3]);
    advance(250);
    await fourth;
    expect(order).toEqual([3, 4]);
  });

  it("refills over time up to the burst", async () => {
    const { clock, requested, advance } = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 3 }, clock);
    for (let i = 0; i < 3; i++) await bucket.take();
    advance(10_000);
    expect(bucket.tokens).toBe(3);
    for (let i = 0; i < 3; i++) await bucket.take();
    expect(requested).toEqual([]);
  });

  it("returns the token of a caller that gives up", async () => {
    const { clock } = manualClock();
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1 }, clock);
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    expect(bucket.tokens).toBe(-1);
    const reason = new Error("give up");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(bucket.tokens).toBe(0);
    await expect(bucket.take(AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it.each([
    { ratePerSecond: 0, burst: 1 },
    { ratePerSecond: 1, burst: 0 },
    { ratePerSecond: Number.NaN, burst: 1 },
  ])("rejects the limit %j", (limit) => {
    expect(() => new TokenBucket(limit)).toThrow(RangeError);
  });
});

describe("RateLimiter", () => {
  it("keeps one bucket per key", async () => {
    const { clock, requested } = manualClock();
    const limiter = new RateLimiter(() => ({ ratePerSecond: 1, burst: 1 }), clock);
    await limiter.take("elbv2:register");
    await limiter.take("elbv2:describe");
    await limiter.take("ec2:register");
    expect(requested).toEqual([]);
    void limiter.take("elbv2:register");
    expect(requested).toEqual([1000]);
  });
});

describe("systemClock", () => {
  it("rejects a sleep with the signal's reason", async () => {
    const reason = new Error("bye");
    await expect(systemClock.sleep(60_000, AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
