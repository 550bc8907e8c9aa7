import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ExponentialBackoff } from "../../../src/controller/backoff.ts";
import { WorkQueue } from "../../../src/controller/queue.ts";

/** A queue whose backoff has no jitter, so delays are exact. */
function newQueue(onDepthChange?: (depth: number) => void): WorkQueue {
  return new WorkQueue({
    backoff: { baseMs: 5_000, maxMs: 300_000, jitter: 0 },
    ...(onDepthChange ? { onDepthChange } : {}),
  });
}

/** Resolves to the key if `get()` produced one within the current tick, else "pending". */
async function peek(promise: Promise<string | undefined>): Promise<string | undefined | "pending"> {
  return Promise.race([promise, new Promise<"pending">((resolve) => setImmediate(() => resolve("pending")))]);
}

describe("WorkQueue", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("hands keys out in FIFO order and de-duplicates keys that are waiting", async () => {
    const queue = newQueue();
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    expect(queue.depth).toBe(2);
    expect(await queue.get()).toBe("ns/a");
    expect(await queue.get()).toBe("ns/b");
    expect(queue.depth).toBe(0);
  });

  it("never hands the same key to two workers; an add while processing re-runs it after done", async () => {
    const queue = newQueue();
    queue.add("ns/a");
    const first = await queue.get();
    expect(first).toBe("ns/a");

    queue.add("ns/a");
    queue.add("ns/a");
    const second = queue.get();
    expect(await peek(second)).toBe("pending");

    queue.done("ns/a");
    expect(await second).toBe("ns/a");
    queue.done("ns/a");
    expect(queue.depth).toBe(0);
    expect(await peek(queue.get())).toBe("pending");
  });

  it("does not re-run a key that was not added again while processing", async () => {
    const queue = newQueue();
    queue.add("ns/a");
    await queue.get();
    queue.done("ns/a");
    expect(queue.depth).toBe(0);
  });

  it("wakes a waiting worker when a key arrives", async () => {
    const queue = newQueue();
    const waiting = queue.get();
    queue.add("ns/a");
    expect(await waiting).toBe("ns/a");
    expect(queue.processing).toBe(1);
  });

  it("backs off per key exponentially from 5 s to 300 s and forget resets it", () => {
    const queue = newQueue();
    const delays = Array.from({ length: 9 }, () => queue.addRateLimited("ns/a"));
    expect(delays).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    expect(queue.numRequeues("ns/a")).toBe(9);
    expect(queue.addRateLimited("ns/b")).toBe(5_000);
    queue.forget("ns/a");
    expect(queue.numRequeues("ns/a")).toBe(0);
    expect(queue.addRateLimited("ns/a")).toBe(5_000);
  });

  it("re-adds a rate-limited key only once its delay has passed", async () => {
    const queue = newQueue();
    queue.addRateLimited("ns/a");
    expect(queue.depth).toBe(0);
    expect(queue.delayed).toBe(1);
    vi.advanceTimersByTime(4_999);
    expect(queue.depth).toBe(0);
    vi.advanceTimersByTime(1);
    expect(queue.depth).toBe(1);
    expect(await queue.get()).toBe("ns/a");
  });

  it("addAfter keeps the earliest of two pending delays", () => {
    const queue = newQueue();
    queue.addAfter("ns/a", 10_000);
    queue.addAfter("ns/a", 30_000);
    vi.advanceTimersByTime(10_000);
    expect(queue.depth).toBe(1);

    queue.addAfter("ns/b", 30_000);
    queue.addAfter("ns/b", 2_000);
    vi.advanceTimersByTime(2_000);
    expect(queue.depth).toBe(2);
    expect(queue.delayed).toBe(0);
  });

  it("addAfter with no delay adds at once", () => {
    const queue = newQueue();
    queue.addAfter("ns/a", 0);
    expect(queue.depth).toBe(1);
  });

  it("a delayed key that is already waiting is not queued twice", () => {
    const queue = newQueue();
    queue.addAfter("ns/a", 1_000);
    queue.add("ns/a");
    vi.advanceTimersByTime(1_000);
    expect(queue.depth).toBe(1);
  });

  it("reports depth changes", async () => {
    const depths: number[] = [];
    const queue = newQueue((depth) => depths.push(depth));
    queue.add("ns/a");
    queue.add("ns/b");
    await queue.get();
    expect(depths).toEqual([1, 2, 1]);
  });

  it("shutDown releases waiting workers, drops queued and delayed keys, and ignores adds", async () => {
    const queue = newQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();

    const other = newQueue();
    other.add("ns/a");
    other.addAfter("ns/b", 1_000);
    other.shutDown();
    other.add("ns/c");
    vi.advanceTimersByTime(1_000);
    expect(other.depth).toBe(0);
    expect(await other.get()).toBeUndefined();
  });

  it("drained waits for keys already handed out, and a re-add during shutdown is not re-run", async () => {
    const queue = newQueue();
    queue.add("ns/a");
    const key = await queue.get();
    expect(key).toBe("ns/a");
    queue.add("ns/a");
    queue.shutDown();

    let drained = false;
    const draining = queue.drained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    queue.done("ns/a");
    await draining;
    expect(drained).toBe(true);
    expect(queue.depth).toBe(0);
  });

  it("drained resolves at once when nothing is in flight", async () => {
    const queue = newQueue();
    queue.shutDown();
    await expect(queue.drained()).resolves.toBeUndefined();
  });
});

describe("ExponentialBackoff", () => {
  it("spreads delays by the jitter fraction and never exceeds the maximum", () => {
    const low = new ExponentialBackoff({ baseMs: 1_000, maxMs: 4_000, jitter: 0.2, random: () => 0 });
    const high = new ExponentialBackoff({ baseMs: 1_000, maxMs: 4_000, jitter: 0.2, random: () => 0.999_999 });
    expect([low.next("k"), low.next("k"), low.next("k"), low.next("k")]).toEqual([800, 1_600, 3_200, 3_200]);
    expect([high.next("k"), high.next("k"), high.next("k"), high.next("k")]).toEqual([1_200, 2_400, 4_000, 4_000]);
  });

  it("survives thousands of failures without overflowing", () => {
    const backoff = new ExponentialBackoff({ baseMs: 5_000, maxMs: 300_000, jitter: 0 });
    let delay = 0;
    for (let i = 0; i < 2_000; i++) delay = backoff.next("k");
    expect(delay).toBe(300_000);
  });

  it.each([
    [{ baseMs: 0, maxMs: 10 }, /baseMs/],
    [{ baseMs: 10, maxMs: 5 }, /maxMs/],
    [{ baseMs: 10, maxMs: 20, jitter: 1 }, /jitter/],
  ])("rejects invalid options %j", (options, message) => {
    expect(() => new ExponentialBackoff(options)).toThrow(message);
  });
});
