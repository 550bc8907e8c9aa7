/**
 * The AWS provider's entry point: `--provider aws`. Its default export is the {@link ProviderFactory}
 * the controller loads.
 *
 * Settings (`--provider-config key=value`): {@link providerSettings}. Credentials come from the AWS SDK's default chain (environment,
 * web identity / IRSA, profile, instance metadata) and are never logged.
 *
 * @module
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { AWS_REGION_PATTERN, isAwsRegionName } from "../rules/aws-region.ts";
import { type ProviderSettingsDeclaration, readProviderSettings } from "../settings.ts";
import type { LoadBalancerProvider, ProviderFactory, ProviderOptions } from "../types.ts";
import { AwsClient, type RetryOptions } from "./client.ts";
import type { RateClass, RateLimit } from "./operations.ts";
import { AwsProvider } from "./provider.ts";
import type { Clock } from "./rate-limit.ts";
import { CLUSTER_TAG_PREFIX } from "./tags.ts";

export { AwsProvider } from "./provider.ts";

/** The AWS provider's settings, checked by the loader and read by {@link readAwsSettings}. */
export const providerSettings = [
  {
    name: "region",
    type: "string",
    pattern: AWS_REGION_PATTERN,
    example: "a region name like us-east-1",
    env: ["AWS_REGION", "AWS_DEFAULT_REGION"],
    defaultText: "the AWS config file",
    help: "Region of the load balancers. Required one way or another; the controller's `--aws-region` sets it too.",
  },
  {
    name: "endpoint",
    type: "url",
    env: ["AWS_ENDPOINT_URL"],
    defaultText: "AWS itself",
    help: "API endpoint, for emulators (moto, LocalStack); the controller's `--aws-endpoint-url` sets it too.",
  },
  {
    name: "vpcId",
    type: "string",
    pattern: /^vpc-[0-9a-f]+$/,
    example: "a VPC id such as vpc-0abc123",
    help: "The cluster's VPC. Only needed when no node has an AWS providerID and the Service names no subnets.",
  },
  {
    name: "adoptLegacy",
    type: "boolean",
    default: true,
    help: "`true`: take over, in place, the NLB the legacy cloud provider built for a Service (see [Coming from the legacy cloud provider](#coming-from-the-legacy-cloud-provider)); `false`: such an NLB is a conflict, left untouched.",
  },
] as const satisfies ProviderSettingsDeclaration;

/** The settings this provider accepts. */
export const AWS_SETTINGS: readonly string[] = providerSettings.map((setting) => setting.name);

/** Thrown for an unusable cluster name or region; the message names the setting and the fix. */
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

/**
 * Settings from `--provider-config` and the environment.
 *
 * @throws {InvalidConfigurationError} naming `--provider-config <key>` for an unknown key or a bad value.
 */
export function readAwsSettings(
  settings: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): AwsSettings {
  const { region, endpoint, vpcId, adoptLegacy } = readProviderSettings("aws", providerSettings, settings, env);
  return {
    ...(region !== undefined && { region }),
    ...(endpoint !== undefined && { endpoint }),
    ...(vpcId !== undefined && { vpcId }),
    adoptLegacy,
  };
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
  if (!isAwsRegionName(region))
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
