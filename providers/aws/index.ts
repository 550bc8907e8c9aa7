/**
 * The AWS provider's entry point: `--provider aws`. Its default export is the {@link ProviderFactory}
 * the controller loads.
 *
 * Settings (`--provider-config key=value`): `region` (else `AWS_REGION` / `AWS_DEFAULT_REGION`),
 * `endpoint` (else `AWS_ENDPOINT_URL`; for emulators such as moto or LocalStack), `vpcId` (only needed
 * when nodes have no AWS providerID), `adoptLegacy` (`true` by default: take over the NLB the legacy
 * cloud provider built for a Service; `false` reports it as a conflict instead). Credentials come from the AWS SDK's default chain (environment,
 * web identity / IRSA, profile, instance metadata) and are never logged.
 *
 * @module
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { LoadBalancerProvider, ProviderFactory, ProviderOptions } from "../types.ts";
import { AwsClient, type RetryOptions } from "./client.ts";
import type { RateClass, RateLimit } from "./operations.ts";
import { AwsProvider } from "./provider.ts";
import type { Clock } from "./rate-limit.ts";
import { CLUSTER_TAG_PREFIX } from "./tags.ts";

export { AwsProvider } from "./provider.ts";

/** The settings this provider accepts. */
export const AWS_SETTINGS = ["region", "endpoint", "vpcId", "adoptLegacy"] as const;

/** Thrown by the factory for unusable settings; the message names the setting and the fix. */
export class AwsSettingsError extends Error {
  override readonly name = "AwsSettingsError";
}

export interface AwsSettings {
  /** Absent when neither the settings nor the environment name one; see {@link resolveRegion}. */
  readonly region?: string;
  readonly endpoint?: string;
  readonly vpcId?: string;
  /** Whether a Service's NLB built by the legacy cloud provider is adopted (see `adopt.ts`); default true. */
  readonly adoptLegacy: boolean;
}

/** Settings from `--provider-config` and the environment; throws {@link AwsSettingsError}. */
export function readAwsSettings(
  settings: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): AwsSettings {
  for (const key of Object.keys(settings))
    if (!(AWS_SETTINGS as readonly string[]).includes(key))
      throw new AwsSettingsError(`unknown AWS provider setting "${key}"; known settings: ${AWS_SETTINGS.join(", ")}`);
  const region = nonEmpty(settings.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region !== undefined) checkRegion(region);
  const endpoint = nonEmpty(settings.endpoint) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined && !isHttpUrl(endpoint))
    throw new AwsSettingsError(`AWS endpoint "${endpoint}" is not an http(s) URL; fix the endpoint setting`);
  const vpcId = nonEmpty(settings.vpcId);
  if (vpcId !== undefined && !/^vpc-[0-9a-f]+$/.test(vpcId))
    throw new AwsSettingsError(`vpcId "${vpcId}" is not a VPC id (vpc-...); fix the vpcId setting`);
  const adopt = nonEmpty(settings.adoptLegacy) ?? "true";
  if (adopt !== "true" && adopt !== "false")
    throw new AwsSettingsError(`adoptLegacy "${adopt}" is neither true nor false; fix the adoptLegacy setting`);
  return {
    ...(region !== undefined && { region }),
    ...(endpoint !== undefined && { endpoint }),
    ...(vpcId !== undefined && { vpcId }),
    adoptLegacy: adopt === "true",
  };
}

/** Whether the SDK can use `value` as an endpoint: a URL that parses, with an http(s) scheme and a host. */
function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

/**
 * The region to use: the setting or environment, else the AWS SDK's own resolution (the shared config
 * file's profile). Fails with a message naming both ways to set it.
 */
export async function resolveRegion(settings: Pick<AwsSettings, "region">): Promise<string> {
  if (settings.region !== undefined) return settings.region;
  const probe = new EC2Client({});
  try {
    const region = await probe.config.region();
    checkRegion(region);
    return region;
  } catch (error) {
    if (error instanceof AwsSettingsError) throw error;
    throw new AwsSettingsError(
      "no AWS region: set --provider-config region=<region>, the AWS_REGION environment variable, or a region in the AWS config file",
      { cause: error },
    );
  } finally {
    probe.destroy();
  }
}

/** Overrides for tests and tools: own SDK clients (e.g. with middleware), retry and rate-limit tuning. */
export interface AwsProviderOverrides {
  readonly elbv2?: ElasticLoadBalancingV2Client;
  readonly ec2?: EC2Client;
  readonly retry?: RetryOptions;
  readonly releaseRetry?: RetryOptions;
  readonly rateLimits?: Readonly<Record<RateClass, RateLimit>>;
  /** Time source for how old what the provider knows may be (inventory, records, subnets). */
  readonly clock?: Clock;
}

/** Creates the provider; the default export is this without overrides. */
export async function newAwsProvider(
  options: ProviderOptions,
  overrides: AwsProviderOverrides = {},
): Promise<AwsProvider> {
  checkClusterName(options.clusterName);
  const settings = readAwsSettings(options.settings);
  const region = await resolveRegion(settings);
  const config = {
    region,
    ...(settings.endpoint !== undefined && { endpoint: settings.endpoint }),
    // The wrapper retries throttling itself, under its rate limit and with every attempt counted.
    maxAttempts: 1,
  };
  const elbv2 = overrides.elbv2 ?? new ElasticLoadBalancingV2Client(config);
  const ec2 = overrides.ec2 ?? new EC2Client(config);
  const client = new AwsClient({
    elbv2,
    ec2,
    ...(options.onCall !== undefined && { onCall: options.onCall }),
    ...(overrides.retry !== undefined && { retry: overrides.retry }),
    ...(overrides.rateLimits !== undefined && { rateLimits: overrides.rateLimits }),
  });
  options.logger.info(
    {
      provider: "aws",
      region,
      endpoint: settings.endpoint ?? "default",
      vpcId: settings.vpcId,
      adoptLegacy: settings.adoptLegacy,
    },
    "AWS provider ready",
  );
  return new AwsProvider({
    client,
    logger: options.logger,
    vpcId: settings.vpcId,
    adoptLegacy: settings.adoptLegacy,
    ...(overrides.releaseRetry !== undefined && { releaseRetry: overrides.releaseRetry }),
    ...(overrides.clock !== undefined && { clock: overrides.clock }),
    close: () => {
      if (overrides.elbv2 === undefined) elbv2.destroy();
      if (overrides.ec2 === undefined) ec2.destroy();
    },
  });
}

const createAwsProvider: ProviderFactory = (options: ProviderOptions): Promise<LoadBalancerProvider> =>
  newAwsProvider(options);
export default createAwsProvider;

function checkRegion(region: string): void {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
    throw new AwsSettingsError(`AWS region "${region}" is not a region name like us-east-1; fix the region setting`);
}

function checkClusterName(clusterName: string): void {
  // The name becomes part of a tag key: at most 128 characters, from a limited alphabet.
  const maxLength = 128 - CLUSTER_TAG_PREFIX.length;
  if (clusterName === "" || clusterName.length > maxLength || !/^[a-zA-Z0-9_.:/=+@-]+$/.test(clusterName))
    throw new AwsSettingsError(
      `cluster name "${clusterName}" cannot be used in the AWS tag ${CLUSTER_TAG_PREFIX}<cluster>: use 1-${maxLength} letters, digits or _.:/=+@-`,
    );
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
