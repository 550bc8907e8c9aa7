/**
 * Flags + environment -> one frozen, validated {@link Config}.
 *
 * Every setting is declared once in {@link SETTINGS}: its flag (named as the cloud-controller-manager
 * names it where one exists), the environment variables it is also read from, its default and how its
 * value is parsed. Commands register the flags from that table ({@link addSettingOptions}) and hand the
 * parsed flag values to {@link resolveConfig}, which applies the precedence
 * `flag > LBP_* variable > well-known variable (AWS_REGION, POD_NAMESPACE...) > default` and throws one
 * {@link ConfigError} for the first bad value, naming the flag, its variable and the expected form.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { LevelWithSilent } from "pino";
import { builtinProviders } from "../providers/load.ts";
import { isDnsSubdomain, isLabelKey } from "../providers/rules/index.ts";
import { LOG_LEVELS } from "./observability/log-levels.ts";

/** What `--provider` accepts, in words. */
const PROVIDER_CHOICES = `${builtinProviders.join(", ")}, or a module (package name or path) whose default export is a provider factory`;

/** Where a server listens. `host` undefined means every interface (`:8080`). */
export interface BindAddress {
  readonly host?: string;
  readonly port: number;
}

/** How replicas agree on one active controller (a `coordination.k8s.io/v1` Lease). */
export interface LeaderElectionConfig {
  readonly enabled: boolean;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly namespace: string;
  readonly name: string;
}

/** Everything `lb-provisioner run` needs, validated. Frozen: nothing changes it after start. */
export interface Config {
  /** Scopes cloud resource ownership; passed verbatim to the provider as `clusterName`. */
  readonly clusterName: string;
  /** Reconcile workers: Services synced at the same time. */
  readonly concurrentServiceSyncs: number;
  readonly leaderElection: LeaderElectionConfig;
  /**
   * Path of a kubeconfig file. Undefined: the in-cluster service account, else `$KUBECONFIG` (which may
   * list several files), else `~/.kube/config` — resolved by `src/kube/config.ts`.
   */
  readonly kubeconfig?: string;
  /** `fake`, `aws`, or a module specifier whose default export is a provider factory. */
  readonly provider: string;
  /** Handed to the provider factory as `settings` (from `--provider-config`, plus `--aws-*` for aws). */
  readonly providerSettings: Readonly<Record<string, string>>;
  /** Only Services with this `spec.loadBalancerClass` are handled; undefined means class-less ones. */
  readonly loadBalancerClass?: string;
  readonly resyncPeriodMs: number;
  /** Event writes per second across all Services, and how many may go at once beyond that rate. */
  readonly events: { readonly qps: number; readonly burst: number };
  /** Undefined when disabled (`0`). */
  readonly metricsBindAddress?: BindAddress;
  /** Undefined when disabled (`0`). */
  readonly healthProbeBindAddress?: BindAddress;
  readonly logLevel: LevelWithSilent;
  /** Bound on finishing in-flight reconciles after SIGTERM, below the pod's termination grace period. */
  readonly gracefulShutdownTimeoutMs: number;
}

/** A setting's value is missing or malformed. `message` is the one line printed at start. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** The flag at fault, e.g. `--resync-period`. */
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(message);
    this.flag = flag;
  }
}

type SettingKey =
  | "clusterName"
  | "concurrentServiceSyncs"
  | "leaderElect"
  | "leaderElectLeaseDuration"
  | "leaderElectRenewDeadline"
  | "leaderElectRetryPeriod"
  | "leaderElectResourceNamespace"
  | "leaderElectResourceName"
  | "kubeconfig"
  | "provider"
  | "providerConfig"
  | "loadBalancerClass"
  | "resyncPeriod"
  | "eventQps"
  | "eventBurst"
  | "metricsBindAddress"
  | "healthProbeBindAddress"
  | "logLevel"
  | "gracefulShutdownTimeout"
  | "awsRegion"
  | "awsEndpointUrl";

/** One setting: a flag, the variables it is also read from, and how its help reads. */
export interface SettingDefinition {
  /** The attribute commander stores the flag under (camelCase of the flag). */
  readonly key: SettingKey;
  readonly flag: string;
  /** `<value>` placeholder in help; absent for booleans. */
  readonly valueName?: string;
  /** Variables read in order when the flag is absent; the first is this project's own. */
  readonly env: readonly string[];
  /** Default as shown in help (and parsed when nothing else is set), or undefined for none. */
  readonly defaultValue?: string;
  readonly description: string;
  readonly group: string;
  readonly kind?: "boolean" | "repeatable";
}

const GENERAL = "Controller options:";
const ELECTION = "Leader election options:";
const PROVIDER = "Provider options:";
const SERVING = "Endpoint and logging options:";

/** Every setting of `run`, in help order. */
export const SETTINGS: readonly SettingDefinition[] = [
  {
    key: "clusterName",
    flag: "--cluster-name",
    valueName: "<name>",
    env: ["LBP_CLUSTER_NAME"],
    defaultValue: "kubernetes",
    description: "name of this cluster; scopes the cloud resources this controller owns",
    group: GENERAL,
  },
  {
    key: "concurrentServiceSyncs",
    flag: "--concurrent-service-syncs",
    valueName: "<n>",
    env: ["LBP_CONCURRENT_SERVICE_SYNCS"],
    defaultValue: "5",
    description: "Services reconciled at the same time (upstream default 1)",
    group: GENERAL,
  },
  {
    key: "loadBalancerClass",
    flag: "--load-balancer-class",
    valueName: "<class>",
    env: ["LBP_LOAD_BALANCER_CLASS"],
    description: "handle only Services with this spec.loadBalancerClass (default: Services without a class)",
    group: GENERAL,
  },
  {
    key: "resyncPeriod",
    flag: "--resync-period",
    valueName: "<duration>",
    env: ["LBP_RESYNC_PERIOD"],
    defaultValue: "10m",
    description: "how often every managed Service is re-ensured to repair drift",
    group: GENERAL,
  },
  {
    key: "eventQps",
    flag: "--event-qps",
    valueName: "<n>",
    env: ["LBP_EVENT_QPS"],
    defaultValue: "20",
    description: "Event writes per second across all Services; more wait in a bounded queue, folded or dropped",
    group: GENERAL,
  },
  {
    key: "eventBurst",
    flag: "--event-burst",
    valueName: "<n>",
    env: ["LBP_EVENT_BURST"],
    defaultValue: "30",
    description: "Event writes allowed at once before --event-qps applies",
    group: GENERAL,
  },
  {
    key: "kubeconfig",
    flag: "--kubeconfig",
    valueName: "<path>",
    env: ["LBP_KUBECONFIG"],
    description: "kubeconfig file (default: the in-cluster service account, else $KUBECONFIG, else ~/.kube/config)",
    group: GENERAL,
  },
  {
    key: "gracefulShutdownTimeout",
    flag: "--graceful-shutdown-timeout",
    valueName: "<duration>",
    env: ["LBP_GRACEFUL_SHUTDOWN_TIMEOUT"],
    defaultValue: "25s",
    description: "bound on finishing in-flight reconciles after SIGTERM (keep below terminationGracePeriodSeconds)",
    group: GENERAL,
  },
  {
    key: "leaderElect",
    flag: "--leader-elect",
    env: ["LBP_LEADER_ELECT"],
    defaultValue: "true",
    description: "run only while holding the leader Lease (--leader-elect=false or --no-leader-elect to disable)",
    group: ELECTION,
    kind: "boolean",
  },
  {
    key: "leaderElectLeaseDuration",
    flag: "--leader-elect-lease-duration",
    valueName: "<duration>",
    env: ["LBP_LEADER_ELECT_LEASE_DURATION"],
    defaultValue: "15s",
    description: "how long standbys wait after the last renewal before taking over",
    group: ELECTION,
  },
  {
    key: "leaderElectRenewDeadline",
    flag: "--leader-elect-renew-deadline",
    valueName: "<duration>",
    env: ["LBP_LEADER_ELECT_RENEW_DEADLINE"],
    defaultValue: "10s",
    description: "how long the leader keeps retrying to renew before it gives up and exits",
    group: ELECTION,
  },
  {
    key: "leaderElectRetryPeriod",
    flag: "--leader-elect-retry-period",
    valueName: "<duration>",
    env: ["LBP_LEADER_ELECT_RETRY_PERIOD"],
    defaultValue: "2s",
    description: "interval between attempts to acquire or renew the Lease",
    group: ELECTION,
  },
  {
    key: "leaderElectResourceNamespace",
    flag: "--leader-elect-resource-namespace",
    valueName: "<namespace>",
    env: ["LBP_LEADER_ELECT_RESOURCE_NAMESPACE", "POD_NAMESPACE"],
    description: "namespace of the Lease (default: the pod's namespace, else kube-system)",
    group: ELECTION,
  },
  {
    key: "leaderElectResourceName",
    flag: "--leader-elect-resource-name",
    valueName: "<name>",
    env: ["LBP_LEADER_ELECT_RESOURCE_NAME"],
    defaultValue: "lb-provisioner",
    description: "name of the Lease",
    group: ELECTION,
  },
  {
    key: "provider",
    flag: "--provider",
    valueName: "<name|module>",
    env: ["LBP_PROVIDER"],
    description: `required: ${PROVIDER_CHOICES}`,
    group: PROVIDER,
  },
  {
    key: "providerConfig",
    flag: "--provider-config",
    valueName: "<key=value>",
    env: ["LBP_PROVIDER_CONFIG"],
    description: "provider setting, repeatable; the variable takes comma-separated pairs",
    group: PROVIDER,
    kind: "repeatable",
  },
  {
    key: "awsRegion",
    flag: "--aws-region",
    valueName: "<region>",
    env: ["LBP_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"],
    description: "AWS region of the aws provider (default: the AWS SDK's config file)",
    group: PROVIDER,
  },
  {
    key: "awsEndpointUrl",
    flag: "--aws-endpoint-url",
    valueName: "<url>",
    env: ["LBP_AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL"],
    description: "AWS API endpoint, e.g. an emulator at http://127.0.0.1:4566 (aws provider)",
    group: PROVIDER,
  },
  {
    key: "metricsBindAddress",
    flag: "--metrics-bind-address",
    valueName: "<[host]:port|0>",
    env: ["LBP_METRICS_BIND_ADDRESS"],
    defaultValue: ":8080",
    description: "where /metrics is served; 0 disables it",
    group: SERVING,
  },
  {
    key: "healthProbeBindAddress",
    flag: "--health-probe-bind-address",
    valueName: "<[host]:port|0>",
    env: ["LBP_HEALTH_PROBE_BIND_ADDRESS"],
    defaultValue: ":8081",
    description: "where /healthz and /readyz are served; 0 disables them",
    group: SERVING,
  },
  {
    key: "logLevel",
    flag: "--log-level",
    valueName: "<level>",
    env: ["LBP_LOG_LEVEL"],
    defaultValue: "info",
    description: `log level: ${LOG_LEVELS.join(", ")}`,
    group: SERVING,
  },
];

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

function definition(key: SettingKey): SettingDefinition {
  const found = SETTINGS.find((setting) => setting.key === key);
  if (!found) throw new Error(`unknown setting ${key}`);
  return found;
}

/** Thrown by parsers; turned into a {@link ConfigError} that names the setting. */
class InvalidValue extends Error {}

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

function text(value: unknown): string {
  if (typeof value !== "string") throw new InvalidValue("a value");
  return value.trim();
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

/**
 * Parses a Go-style duration (`500ms`, `15s`, `10m`, `1h30m`) into milliseconds. Bare numbers are
 * rejected: a unit-less `15` is ambiguous between the flag styles operators know.
 */
export function parseDuration(input: string): number {
  const value = input.trim();
  if (value === "") throw new InvalidValue("a duration such as 15s, 10m or 1h30m");
  let total = 0;
  let consumed = 0;
  DURATION_PART.lastIndex = 0;
  for (let match = DURATION_PART.exec(value); match; match = DURATION_PART.exec(value)) {
    const [whole, amount, unit] = match;
    total += Number(amount) * (DURATION_UNITS_MS[unit ?? ""] ?? Number.NaN);
    consumed += whole.length;
  }
  if (consumed !== value.length || !Number.isFinite(total)) {
    throw new InvalidValue("a duration such as 15s, 10m or 1h30m (units ms, s, m, h)");
  }
  return Math.round(total);
}

function positiveDuration(value: unknown): number {
  const ms = parseDuration(text(value));
  if (ms <= 0) throw new InvalidValue("a duration greater than zero, such as 15s");
  return ms;
}

function integerInRange(min: number, max: number): (value: unknown) => number {
  return (value) => {
    const input = text(value);
    if (!/^\d+$/.test(input)) throw new InvalidValue(`a whole number from ${min} to ${max}`);
    const parsed = Number(input);
    if (parsed < min || parsed > max) throw new InvalidValue(`a whole number from ${min} to ${max}`);
    return parsed;
  };
}

function booleanValue(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  const input = text(value).toLowerCase();
  if (input === "true" || input === "1") return true;
  if (input === "false" || input === "0") return false;
  throw new InvalidValue("true or false");
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function clusterName(value: unknown): string {
  const input = text(value);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(input)) {
    throw new InvalidValue("1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return input;
}

function dnsLabel(value: unknown): string {
  const input = text(value);
  if (!DNS_LABEL.test(input)) throw new InvalidValue("a namespace name (lowercase letters, digits and '-')");
  return input;
}

function dnsSubdomain(value: unknown): string {
  const input = text(value);
  if (!isDnsSubdomain(input)) throw new InvalidValue("an object name (lowercase letters, digits, '-' and '.')");
  return input;
}

/** `spec.loadBalancerClass` is a label-style qualified name: `[prefix/]name`. */
function loadBalancerClass(value: unknown): string {
  const input = text(value);
  if (!isLabelKey(input)) throw new InvalidValue("a label-style name such as example.com/internal-nlb");
  return input;
}

function providerName(value: unknown): string {
  const input = text(value);
  if (input === "" || /\s/.test(input)) throw new InvalidValue(`${PROVIDER_CHOICES}, without spaces`);
  return input;
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

const SETTING_NAME = /^[A-Za-z][A-Za-z0-9._-]*$/;

function providerSettings(value: unknown): Record<string, string> {
  const pairs = Array.isArray(value)
    ? value.map(text)
    : text(value)
        .split(",")
        .map((pair) => pair.trim())
        .filter((pair) => pair !== "");
  const settings: Record<string, string> = {};
  for (const pair of pairs) {
    const separator = pair.indexOf("=");
    const name = separator > 0 ? pair.slice(0, separator).trim() : "";
    if (!SETTING_NAME.test(name)) throw new InvalidValue(`key=value pairs (bad entry "${pair}")`);
    if (Object.hasOwn(settings, name)) throw new InvalidValue(`each key at most once ("${name}" repeats)`);
    settings[name] = pair.slice(separator + 1).trim();
  }
  return settings;
}

/** Parses `:8080`, `127.0.0.1:8080`, `[::1]:8080` or `0` (disabled, returned as undefined). */
export function parseBindAddress(input: string): BindAddress | undefined {
  const value = input.trim();
  if (value === "0") return undefined;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65_535) throw new InvalidValue("[host]:port such as :8080 or 127.0.0.1:8080, or 0 to disable");
  const host = match[1] ?? match[2];
  return host ? { host, port } : { port };
}

function bindAddress(value: unknown): BindAddress | "disabled" {
  return parseBindAddress(text(value)) ?? "disabled";
}

function logLevel(value: unknown): LevelWithSilent {
  const input = text(value).toLowerCase();
  const level = LOG_LEVELS.find((candidate) => candidate === input);
  if (!level) throw new InvalidValue(`one of ${LOG_LEVELS.join(", ")}`);
  return level;
}

function awsRegion(value: unknown): string {
  const input = text(value);
  if (!/^[a-z]{2}(-[a-z0-9]+)+$/.test(input)) throw new InvalidValue("an AWS region such as us-east-1");
  return input;
}

function httpUrl(value: unknown): string {
  const input = text(value);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new InvalidValue("an http:// or https:// URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidValue("an http:// or https:// URL");
  return input;
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
  const settings = parse(sources, "providerConfig", providerSettings) ?? {};
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
