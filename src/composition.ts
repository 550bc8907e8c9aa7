/**
 * The composition root of every command that works on a cluster (`run`, `plan`, `status`, `gc`): from
 * the validated {@link Config}, the logger, the Kubernetes client configuration and the provider, built
 * the same way for each, so an operator command sees exactly what the controller sees. Failures the
 * operator fixes with a flag (a kubeconfig that cannot be found, a provider that cannot be loaded or
 * rejects its settings) become a {@link ConfigError} here, once, naming that flag: exit 64 from every
 * command.
 *
 * @module
 */
import type { DestinationStream } from "pino";
import {
  isSettingError,
  type LoadBalancerProvider,
  loadProvider,
  type ProviderCall,
  ProviderLoadError,
} from "../providers/index.ts";
import { type Config, ConfigError } from "./config/index.ts";
import { type ClusterAccess, KubeConfigError, loadKubeConfig } from "./kube/config.ts";
import { createLogger, type Logger } from "./observability/logger.ts";
import type { ControllerMetrics } from "./observability/metrics.ts";

/**
 * Who is logging. The controller logs JSON lines at `--log-level` (on stdout unless told otherwise);
 * an operator command's stdout is its output (possibly JSON), so it logs only warnings, on stderr.
 */
export type CommandKind = "controller" | "operator";

/** The logger of a command of `kind`. */
export function commandLogger(config: Config, kind: CommandKind, destination?: DestinationStream): Logger {
  return kind === "controller" ? createLogger(config.logLevel, destination) : createLogger("warn", process.stderr);
}

/** A cluster and a provider to work on. Close the provider when done. */
export interface Connection {
  readonly kubeConfig: ClusterAccess;
  readonly provider: LoadBalancerProvider;
}

export interface ConnectOptions {
  readonly logger: Logger;
  /** The controller's metrics: the provider's calls are counted there, and it may add its own. */
  readonly metrics?: ControllerMetrics;
}

/**
 * Loads the Kubernetes client configuration and the configured provider.
 *
 * @throws {ConfigError} naming `--kubeconfig`, `--provider` or `--provider-config` when one cannot be used.
 */
export async function connect(config: Config, options: ConnectOptions): Promise<Connection> {
  let kubeConfig: ClusterAccess;
  try {
    kubeConfig = loadKubeConfig({ kubeconfig: config.kubeconfig });
  } catch (error) {
    if (error instanceof KubeConfigError) throw flagError("--kubeconfig", error);
    throw error;
  }
  const { metrics } = options;
  // The provider's name is only known once loaded; calls made by its factory count under the specifier.
  let providerLabel = config.provider;
  const counting =
    metrics === undefined
      ? {}
      : {
          onCall: (call: ProviderCall): void => metrics.providerCallObserver(providerLabel)(call),
          metricsRegistry: metrics.registry,
        };
  try {
    const provider = await loadProvider(config.provider, {
      clusterName: config.clusterName,
      logger: options.logger.child({ component: "provider" }),
      settings: config.providerSettings,
      ...counting,
    });
    providerLabel = provider.name;
    return { kubeConfig, provider };
  } catch (error) {
    throw providerConfigError(error);
  }
}

/**
 * What loading a provider threw, as the operator fixes it: a {@link ConfigError} naming `--provider`
 * (the module cannot be loaded) or `--provider-config` (a setting it refuses); anything else as it is.
 */
export function providerConfigError(error: unknown): unknown {
  if (error instanceof ProviderLoadError) return flagError("--provider", error);
  if (isSettingError(error)) return new ConfigError("--provider-config", `invalid ${error.message}`);
  return error;
}

/** The operator fixes `error` through `flag`: a {@link ConfigError} whose one line names it. */
export function flagError(flag: string, error: Error): ConfigError {
  const named = error.message.includes(flag) ? error.message : `invalid ${flag}: ${error.message}`;
  return new ConfigError(flag, named);
}
