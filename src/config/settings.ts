/**
 * The settings table: every flag of `run` and the operator commands, declared once — its flag (named as
 * the cloud-controller-manager names it where one exists), the environment variables it is also read
 * from, its default and its help. Commands register their flags from it (`commands/setting-options.ts`)
 * and `resolve.ts` reads values through it, so help, docs and errors spell each setting the same way.
 *
 * @module
 */
import { builtinProviders } from "../../providers/load.ts";
import { LOG_LEVELS } from "../observability/log-levels.ts";

/** What `--provider` accepts, in words. */
export const PROVIDER_CHOICES = `${builtinProviders.join(", ")}, or a module (package name or path) whose default export is a provider factory`;

export type SettingKey =
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

/** The declaration of the setting stored under `key`. */
export function definition(key: SettingKey): SettingDefinition {
  const found = SETTINGS.find((setting) => setting.key === key);
  if (!found) throw new Error(`unknown setting ${key}`);
  return found;
}
