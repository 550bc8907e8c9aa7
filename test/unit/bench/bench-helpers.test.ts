import { describe, expect, it } from "vitest";
import { renderTable } from "../../../bench/lib/report.ts";
import { percentile, summarize } from "../../../bench/lib/stats.ts";

describe("percentile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it("returns an observed sample, never an interpolation", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([10, 20], 50)).toBe(10);
    expect(percentile([10, 20], 51)).toBe(20);
  });

  it("makes p99 of 200 samples the second largest", () => {
    const samples = Array.from({ length: 200 }, (_, i) => i);
    expect(percentile(samples, 99)).toBe(197);
  });

  it("rejects no samples and out-of-range percentiles", () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile([1], 0)).toThrow(/\(0, 100\]/);
    expect(() => percentile([1], 101)).toThrow(/\(0, 100\]/);
  });
});

describe("summarize", () => {
  it("sorts a copy and reports count, extremes, mean and percentiles", () => {
    const samples = [5, 1, 4, 2, 3];
    expect(summarize(samples)).toEqual({ count: 5, min: 1, mean: 3, p50: 3, p95: 5, p99: 5, max: 5 });
    expect(samples).toEqual([5, 1, 4, 2, 3]);
  });
});

describe("renderTable", () => {
  it("aligns metrics and appends units", () => {
    const table = renderTable([
      { metric: "p99", value: 12.5, unit: "ms" },
      { metric: "services measured", value: 200 },
    ]);
    expect(table.split("\n")).toEqual([
      "metric            | value",
      "------------------+--------",
      "p99               | 12.5 ms",
      "services measured | 200",
    ]);
  });
});
