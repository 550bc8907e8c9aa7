/**
 * What configuration resolves to: the frozen {@link Config} every command starts from, and the one
 * error a bad setting becomes ({@link ConfigError}, exit 64).
 *
 * @module
 */
import type { LevelWithSilent } from "pino";

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
