import { describe, expect, it } from "vitest";
import {
  ConfigError,
  type ConfigSources,
  parseBindAddress,
  parseDuration,
  resolveConfig,
} from "../../src/config/index.ts";

/** Sources with `--provider fake` (it has no default) unless `flags` names another. */
function sources(
  flags: Record<string, unknown> = {},
  env: Record<string, string> = {},
  extra: Partial<ConfigSources> = {},
): ConfigSources {
  return {
    flags: { provider: "fake", ...flags },
    env,
    serviceAccountNamespace: () => undefined,
    fileExists: () => true,
    ...extra,
  };
}

describe("resolveConfig: --provider is required", () => {
  it("names --provider and LBP_PROVIDER in one line when neither is set", () => {
    const resolve = () => resolveConfig({ flags: {}, env: {}, fileExists: () => true });
    expect(resolve).toThrow(ConfigError);
    expect(resolve).toThrow(
      /^missing --provider: name the load balancer provider, one of aws, fake, local, or a module .*\[env: LBP_PROVIDER\]$/,
    );
  });

  it("takes it from LBP_PROVIDER", () => {
    expect(resolveConfig({ flags: {}, env: { LBP_PROVIDER: "aws" }, fileExists: () => true }).provider).toBe("aws");
  });
});

describe("resolveConfig defaults", () => {
  it("matches the documented defaults when only --provider is set", () => {
    const config = resolveConfig(sources());
    expect(config).toEqual({
      clusterName: "kubernetes",
      concurrentServiceSyncs: 5,
      leaderElection: {
        enabled: true,
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        namespace: "kube-system",
        name: "lb-provisioner",
      },
      provider: "fake",
      providerSettings: {},
      resyncPeriodMs: 600_000,
      events: { qps: 20, burst: 30 },
      metricsBindAddress: { port: 8080 },
      healthProbeBindAddress: { port: 8081 },
      logLevel: "info",
      gracefulShutdownTimeoutMs: 25_000,
    });
  });

  it("is deeply frozen", () => {
    const config = resolveConfig(sources());
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.leaderElection)).toBe(true);
    expect(Object.isFrozen(config.providerSettings)).toBe(true);
  });

  it("takes the lease namespace from the service account mount, then POD_NAMESPACE, then the flag", () => {
    const mounted = sources({}, {}, { serviceAccountNamespace: () => "from-mount" });
    expect(resolveConfig(mounted).leaderElection.namespace).toBe("from-mount");
    const downward = sources({}, { POD_NAMESPACE: "from-pod" }, { serviceAccountNamespace: () => "from-mount" });
    expect(resolveConfig(downward).leaderElection.namespace).toBe("from-pod");
    const flagged = sources(
      { leaderElectResourceNamespace: "from-flag" },
      { POD_NAMESPACE: "from-pod", LBP_LEADER_ELECT_RESOURCE_NAMESPACE: "from-env" },
    );
    expect(resolveConfig(flagged).leaderElection.namespace).toBe("from-flag");
  });
});

describe("resolveConfig precedence: flag > LBP_* > well-known variable > default", () => {
  it.each([
    { what: "flag over env", flags: { clusterName: "a" }, env: { LBP_CLUSTER_NAME: "b" }, expect: "a" },
    { what: "env over default", flags: {}, env: { LBP_CLUSTER_NAME: "b" }, expect: "b" },
    { what: "empty env ignored", flags: {}, env: { LBP_CLUSTER_NAME: "" }, expect: "kubernetes" },
  ])("$what", ({ flags, env, expect: expected }) => {
    expect(resolveConfig(sources(flags, env)).clusterName).toBe(expected);
  });

  it("reads the AWS settings from LBP_AWS_* before AWS_* and passes them to the aws provider only", () => {
    const env = { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: "http://127.0.0.1:4566" };
    expect(resolveConfig(sources({ provider: "aws" }, env)).providerSettings).toEqual({
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:4566",
    });
    expect(
      resolveConfig(sources({ provider: "aws" }, { ...env, LBP_AWS_REGION: "us-east-2" })).providerSettings,
    ).toEqual({ region: "us-east-2", endpoint: "http://127.0.0.1:4566" });
    expect(resolveConfig(sources({ provider: "fake" }, env)).providerSettings).toEqual({});
  });

  it("lets an explicit --provider-config key win over --aws-region", () => {
    const config = resolveConfig(
      sources({ provider: "aws", awsRegion: "us-east-1", providerConfig: ["region=eu-north-1"] }),
    );
    expect(config.providerSettings).toEqual({ region: "eu-north-1" });
  });

  it("reads --kubeconfig from LBP_KUBECONFIG, leaving KUBECONFIG to the client loader's own order", () => {
    expect(resolveConfig(sources({}, { KUBECONFIG: "/k2" })).kubeconfig).toBeUndefined();
    expect(resolveConfig(sources({}, { KUBECONFIG: "/k2", LBP_KUBECONFIG: "/k1" })).kubeconfig).toBe("/k1");
    expect(resolveConfig(sources({ kubeconfig: "/k0" }, { LBP_KUBECONFIG: "/k1" })).kubeconfig).toBe("/k0");
    expect(resolveConfig(sources()).kubeconfig).toBeUndefined();
  });
});

describe("resolveConfig parses each kind of value", () => {
  it.each([
    {
      flags: { concurrentServiceSyncs: "12" },
      pick: (c: ReturnType<typeof resolveConfig>) => c.concurrentServiceSyncs,
      expected: 12,
    },
    {
      flags: { leaderElect: false },
      pick: (c: ReturnType<typeof resolveConfig>) => c.leaderElection.enabled,
      expected: false,
    },
    {
      flags: { leaderElect: "false" },
      pick: (c: ReturnType<typeof resolveConfig>) => c.leaderElection.enabled,
      expected: false,
    },
    {
      flags: { leaderElect: true },
      pick: (c: ReturnType<typeof resolveConfig>) => c.leaderElection.enabled,
      expected: true,
    },
    {
      flags: { resyncPeriod: "1h30m" },
      pick: (c: ReturnType<typeof resolveConfig>) => c.resyncPeriodMs,
      expected: 5_400_000,
    },
    {
      flags: { metricsBindAddress: "0" },
      pick: (c: ReturnType<typeof resolveConfig>) => c.metricsBindAddress,
      expected: undefined,
    },
    {
      flags: { healthProbeBindAddress: "127.0.0.1:0" },
      pick: (c: ReturnType<typeof resolveConfig>) => c.healthProbeBindAddress,
      expected: { host: "127.0.0.1", port: 0 },
    },
    { flags: { logLevel: "DEBUG" }, pick: (c: ReturnType<typeof resolveConfig>) => c.logLevel, expected: "debug" },
    {
      flags: { loadBalancerClass: "example.com/nlb" },
      pick: (c: ReturnType<typeof resolveConfig>) => c.loadBalancerClass,
      expected: "example.com/nlb",
    },
    {
      flags: { provider: "./my-plugin.js" },
      pick: (c: ReturnType<typeof resolveConfig>) => c.provider,
      expected: "./my-plugin.js",
    },
    {
      flags: { providerConfig: ["a=1", "b=x=y"] },
      pick: (c: ReturnType<typeof resolveConfig>) => c.providerSettings,
      expected: { a: "1", b: "x=y" },
    },
  ])("$flags", ({ flags, pick, expected }) => {
    expect(pick(resolveConfig(sources(flags)))).toEqual(expected);
  });

  it("reads LBP_PROVIDER_CONFIG as comma-separated pairs", () => {
    const config = resolveConfig(sources({}, { LBP_PROVIDER_CONFIG: "latencyMs=20, failRate=0" }));
    expect(config.providerSettings).toEqual({ latencyMs: "20", failRate: "0" });
  });

  it("reads LBP_LEADER_ELECT=false", () => {
    expect(resolveConfig(sources({}, { LBP_LEADER_ELECT: "false" })).leaderElection.enabled).toBe(false);
  });
});

describe("resolveConfig rejects bad values with one line naming the flag and its variable", () => {
  it.each([
    {
      flags: { concurrentServiceSyncs: "abc" },
      env: {},
      flag: "--concurrent-service-syncs",
      mentions: ["LBP_CONCURRENT_SERVICE_SYNCS", "whole number"],
    },
    {
      flags: { concurrentServiceSyncs: "0" },
      env: {},
      flag: "--concurrent-service-syncs",
      mentions: ["from 1 to 1000"],
    },
    {
      flags: {},
      env: { LBP_CONCURRENT_SERVICE_SYNCS: "-3" },
      flag: "--concurrent-service-syncs",
      mentions: ["(from LBP_CONCURRENT_SERVICE_SYNCS)"],
    },
    { flags: { resyncPeriod: "10" }, env: {}, flag: "--resync-period", mentions: ["duration such as 15s"] },
    { flags: { resyncPeriod: "0s" }, env: {}, flag: "--resync-period", mentions: ["greater than zero"] },
    { flags: { eventQps: "0" }, env: {}, flag: "--event-qps", mentions: ["from 1 to 10000"] },
    { flags: {}, env: { LBP_EVENT_BURST: "many" }, flag: "--event-burst", mentions: ["(from LBP_EVENT_BURST)"] },
    {
      flags: { leaderElectLeaseDuration: "fifteen" },
      env: {},
      flag: "--leader-elect-lease-duration",
      mentions: ["LBP_LEADER_ELECT_LEASE_DURATION"],
    },
    {
      flags: { leaderElectLeaseDuration: "5s" },
      env: {},
      flag: "--leader-elect-lease-duration",
      mentions: ["longer than --leader-elect-renew-deadline"],
    },
    {
      flags: { leaderElectRetryPeriod: "9s" },
      env: {},
      flag: "--leader-elect-renew-deadline",
      mentions: ["--leader-elect-retry-period"],
    },
    { flags: { leaderElect: "maybe" }, env: {}, flag: "--leader-elect", mentions: ["true or false"] },
    {
      flags: { leaderElectResourceNamespace: "Kube_System" },
      env: {},
      flag: "--leader-elect-resource-namespace",
      mentions: ["POD_NAMESPACE"],
    },
    {
      flags: { leaderElectResourceName: "" },
      env: {},
      flag: "--leader-elect-resource-name",
      mentions: ["object name"],
    },
    { flags: { clusterName: "my cluster" }, env: {}, flag: "--cluster-name", mentions: ["LBP_CLUSTER_NAME"] },
    { flags: { provider: "" }, env: {}, flag: "--provider", mentions: ["aws, fake, local"] },
    { flags: { providerConfig: ["novalue"] }, env: {}, flag: "--provider-config", mentions: ["key=value"] },
    { flags: { providerConfig: ["a=1", "a=2"] }, env: {}, flag: "--provider-config", mentions: ['"a" repeats'] },
    { flags: { loadBalancerClass: "a/b/c" }, env: {}, flag: "--load-balancer-class", mentions: ["label-style"] },
    {
      flags: { metricsBindAddress: "8080" },
      env: {},
      flag: "--metrics-bind-address",
      mentions: [":8080", "0 to disable"],
    },
    {
      flags: { healthProbeBindAddress: ":70000" },
      env: {},
      flag: "--health-probe-bind-address",
      mentions: ["[host]:port"],
    },
    { flags: { logLevel: "verbose" }, env: {}, flag: "--log-level", mentions: ["info", "debug"] },
    { flags: { provider: "aws", awsRegion: "Mars" }, env: {}, flag: "--aws-region", mentions: ["AWS_REGION"] },
    {
      flags: { provider: "aws" },
      env: { AWS_ENDPOINT_URL: "ftp://x" },
      flag: "--aws-endpoint-url",
      mentions: ["(from AWS_ENDPOINT_URL)", "http://"],
    },
    { flags: { gracefulShutdownTimeout: "-1s" }, env: {}, flag: "--graceful-shutdown-timeout", mentions: ["duration"] },
  ])("$flag $flags $env", ({ flags, env, flag, mentions }) => {
    let thrown: unknown;
    try {
      resolveConfig(sources(flags, env));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.flag).toBe(flag);
    expect(error.message).toContain(flag);
    expect(error.message).not.toContain("\n");
    for (const mention of mentions) expect(error.message).toContain(mention);
  });

  it("rejects a kubeconfig path that cannot be read", () => {
    expect(() => resolveConfig(sources({ kubeconfig: "/nope" }, {}, { fileExists: () => false }))).toThrow(
      /--kubeconfig "\/nope": expected a readable kubeconfig file/,
    );
  });
});

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["15s", 15_000],
    ["1.5s", 1_500],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["1h30m10s", 5_410_000],
    ["0s", 0],
  ])("%s -> %d ms", (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each(["", "15", "s", "15 s", "15sec", "1d", "-1s", "1h 30m"])("rejects %j", (input) => {
    expect(() => parseDuration(input)).toThrow(/duration/);
  });
});

describe("parseBindAddress", () => {
  it.each([
    [":8080", { port: 8080 }],
    ["127.0.0.1:9090", { host: "127.0.0.1", port: 9090 }],
    ["[::1]:8081", { host: "::1", port: 8081 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["0", undefined],
  ])("%s", (input, expected) => {
    expect(parseBindAddress(input)).toEqual(expected);
  });

  it.each(["", "8080", "host:", ":99999", "::1:8080", "a b:80"])("rejects %j", (input) => {
    expect(() => parseBindAddress(input)).toThrow(/host/);
  });
});
