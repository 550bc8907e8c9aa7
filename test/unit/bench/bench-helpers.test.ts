import { describe, expect, it } from "vitest";
import { renderTable } from "../../../bench/lib/report.ts";
import { percentile, summarize } from "../../../bench/lib/stats.ts";
import { cloneServices } from "../../../bench/memory/clones.ts";
import { applyMergePatch } from "../../../bench/memory/merge-patch.ts";
import { fakeHostname } from "../../../providers/fake/index.ts";

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

describe("applyMergePatch (RFC 7386)", () => {
  it("merges objects, deletes on null, replaces arrays, and leaves its inputs alone", () => {
    const target = { metadata: { name: "a", finalizers: ["x"] }, status: { loadBalancer: { ingress: [{ ip: "1" }] } } };
    const patch = { metadata: { finalizers: ["x", "y"] }, status: { loadBalancer: null } };
    expect(applyMergePatch(target, patch)).toEqual({ metadata: { name: "a", finalizers: ["x", "y"] }, status: {} });
    expect(target.metadata.finalizers).toEqual(["x"]);
    expect(target.status.loadBalancer.ingress).toHaveLength(1);
  });

  it("replaces the whole document with a non-object patch", () => {
    expect(applyMergePatch({ a: 1 }, [1, 2])).toEqual([1, 2]);
  });
});

describe("cloneServices", () => {
  const template = {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "lb-00000",
      namespace: "bench",
      uid: "u",
      finalizers: ["service.kubernetes.io/load-balancer-cleanup"],
    },
    spec: {
      type: "LoadBalancer",
      clusterIP: "10.64.0.1",
      clusterIPs: ["10.64.0.1"],
      ports: [{ port: 80, nodePort: 31000 }],
    },
    status: { loadBalancer: { ingress: [{ hostname: "old.lb.fake.invalid" }] } },
  };

  it("gives each clone its own name, uid, ClusterIP and the address the fake provider would give it", () => {
    const clones = cloneServices(template, 300, "bench") as Array<typeof template>;
    expect(new Set(clones.map((c) => c.metadata.name)).size).toBe(300);
    expect(new Set(clones.map((c) => c.metadata.uid)).size).toBe(300);
    expect(new Set(clones.map((c) => c.spec.clusterIP)).size).toBe(300);
    const last = clones[299];
    expect(last?.metadata.name).toBe("lb-00299");
    expect(last?.status.loadBalancer.ingress[0]?.hostname).toBe(
      fakeHostname({ clusterName: "bench", service: { namespace: "bench", name: "lb-00299" } }),
    );
    expect(last?.metadata.finalizers).toEqual(template.metadata.finalizers);
  });

  it("keeps NodePorts inside the apiserver's range, repeating after 2,768", () => {
    const ports = (cloneServices(template, 2769, "bench") as Array<typeof template>).map(
      (c) => c.spec.ports[0]?.nodePort,
    );
    expect(Math.min(...(ports as number[]))).toBe(30000);
    expect(Math.max(...(ports as number[]))).toBe(32767);
    expect(ports[2768]).toBe(30000);
    expect(template.spec.ports[0]?.nodePort).toBe(31000);
  });
});
