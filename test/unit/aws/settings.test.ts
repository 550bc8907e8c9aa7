import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import createAwsProvider, { newAwsProvider, readAwsSettings, resolveRegion } from "../../../providers/aws/index.ts";
import { InvalidConfigurationError } from "../../../providers/errors.ts";
import type { ProviderLogger } from "../../../providers/types.ts";

const silent: ProviderLogger = { debug() {}, info() {}, warn() {}, error() {} };

describe("readAwsSettings", () => {
  it("prefers settings over the environment", () => {
    expect(
      readAwsSettings(
        { region: "eu-west-1", endpoint: "http://127.0.0.1:5000", vpcId: "vpc-0abc" },
        { AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: "http://elsewhere" },
      ),
    ).toEqual({ region: "eu-west-1", endpoint: "http://127.0.0.1:5000", vpcId: "vpc-0abc", adoptLegacy: true });
  });

  it("falls back to AWS_REGION, AWS_DEFAULT_REGION and AWS_ENDPOINT_URL", () => {
    expect(readAwsSettings({}, { AWS_DEFAULT_REGION: "ap-southeast-2" })).toEqual({
      region: "ap-southeast-2",
      adoptLegacy: true,
    });
    expect(readAwsSettings({}, { AWS_REGION: "us-west-2", AWS_ENDPOINT_URL: "https://localhost:4566" })).toEqual({
      region: "us-west-2",
      endpoint: "https://localhost:4566",
      adoptLegacy: true,
    });
  });

  it("turns adoption of the legacy cloud provider's load balancers off with adoptLegacy=false", () => {
    expect(readAwsSettings({ region: "us-east-1", adoptLegacy: "false" }, {}).adoptLegacy).toBe(false);
    expect(readAwsSettings({ region: "us-east-1", adoptLegacy: "true" }, {}).adoptLegacy).toBe(true);
  });

  it.each([
    [
      { regoin: "us-east-1" },
      {},
      "--provider-config regoin: unknown setting for the aws provider; it accepts region, endpoint, vpcId, adoptLegacy",
    ],
    [
      { region: "us-east-1", adoptLegacy: "no" },
      {},
      '--provider-config adoptLegacy: "no" is not true or false (default true)',
    ],
    [{ region: "useast1" }, {}, '--provider-config region: "useast1" is not a region name like us-east-1'],
    [
      {},
      { AWS_REGION: "useast1" },
      '--provider-config region: "useast1" (from AWS_REGION) is not a region name like us-east-1',
    ],
    [
      { region: "us-east-1", endpoint: "localhost:4566" },
      {},
      '--provider-config endpoint: "localhost:4566" is not an http(s) URL',
    ],
    [
      { region: "us-east-1", vpcId: "default" },
      {},
      '--provider-config vpcId: "default" is not a VPC id such as vpc-0abc123',
    ],
  ])("rejects %j %j with a message naming the setting", (settings, env, message) => {
    expect(() => readAwsSettings(settings, env)).toThrow(InvalidConfigurationError);
    expect(() => readAwsSettings(settings, env)).toThrow(message);
  });

  it.each(["us-east-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1"])("accepts the region name %s", (region) => {
    expect(readAwsSettings({ region }, {})).toEqual({ region, adoptLegacy: true });
  });
});

describe("resolveRegion", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  function withConfigFile(contents: string): void {
    const dir = mkdtempSync(join(tmpdir(), "lbp-aws-config-"));
    writeFileSync(join(dir, "config"), contents);
    vi.stubEnv("AWS_CONFIG_FILE", join(dir, "config"));
    vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", join(dir, "credentials"));
    vi.stubEnv("AWS_REGION", undefined);
    vi.stubEnv("AWS_DEFAULT_REGION", undefined);
    vi.stubEnv("AWS_PROFILE", undefined);
  }

  it("uses the configured region first", async () => {
    expect(await resolveRegion({ region: "eu-central-1" })).toBe("eu-central-1");
  });

  it("falls back to the AWS SDK's resolution (the config file's profile)", async () => {
    withConfigFile("[default]\nregion = ca-central-1\n");
    expect(await resolveRegion(readAwsSettings({}))).toBe("ca-central-1");
  });

  it("names every way to set a region when there is none", async () => {
    withConfigFile("");
    await expect(resolveRegion(readAwsSettings({}))).rejects.toThrow(
      /no AWS region: set --provider-config region=<region>, the AWS_REGION environment variable, or a region in the AWS config file/,
    );
  });
});

describe("the provider factory", () => {
  it("is the default export and builds a provider named aws", async () => {
    const provider = await createAwsProvider({
      clusterName: "prod",
      logger: silent,
      settings: { region: "us-east-1" },
    });
    expect(provider.name).toBe("aws");
    expect(typeof provider.validate).toBe("function");
    await provider.close?.();
  });

  it.each(["", "x".repeat(107), "has space", "bad,comma"])("rejects the cluster name %j", async (clusterName) => {
    await expect(newAwsProvider({ clusterName, logger: silent, settings: { region: "us-east-1" } })).rejects.toThrow(
      /cannot be used in the AWS tag kubernetes\.io\/cluster\//,
    );
  });

  it("never logs credentials", async () => {
    const logged: unknown[] = [];
    const logger: ProviderLogger = { ...silent, info: (obj) => logged.push(obj) };
    const previous = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = "very-secret-value";
    try {
      await (await newAwsProvider({ clusterName: "prod", logger, settings: { region: "us-east-1" } })).close();
    } finally {
      if (previous === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = previous;
    }
    expect(logged.length).toBeGreaterThan(0);
    expect(JSON.stringify(logged)).not.toContain("very-secret-value");
  });
});
