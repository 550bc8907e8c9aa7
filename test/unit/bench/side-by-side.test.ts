import { describe, expect, it } from "vitest";
import {
  boundTarget,
  formatRatio,
  median,
  overallVerdict,
  ratioOf,
  ratioTarget,
  renderComparison,
  renderTargets,
} from "../../../bench/lib/comparison.ts";
import { legacyAwsCloudConfig, orderFor } from "../../../bench/lib/contenders.ts";
import { realisticNode } from "../../../bench/lib/objects.ts";
import { parseCpuTicks, parseResidentBytes } from "../../../bench/lib/process-usage.ts";
import { parsePrometheusText, sumByLabel, sumSamples } from "../../../bench/lib/prometheus-text.ts";
import { comparePooled, compareRuns, parseEnv } from "../../../bench/lib/session.ts";

describe("ratios", () => {
  it("divides lb-provisioner by the reference, and has none without both sides or at a zero reference", () => {
    expect(ratioOf({ reference: 20, lbProvisioner: 50 })).toBe(2.5);
    expect(ratioOf({ reference: undefined, lbProvisioner: 50 })).toBeUndefined();
    expect(ratioOf({ reference: 0, lbProvisioner: 8 })).toBeUndefined();
    expect(formatRatio({ metric: "m", unit: "", reference: 3, lbProvisioner: 1 })).toBe("0.33x");
    expect(formatRatio({ metric: "m", unit: "", reference: 0, lbProvisioner: 1 })).toBe("—");
  });

  it("takes the median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeUndefined();
  });

  it("renders a Markdown table with units, thousands separators, a dash for a missing side, and the load", () => {
    const text = renderComparison({
      title: "workload",
      referenceName: "upstream",
      rows: [
        { metric: "p50", unit: "ms", reference: 14, lbProvisioner: 38.04 },
        { metric: "calls", unit: "", reference: undefined, lbProvisioner: 1200, digits: 0 },
      ],
      loadAverages: [1.234, 5],
    });
    expect(text.split("\n")).toEqual([
      "| workload | upstream | lb-provisioner | ratio |",
      "| -------- | -------: | -------------: | ----: |",
      "| p50      |  14.0 ms |        38.0 ms | 2.72x |",
      "| calls    |        — |          1,200 |     — |",
      "",
      "load average (1 min) at the start of each run: 1.2, 5.0",
    ]);
  });
});

describe("targets", () => {
  const row = { metric: "p99", unit: "ms", reference: 40, lbProvisioner: 30 };

  it("checks a ratio limit and an absolute bound", () => {
    expect(ratioTarget("p99 <= 1.0x", row, 1.0)).toEqual({
      target: "p99 <= 1.0x",
      verdict: "met",
      measured: "0.75x (30.0 ms against 40.0 ms)",
    });
    expect(ratioTarget("p99 <= 0.5x", row, 0.5).verdict).toBe("missed");
    expect(boundTarget("p99 < 50 ms", row, 50)).toMatchObject({ verdict: "met", measured: "30.0 ms" });
    expect(boundTarget("p99 < 30 ms", row, 30).verdict).toBe("missed");
  });

  it("meets a ratio to a zero reference only at zero, and reports what was not measured", () => {
    const zero = { metric: "calls", unit: "", reference: 0, lbProvisioner: 0 };
    expect(ratioTarget("calls", zero, 1).verdict).toBe("met");
    expect(ratioTarget("calls", { ...zero, lbProvisioner: 3 }, 1).verdict).toBe("missed");
    expect(ratioTarget("calls", undefined, 1).verdict).toBe("not measured");
    expect(boundTarget("x", { ...row, lbProvisioner: undefined }, 1).verdict).toBe("not measured");
  });

  it("is met overall only when every measured target is", () => {
    const met = { target: "a", verdict: "met", measured: "" } as const;
    const missed = { target: "b", verdict: "missed", measured: "" } as const;
    const none = { target: "c", verdict: "not measured", measured: "" } as const;
    expect(overallVerdict([met, none])).toBe("met");
    expect(overallVerdict([met, missed])).toBe("missed");
    expect(overallVerdict([none])).toBe("informational");
    expect(renderTargets([met]).split("\n")[2]).toBe("| a      |          | met     |");
  });
});

describe("runs of both controllers", () => {
  it("alternates which controller goes first, or runs only the one asked for", () => {
    expect(orderFor(0)).toEqual(["upstream", "lb-provisioner"]);
    expect(orderFor(1)).toEqual(["lb-provisioner", "upstream"]);
    expect(orderFor(1, "upstream")).toEqual(["upstream"]);
  });

  it("folds each side's runs into its median", () => {
    const runs = [
      { contender: "upstream", repetition: 0, loadAverage: 1, seconds: 4 },
      { contender: "lb-provisioner", repetition: 0, loadAverage: 1, seconds: 9 },
      { contender: "upstream", repetition: 1, loadAverage: 1, seconds: 6 },
      { contender: "lb-provisioner", repetition: 1, loadAverage: 1, seconds: Number.NaN },
    ] as const;
    expect(compareRuns(runs, "converge", "s", (run) => run.seconds)).toEqual({
      metric: "converge",
      unit: "s",
      reference: 5,
      lbProvisioner: 9,
      digits: 1,
    });
  });

  it("pools every run's samples of a side before taking the percentile", () => {
    const runs = [
      { contender: "upstream", repetition: 0, loadAverage: 1, samples: [1, 2, 3, 4] },
      { contender: "lb-provisioner", repetition: 0, loadAverage: 1, samples: [2, 2, 9, 10] },
      { contender: "upstream", repetition: 1, loadAverage: 1, samples: [5, 6, 7, 40] },
      { contender: "lb-provisioner", repetition: 1, loadAverage: 1, samples: [1, 3, 3, 3] },
    ] as const;
    // Nearest rank over 8 pooled samples: p50 is the 4th, p99 the 8th (the largest).
    expect(comparePooled(runs, "p50", "ms", (run) => run.samples, 50)).toMatchObject({
      reference: 4,
      lbProvisioner: 3,
    });
    expect(comparePooled(runs, "p99", "ms", (run) => run.samples, 99)).toMatchObject({
      reference: 40,
      lbProvisioner: 10,
    });
    // A median of the runs' own p50s (2 and 6; 2 and 3) would give other figures.
    expect(compareRuns(runs, "p50", "ms", (run) => run.samples[1], 1)).toMatchObject({
      reference: 4,
      lbProvisioner: 2.5,
    });
    expect(comparePooled(runs.slice(0, 1), "p50", "ms", (run) => run.samples, 50).lbProvisioner).toBeUndefined();
  });

  it("parses --child-env and names a malformed pair", () => {
    expect(parseEnv("A=1  B_2=x=y")).toEqual({ A: "1", B_2: "x=y" });
    expect(() => parseEnv("A=1 oops")).toThrow(/--child-env: "oops" is not NAME=value/);
  });
});

describe("/proc parsing", () => {
  it("reads utime + stime after a command name with spaces and parentheses", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[11] = "150"; // field 14: utime
    fields[12] = "25"; // field 15: stime
    expect(parseCpuTicks(`1234 (node (main) x) ${fields.join(" ")}`)).toBe(175);
    expect(() => parseCpuTicks("garbage")).toThrow(/not a \/proc/);
  });

  it("reads VmRSS and VmHWM in bytes", () => {
    const status = "Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n";
    expect(parseResidentBytes(status)).toEqual({ rssBytes: 100 * 2 ** 20, peakRssBytes: 200 * 2 ** 20 });
    expect(() => parseResidentBytes("Name:\tzombie\n")).toThrow(/no VmRSS/);
  });
});

describe("Prometheus text", () => {
  const text = [
    "# HELP lbp_provider_calls_total Provider calls.",
    "# TYPE lbp_provider_calls_total counter",
    'lbp_provider_calls_total{provider="fake",operation="CreateLoadBalancer",outcome="success",mutating="true"} 10',
    'lbp_provider_calls_total{provider="fake",operation="DescribeLoadBalancer",outcome="success",mutating="false"} 7',
    'lbp_provider_calls_total{provider="fake",operation="CreateLoadBalancer",outcome="error",mutating="true"} 2',
    'fake_cloud_calls_total{call="get-zone"} 3 1700000000000',
    'odd{msg="a \\"quoted\\" value, with comma"} 1',
    "process_start_time_seconds 1.7e+09",
    "",
  ].join("\n");

  it("reads samples with labels, escaped quotes, timestamps and exponents", () => {
    const samples = parsePrometheusText(text);
    expect(samples).toHaveLength(6);
    expect(samples[3]).toEqual({ name: "fake_cloud_calls_total", labels: { call: "get-zone" }, value: 3 });
    expect(samples[4]?.labels.msg).toBe('a "quoted" value, with comma');
    expect(samples[5]?.value).toBe(1.7e9);
  });

  it("sums samples matching labels, and per label value", () => {
    const samples = parsePrometheusText(text);
    expect(sumSamples(samples, "lbp_provider_calls_total")).toBe(19);
    expect(sumSamples(samples, "lbp_provider_calls_total", { mutating: "true" })).toBe(12);
    expect(sumByLabel(samples, "lbp_provider_calls_total", "operation")).toEqual({
      CreateLoadBalancer: 12,
      DescribeLoadBalancer: 7,
    });
  });
});

describe("realisticNode", () => {
  it("is the size of a production Node and keeps the bench Node's identity", () => {
    const node = realisticNode(7);
    expect(node.metadata?.name).toBe("bench-node-00007");
    expect(node.spec?.providerID).toMatch(/^aws:\/\/\/us-east-1[abc]\/i-/);
    expect(node.status?.images?.length).toBeGreaterThanOrEqual(20);
    expect(node.status?.conditions?.map((c) => c.type)).toContain("Ready");
    expect(JSON.stringify(node).length).toBeGreaterThan(6_000);
  });
});

describe("legacyAwsCloudConfig", () => {
  it("names the network so the provider runs off EC2, and sends EC2, ELB and ELBv2 to the endpoint", () => {
    const config = legacyAwsCloudConfig(
      {
        endpoint: "http://127.0.0.1:4566",
        region: "us-east-1",
        accessKeyId: "a",
        secretAccessKey: "s",
        vpcId: "vpc-1",
        subnetId: "subnet-1",
      },
      "bench",
    );
    expect(config).toContain(
      "[Global]\nRegion = us-east-1\nVPC = vpc-1\nSubnetID = subnet-1\nKubernetesClusterID = bench\n",
    );
    const services = [...config.matchAll(/^Service = (.+)$/gm)].map((match) => match[1]);
    expect(services).toEqual(["EC2", "Elastic Load Balancing", "Elastic Load Balancing v2"]);
    expect(config.match(/^URL = http:\/\/127\.0\.0\.1:4566$/gm)).toHaveLength(3);
    expect(config).not.toContain("secret");
  });
});
