import { afterEach, describe, expect, it, vi } from "vitest";
import { conformanceSpec, exampleNodes } from "../../../../providers/conformance/index.ts";
import { ConflictError, ThrottledError, TransientError } from "../../../../providers/errors.ts";
import { createFakeProvider, type FakeProvider } from "../../../../providers/fake/index.ts";
import type { LoadBalancerSpec } from "../../../../providers/types.ts";

const spec = (name = "web"): LoadBalancerSpec =>
  conformanceSpec({ clusterName: "unit", namespace: "default", name, nodes: exampleNodes(3) });

const outcomes = (fake: FakeProvider) => fake.calls.map((call) => `${call.operation}:${call.outcome}`);

afterEach(() => {
  vi.useRealTimers();
});

describe("FakeProvider fault injection: scripted failures", () => {
  it("fails the next call of one operation with a TransientError, and the next ensure finishes the job", async () => {
    const fake = createFakeProvider();
    fake.failNext("CreateListener");
    await expect(fake.ensureLoadBalancer(spec())).rejects.toBeInstanceOf(TransientError);
    expect(outcomes(fake).at(-1)).toBe("CreateListener:transient");
    fake.resetCalls();
    await fake.ensureLoadBalancer(spec());
    expect(fake.calls.filter((c) => c.mutating).map((c) => c.operation)).toEqual(["CreateListener"]);
  });

  it("fails exactly N calls, then succeeds", async () => {
    const fake = createFakeProvider();
    fake.failNext("DescribeLoadBalancer", 2);
    await expect(fake.getLoadBalancer(spec())).rejects.toThrow(
      /DescribeLoadBalancer failed: injected transient failure/,
    );
    await expect(fake.getLoadBalancer(spec())).rejects.toThrow(TransientError);
    await expect(fake.getLoadBalancer(spec())).resolves.toBeUndefined();
  });

  it('fails any operation with "*", with the error given, and classifies the outcome', async () => {
    const fake = createFakeProvider();
    const conflict = new ConflictError("lb-web", "a load balancer with this name belongs to someone else");
    fake.failNext("*", 1, conflict);
    await expect(fake.listLoadBalancers("unit")).rejects.toBe(conflict);
    expect(outcomes(fake)).toEqual(["ListLoadBalancers:conflict"]);
  });

  it("throttles with a ThrottledError", async () => {
    const fake = createFakeProvider();
    fake.throttle(1, "CreateLoadBalancer");
    const error = await fake.ensureLoadBalancer(spec()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).kind).toBe("throttled");
    expect(outcomes(fake)).toEqual(["DescribeLoadBalancer:not_found", "CreateLoadBalancer:throttled"]);
    expect(fake.loadBalancerCount).toBe(0);
  });

  it("clearFaults removes pending failures", async () => {
    const fake = createFakeProvider();
    fake.failNext("*", 5);
    fake.clearFaults();
    await expect(fake.ensureLoadBalancer(spec())).resolves.toBeDefined();
  });

  it("rejects nonsense fault settings", () => {
    const fake = createFakeProvider();
    expect(() => fake.failNext("CreateListener", 0)).toThrow(RangeError);
    expect(() => fake.failRandomly({ probability: 1.5 })).toThrow(/between 0 and 1/);
    expect(() => fake.setLatency(-1)).toThrow(/non-negative/);
  });
});

describe("FakeProvider fault injection: seeded random failures", () => {
  async function pattern(seed: number, probability = 0.5): Promise<string> {
    const fake = createFakeProvider();
    fake.failRandomly({ probability, seed, operations: ["DescribeLoadBalancer"] });
    let result = "";
    for (let i = 0; i < 40; i++) {
      result += await fake.getLoadBalancer(spec()).then(
        () => ".",
        () => "x",
      );
    }
    return result;
  }

  it("replays the same failures for the same seed", async () => {
    const first = await pattern(7);
    expect(await pattern(7)).toBe(first);
    expect(first).toContain("x");
    expect(first).toContain(".");
  });

  it("never fails at probability 0 and always fails at 1", async () => {
    expect(await pattern(3, 0)).toBe(".".repeat(40));
    expect(await pattern(3, 1)).toBe("x".repeat(40));
  });

  it("only affects the operations named", async () => {
    const fake = createFakeProvider();
    fake.failRandomly({ probability: 1, operations: "RegisterTargets" });
    await expect(fake.ensureLoadBalancer(spec())).rejects.toThrow(/RegisterTargets failed/);
  });

  it("is what failureRate configures on the built-in factory", async () => {
    const { default: createFromOptions } = await import("../../../../providers/fake/index.ts");
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const fake = await createFromOptions({ clusterName: "unit", logger, settings: { failureRate: "1", seed: "9" } });
    await expect(fake.getLoadBalancer(spec())).rejects.toBeInstanceOf(TransientError);
  });
});

describe("FakeProvider fault injection: latency", () => {
  it("delays every call by the latency set", async () => {
    vi.useFakeTimers();
    const fake = createFakeProvider({ latencyMs: 1000 });
    let settled = false;
    const done = fake.getLoadBalancer(spec()).then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(settled).toBe(true);
  });

  it("applies per-operation latency only to that operation", async () => {
    vi.useFakeTimers();
    const fake = createFakeProvider();
    fake.setLatency(500, "CreateLoadBalancer");
    let settled = false;
    const done = fake.ensureLoadBalancer(spec()).then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.calls.map((c) => c.operation)).toEqual(["DescribeLoadBalancer"]);
    await vi.advanceTimersByTimeAsync(500);
    await done;
    expect(settled).toBe(true);
  });

  it("an abort during a slow call rejects with the signal's reason and changes nothing", async () => {
    const fake = createFakeProvider({ latencyMs: 60_000 });
    const controller = new AbortController();
    const pending = fake.ensureLoadBalancer(spec(), { signal: controller.signal });
    const reason = new Error("shutting down");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(fake.calls).toEqual([]);
    expect(fake.loadBalancerCount).toBe(0);
  });

  it("an already-aborted signal rejects before any call", async () => {
    const fake = createFakeProvider();
    const reason = new Error("gave up");
    await expect(fake.ensureLoadBalancerDeleted(spec(), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(fake.getLoadBalancer(spec(), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fake.calls).toEqual([]);
  });

  it("different Services proceed concurrently while one is slow", async () => {
    vi.useFakeTimers();
    const fake = createFakeProvider();
    fake.setLatency(10_000, "CreateLoadBalancer");
    const slow = fake.ensureLoadBalancer(spec("slow"));
    await vi.advanceTimersByTimeAsync(0);
    fake.setLatency(0, "CreateLoadBalancer");
    await fake.ensureLoadBalancer(spec("fast"));
    expect(fake.inspect(spec("fast"))).toBeDefined();
    expect(fake.inspect(spec("slow"))).toBeUndefined();
    await vi.advanceTimersByTimeAsync(10_000);
    await slow;
    expect(fake.inspect(spec("slow"))).toBeDefined();
  });
});
