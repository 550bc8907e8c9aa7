/**
 * Resolution: flags + environment -> one frozen, validated {@link Config}. Each value is looked up with
 * the precedence `flag > LBP_* variable > well-known variable (AWS_REGION, POD_NAMESPACE...) > default`
 * from the settings table, parsed by its value parser, and the first bad one is one {@link ConfigError}
 * naming the flag, where the value came from, and the expected form.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { type Config, ConfigError, type LeaderElectionConfig } from "./config.ts";
import {
  awsRegion,
  bindAddress,
  booleanValue,
  clusterName,
  dnsLabel,
  dnsSubdomain,
  httpUrl,
  InvalidValue,
  integerInRange,
  loadBalancerClass,
  logLevel,
  positiveDuration,
  providerName,
  settingPairs,
  text,
} from "./parsers.ts";
import { definition, PROVIDER_CHOICES, type SettingKey } from "./settings.ts";

/** Flag values as commander stores them: strings, `true`/`false` for booleans, arrays for repeatables. */
export type FlagValues = Readonly<Record<string, unknown>>;

/** What {@link resolveConfig} reads besides flags; injectable so tests need no real files. */
export interface ConfigSources {
  readonly flags: FlagValues;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The pod's namespace from the service account mount, when running in a pod. */
  readonly serviceAccountNamespace?: () => string | undefined;
  /** Whether a file exists and is readable (checks `--kubeconfig`). */
  readonly fileExists?: (path: string) => boolean;
}

const SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** Reads the namespace file every pod with a service account token mounted has. */
export function readServiceAccountNamespace(): string | undefined {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

function isReadableFile(path: string): boolean {
  try {
    readFileSync(path, { flag: "r" });
    return true;
  } catch {
    return false;
  }
}

/** A raw value and where it came from, so an error can say which of flag or variable to fix. */
interface RawValue {
  readonly value: unknown;
  /** `--flag`, `LBP_X` or `default`. */
  readonly from: string;
}

function lookup(sources: ConfigSources, key: SettingKey): RawValue | undefined {
  const setting = definition(key);
  const flagged = sources.flags[key];
  if (flagged !== undefined) return { value: flagged, from: setting.flag };
  for (const name of setting.env) {
    const value = sources.env[name];
    if (value !== undefined && value !== "") return { value, from: name };
  }
  return setting.defaultValue === undefined ? undefined : { value: setting.defaultValue, from: "default" };
}

function describe(raw: unknown): string {
  return Array.isArray(raw) ? JSON.stringify(raw) : JSON.stringify(String(raw));
}

function settingError(key: SettingKey, raw: RawValue, expected: string): ConfigError {
  const setting = definition(key);
  const origin = raw.from === setting.flag || raw.from === "default" ? "" : ` (from ${raw.from})`;
  const envs = setting.env.join(", ");
  return new ConfigError(
    setting.flag,
    `invalid ${setting.flag} ${describe(raw.value)}${origin}: expected ${expected} [env: ${envs}]`,
  );
}

function parse<T>(sources: ConfigSources, key: SettingKey, parser: (value: unknown) => T): T | undefined {
  const raw = lookup(sources, key);
  if (raw === undefined) return undefined;
  try {
    return parser(raw.value);
  } catch (error) {
    if (error instanceof InvalidValue) throw settingError(key, raw, error.message);
    throw error;
  }
}

function required<T>(sources: ConfigSources, key: SettingKey, parser: (value: unknown) => T): T {
  const value = parse(sources, key, parser);
  if (value === undefined) throw new Error(`setting ${key} has no default`);
  return value;
}

/**
 * `--provider` has no default, as the upstream cloud-controller-manager has no default cloud: a
 * controller started without one must not write a fake address into a real cluster's Services.
 */
function requiredProvider(sources: ConfigSources): string {
  const provider = parse(sources, "provider", providerName);
  if (provider !== undefined) return provider;
  const setting = definition("provider");
  throw new ConfigError(
    setting.flag,
    `missing ${setting.flag}: name the load balancer provider, one of ${PROVIDER_CHOICES} [env: ${setting.env.join(", ")}]`,
  );
}

function kubeconfigPath(sources: ConfigSources): string | undefined {
  const fileExists = sources.fileExists ?? isReadableFile;
  return parse(sources, "kubeconfig", (value) => {
    const input = text(value);
    if (input === "" || !fileExists(input)) throw new InvalidValue("a readable kubeconfig file");
    return input;
  });
}

/** client-go's rule: the renew deadline must leave room for a jittered retry, and the lease outlast it. */
const LEADER_ELECTION_JITTER = 1.2;

function leaderElection(sources: ConfigSources): LeaderElectionConfig {
  const leaseDurationMs = required(sources, "leaderElectLeaseDuration", positiveDuration);
  const renewDeadlineMs = required(sources, "leaderElectRenewDeadline", positiveDuration);
  const retryPeriodMs = required(sources, "leaderElectRetryPeriod", positiveDuration);
  if (leaseDurationMs <= renewDeadlineMs) {
    throw new ConfigError(
      "--leader-elect-lease-duration",
      `invalid --leader-elect-lease-duration: must be longer than --leader-elect-renew-deadline (${leaseDurationMs}ms <= ${renewDeadlineMs}ms)`,
    );
  }
  if (renewDeadlineMs <= retryPeriodMs * LEADER_ELECTION_JITTER) {
    throw new ConfigError(
      "--leader-elect-renew-deadline",
      `invalid --leader-elect-renew-deadline: must be longer than 1.2 x --leader-elect-retry-period (${renewDeadlineMs}ms <= ${retryPeriodMs * LEADER_ELECTION_JITTER}ms)`,
    );
  }
  const namespace =
    parse(sources, "leaderElectResourceNamespace", dnsLabel) ?? sources.serviceAccountNamespace?.() ?? "kube-system";
  return {
    enabled: required(sources, "leaderElect", booleanValue),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    namespace,
    name: required(sources, "leaderElectResourceName", dnsSubdomain),
  };
}

/**
 * The provider's settings: `--provider-config` pairs, plus `region` / `endpoint` from `--aws-region` /
 * `--aws-endpoint-url` for the aws provider (an explicit `--provider-config region=...` wins). Other
 * providers never see the AWS variables, so a stray AWS_REGION cannot trip their unknown-key checks.
 */
function resolveProviderSettings(sources: ConfigSources, provider: string): Record<string, string> {
  const settings = parse(sources, "providerConfig", settingPairs) ?? {};
  if (provider !== "aws") return settings;
  const region = parse(sources, "awsRegion", awsRegion);
  const endpoint = parse(sources, "awsEndpointUrl", httpUrl);
  return {
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...settings,
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Builds the Config from flags and environment, or throws a {@link ConfigError} whose message is one
 * line naming the flag, its environment variables and the expected form.
 */
export function resolveConfig(sources: ConfigSources): Config {
  const provider = requiredProvider(sources);
  const kubeconfig = kubeconfigPath(sources);
  const loadBalancerClassValue = parse(sources, "loadBalancerClass", loadBalancerClass);
  const metrics = required(sources, "metricsBindAddress", bindAddress);
  const health = required(sources, "healthProbeBindAddress", bindAddress);
  const config: Config = {
    clusterName: required(sources, "clusterName", clusterName),
    concurrentServiceSyncs: required(sources, "concurrentServiceSyncs", integerInRange(1, 1000)),
    leaderElection: leaderElection(sources),
    ...(kubeconfig === undefined ? {} : { kubeconfig }),
    provider,
    providerSettings: resolveProviderSettings(sources, provider),
    ...(loadBalancerClassValue === undefined ? {} : { loadBalancerClass: loadBalancerClassValue }),
    resyncPeriodMs: required(sources, "resyncPeriod", positiveDuration),
    events: {
      qps: required(sources, "eventQps", integerInRange(1, 10_000)),
      burst: required(sources, "eventBurst", integerInRange(1, 10_000)),
    },
    ...(metrics === "disabled" ? {} : { metricsBindAddress: metrics }),
    ...(health === "disabled" ? {} : { healthProbeBindAddress: health }),
    logLevel: required(sources, "logLevel", logLevel),
    gracefulShutdownTimeoutMs: required(sources, "gracefulShutdownTimeout", positiveDuration),
  };
  return deepFreeze(config);
}

/** The Config for this process: `flags` from commander, everything else from the real environment. */
export function loadConfig(flags: FlagValues, env: NodeJS.ProcessEnv = process.env): Config {
  return resolveConfig({ flags, env, serviceAccountNamespace: readServiceAccountNamespace });
}
