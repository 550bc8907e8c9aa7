/**
 * `lb-provisioner run`: config -> logger, kubeconfig and provider (from the composition root,
 * `composition.ts`, shared with the operator commands) -> metrics -> the observability endpoints ->
 * leader election -> the Service controller.
 *
 * Lifecycle:
 * - Everything that can be wrong in the configuration (kubeconfig, provider module and settings, ports) fails before
 *   leader election, on every replica, as a {@link ConfigError}: one line, exit 64.
 * - SIGTERM / SIGINT: readiness turns 503, the controller stops taking keys and drains in-flight
 *   reconciles within `--graceful-shutdown-timeout`, the Lease is released, exit 0. A second signal
 *   exits at once (1).
 * - Losing the Lease (it could not be renewed within the renew deadline): the controller stops and the
 *   process exits 1, so a fresh process campaigns again with clean state, as the upstream managers do.
 *
 * @module
 */
import type { DestinationStream } from "pino";
import { commandLogger, connect } from "./composition.ts";
import { type Config, ConfigError } from "./config/index.ts";
import { createServiceController } from "./controller/controller.ts";
import { EXIT_FAILURE, EXIT_OK } from "./exit-codes.ts";
import { defaultLeaderIdentity, LeadershipLostError, runWithLeaderElection } from "./kube/leader-election.ts";
import { ProbeState } from "./observability/health.ts";
import type { Logger } from "./observability/logger.ts";
import { ControllerMetrics } from "./observability/metrics.ts";
import { ListenError, type ObservabilityServers, startObservabilityServers } from "./observability/server.ts";
import { VERSION } from "./version.ts";

/** Margin past the drain bound for stopping informers and releasing the Lease before giving up waiting. */
const STOP_MARGIN_MS = 3_000;

export interface RunAppOptions {
  /** Where JSON log lines go; default stdout. */
  readonly logDestination?: DestinationStream;
  /** Aborting it shuts down like SIGTERM. */
  readonly signal?: AbortSignal;
  /** Shut down on SIGTERM / SIGINT (a second one exits at once). Default false: the CLI turns it on. */
  readonly handleSignals?: boolean;
  /** Called once the endpoints listen, with their URLs (port 0 in a bind address picks a free port). */
  readonly onListening?: (endpoints: ObservabilityServers["endpoints"]) => void;
}

/** A summary of the config safe to log: provider setting values may be credentials, so only keys. */
function loggableConfig(config: Config): Record<string, unknown> {
  const { providerSettings, ...rest } = config;
  return { ...rest, providerSettingKeys: Object.keys(providerSettings) };
}

/** The run's shutdown signal, and a way to stop listening for process signals once the run is over. */
interface Shutdown {
  readonly signal: AbortSignal;
  release(): void;
}

function shutdownSignal(options: RunAppOptions, logger: Logger, probes: ProbeState): Shutdown {
  const shutdown = new AbortController();
  const begin = (reason: string): void => {
    if (shutdown.signal.aborted) return;
    probes.shuttingDown = true;
    logger.info({ reason }, "shutting down");
    shutdown.abort(new Error(reason));
  };
  const onStopRequested = (): void => begin("stop requested");
  options.signal?.addEventListener("abort", onStopRequested, { once: true });
  if (options.signal?.aborted) begin("stop requested");
  const onSignal = (name: NodeJS.Signals): void => {
    if (shutdown.signal.aborted) {
      logger.warn({ signal: name }, "second signal: exiting without waiting for the drain");
      process.exit(EXIT_FAILURE);
    }
    begin(name);
  };
  // A second signal during the drain exits at once; listening ends when the run does.
  const handleSignals = options.handleSignals ?? false;
  if (handleSignals) {
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  return {
    signal: shutdown.signal,
    release: () => {
      options.signal?.removeEventListener("abort", onStopRequested);
      if (!handleSignals) return;
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
}

/** Resolves when `work` settles, or after `ms` once `signal` has aborted, whichever is first. */
async function boundedAfterAbort(work: Promise<void>, signal: AbortSignal, ms: number, logger: Logger): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<void>((resolve) => {
    const arm = (): void => {
      timer = setTimeout(() => {
        logger.warn({ boundMs: ms }, "controller did not stop within the shutdown bound; exiting anyway");
        resolve();
      }, ms);
    };
    if (signal.aborted) arm();
    else signal.addEventListener("abort", arm, { once: true });
  });
  try {
    await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
  }
}

async function startEndpoints(config: Config, metrics: ControllerMetrics, probes: ProbeState) {
  try {
    return await startObservabilityServers({
      ...(config.metricsBindAddress ? { metricsBindAddress: config.metricsBindAddress } : {}),
      ...(config.healthProbeBindAddress ? { healthProbeBindAddress: config.healthProbeBindAddress } : {}),
      registry: metrics.registry,
      probes,
    });
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    const flag = error.purpose === "probes" ? "--health-probe-bind-address" : "--metrics-bind-address";
    throw new ConfigError(flag, `cannot listen on ${flag} ${error.address}: ${error.reason}`);
  }
}

/**
 * Runs the controller until shutdown or a lost Lease. Resolves with the exit code; rejects with a
 * {@link ConfigError} for a start-up problem the operator must fix.
 */
export async function runApp(config: Config, options: RunAppOptions = {}): Promise<number> {
  const logger = commandLogger(config, "controller", options.logDestination);
  const metrics = new ControllerMetrics();
  metrics.buildInfo.set({ version: VERSION, node: process.version }, 1);
  const probes = new ProbeState();
  logger.info({ version: VERSION, config: loggableConfig(config) }, "starting lb-provisioner");
  // Listen for SIGTERM from the start: one that arrives while starting up still ends in a clean stop.
  const shutdown = shutdownSignal(options, logger, probes);
  // Run until shutdown even when nothing else holds the event loop open: with both endpoints disabled
  // and the apiserver not reachable yet, only the informers' retry timers are pending, and they do not.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  try {
    return await runController(config, { logger, metrics, probes, shutdown: shutdown.signal, options });
  } finally {
    clearInterval(keepAlive);
    shutdown.release();
  }
}

interface RunParts {
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  readonly probes: ProbeState;
  readonly shutdown: AbortSignal;
  readonly options: RunAppOptions;
}

async function runController(config: Config, parts: RunParts): Promise<number> {
  const { logger, metrics, probes, options } = parts;
  const { kubeConfig, provider } = await connect(config, { logger, metrics });

  let servers: ObservabilityServers | undefined;
  try {
    servers = await startEndpoints(config, metrics, probes);
    for (const endpoint of servers.endpoints) {
      logger.info({ url: endpoint.url, paths: endpoint.paths }, "serving endpoints");
    }
    options.onListening?.(servers.endpoints);

    const controller = createServiceController({
      kubeConfig,
      provider,
      clusterName: config.clusterName,
      loadBalancerClass: config.loadBalancerClass,
      workers: config.concurrentServiceSyncs,
      resyncPeriodMs: config.resyncPeriodMs,
      events: config.events,
      logger,
      metrics,
      drainTimeoutMs: config.gracefulShutdownTimeoutMs,
    });
    probes.hasSynced = () => controller.hasSynced();
    probes.apiReachable = () => controller.isConnected();
    const stopBoundMs = config.gracefulShutdownTimeoutMs + STOP_MARGIN_MS;
    const work = (signal: AbortSignal): Promise<void> =>
      boundedAfterAbort(controller.run(signal), signal, stopBoundMs, logger);

    if (!config.leaderElection.enabled) {
      probes.role = "single";
      metrics.isLeader.set(1);
      await work(parts.shutdown);
      logger.info("stopped");
      return EXIT_OK;
    }

    const election = config.leaderElection;
    try {
      await runWithLeaderElection(
        {
          kubeConfig,
          namespace: election.namespace,
          name: election.name,
          identity: defaultLeaderIdentity(),
          leaseDurationMs: election.leaseDurationMs,
          renewDeadlineMs: election.renewDeadlineMs,
          retryPeriodMs: election.retryPeriodMs,
          logger,
          signal: parts.shutdown,
          leaderGauge: metrics.isLeader,
          onStartedLeading: () => {
            probes.role = "leader";
          },
          onStoppedLeading: () => {
            probes.role = "standby";
          },
        },
        work,
      );
    } catch (error) {
      if (error instanceof LeadershipLostError) {
        logger.error({ err: error.message }, "leader election lost; exiting so a fresh process campaigns again");
        return EXIT_FAILURE;
      }
      logger.error({ err: error instanceof Error ? error.message : String(error) }, "controller failed");
      throw error;
    }
    logger.info("stopped");
    return EXIT_OK;
  } finally {
    probes.shuttingDown = true;
    await servers?.close();
    await provider.close?.().catch((error: unknown) => {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, "closing the provider failed");
    });
    logger.flush();
  }
}
