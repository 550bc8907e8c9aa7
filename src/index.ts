/**
 * `lb-provisioner` as a library: run the whole controller in-process (what `lb-provisioner run`
 * does), or assemble it from its parts — configuration, the Service controller, leader election,
 * metrics, logs and the observability endpoints.
 *
 * ```ts
 * import { loadConfig, runApp } from "lb-provisioner";
 *
 * const config = loadConfig({ provider: "fake", leaderElect: false }); // flags as commander names them
 * const exitCode = await runApp(config, { signal: AbortSignal.timeout(60_000) }); // or handleSignals: true
 * ```
 *
 * Provider plugin authors import from `lb-provisioner/providers` instead.
 *
 * @module
 */
export { type RunAppOptions, runApp } from "./app.ts";
export {
  type BindAddress,
  type Config,
  ConfigError,
  type ConfigSources,
  type FlagValues,
  type LeaderElectionConfig,
  loadConfig,
  parseBindAddress,
  parseDuration,
  resolveConfig,
  SETTINGS,
  type SettingDefinition,
} from "./config/index.ts";
export {
  createServiceController,
  EventMessage,
  EventReason,
  type ServiceController,
  type ServiceControllerOptions,
} from "./controller/index.ts";
export { EXIT_CHANGES_PENDING, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";
export {
  type ClusterAccess,
  defaultLeaderIdentity,
  KubeConfigError,
  type LeaderElectionOptions,
  LeadershipLostError,
  type LoadKubeConfigOptions,
  loadKubeConfig,
  runWithLeaderElection,
} from "./kube/index.ts";
export { liveness, type ProbeAnswer, ProbeState, type Role, readiness } from "./observability/health.ts";
export { createLogger, LOG_LEVELS, type Logger } from "./observability/logger.ts";
export { ControllerMetrics } from "./observability/metrics.ts";
export {
  type Endpoint,
  ListenError,
  type ObservabilityServerOptions,
  type ObservabilityServers,
  startObservabilityServers,
} from "./observability/server.ts";
export { VERSION } from "./version.ts";
