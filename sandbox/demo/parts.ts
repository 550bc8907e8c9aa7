/**
 * The real parts the demo runs: the embedded control plane (the same binaries and cache as the tests),
 * the local provider with node stand-ins on loopback, the AWS provider against moto / `AWS_ENDPOINT_URL`
 * with seeded instances, or any other provider as the loader finds it (the fake, a plugin's module path
 * or package name), and the Service controller in this process.
 *
 * @module
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { type LoadBalancerProvider, loadProvider } from "../../providers/index.ts";
import type { DemoProvider } from "../../src/commands/demo.ts";
import { createServiceController } from "../../src/controller/controller.ts";
import type { Logger } from "../../src/observability/logger.ts";
import { ControllerMetrics } from "../../src/observability/metrics.ts";
import { startAwsEndpoint } from "../aws-endpoint.ts";
import { seedAwsNetwork } from "../aws-seed.ts";
import { startControlPlane } from "../control-plane.ts";
import { canBindPrivilegedPorts, type NodeStandIn, startStandIn } from "../node-stand-in.ts";
import type { DemoCloud, DemoDataPlane, DemoParts, RunningController } from "./scenario.ts";

export type { DemoProvider };

/** Nodes the demo ends up with: the seed's three and the one it adds. */
const DEMO_INSTANCES = 4;

/** Controller settings that make the story quick to watch; production defaults are in `src/config/settings.ts`. */
const DEMO_CONTROLLER = { workers: 2, resyncPeriodMs: 0, nodeSyncDelayMs: 200, drainTimeoutMs: 5_000 } as const;

/**
 * The demo's parts for `provider`: `local` gets node stand-ins on loopback for its traffic; `aws` gets an
 * emulator with seeded instances; anything else is loaded like `run --provider` would load it, with
 * `settings` (`--provider-config`), and its nodes stand for no instances.
 */
export function demoParts(
  provider: DemoProvider,
  logger: Logger,
  settings: Readonly<Record<string, string>> = {},
): DemoParts {
  return {
    startCluster: (note) => startControlPlane({ logger: note }),
    startCloud: (clusterName, note) => {
      if (provider === "local") return startLocalCloud(clusterName, logger, settings);
      return provider === "aws"
        ? startAwsCloud(clusterName, logger, note)
        : startLoadedCloud(provider, settings, clusterName, logger);
    },
    startController: async ({ kubeConfig, provider: cloud, clusterName }) => {
      const controller = createServiceController({
        kubeConfig,
        provider: cloud,
        clusterName,
        logger: logger.child({ component: "controller" }),
        metrics: new ControllerMetrics(),
        ...DEMO_CONTROLLER,
      });
      return runUntilStopped(controller);
    },
  };
}

async function runUntilStopped(controller: ReturnType<typeof createServiceController>): Promise<RunningController> {
  const stop = new AbortController();
  let failure: unknown;
  const running = controller.run(stop.signal).catch((error: unknown) => {
    failure = error;
  });
  // Ready means both caches are synced, so every later step sees the controller reacting.
  while (!controller.hasSynced()) {
    if (failure !== undefined) throw failure;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    async stop() {
      stop.abort(new Error("demo finished"));
      await running;
    },
  };
}

/**
 * Health checks quick enough to watch: a stopped node is out within about a second. The pool is the
 * provider's default (loopback on Linux); the nodes stand on loopback too, 127.0.1.2 upwards.
 */
const DEMO_LOCAL_SETTINGS = {
  healthCheckIntervalSeconds: "0.25",
  healthyThreshold: "2",
  unhealthyThreshold: "2",
  deregistrationDelaySeconds: "1",
} as const;

/** The port the demo's Service asks for when this process may not listen on port 80. */
export const DEMO_FALLBACK_PORT = 8080;

async function startLocalCloud(
  clusterName: string,
  logger: Logger,
  settings: Readonly<Record<string, string>>,
): Promise<DemoCloud> {
  // `--provider-config` pairs win over the demo's quick health checks.
  const provider = await loadProvider("local", {
    clusterName,
    logger,
    settings: { ...DEMO_LOCAL_SETTINGS, ...settings },
  });
  const standIns = new Map<string, NodeStandIn>();
  const privileged = await canBindPrivilegedPorts();
  const dataPlane: DemoDataPlane = {
    servicePort: privileged ? 80 : DEMO_FALLBACK_PORT,
    ...(privileged
      ? {}
      : {
          portNote: `Port 80 needs privilege here, so the Service uses port ${DEMO_FALLBACK_PORT} (for 80: CAP_NET_BIND_SERVICE, or sysctl net.ipv4.ip_unprivileged_port_start=80).`,
        }),
    async startNode(name, address, port) {
      standIns.set(name, await startStandIn(name, address, port));
    },
    async stopNode(name) {
      await standIns.get(name)?.stop();
      standIns.delete(name);
    },
  };
  return {
    provider,
    backings: Array.from({ length: DEMO_INSTANCES }, (_, i) => ({ privateIp: `127.0.1.${i + 2}` })),
    description: "local (this process forwards the traffic)",
    dataPlane,
    stop: async () => {
      await provider.close?.();
      await Promise.all([...standIns.values()].map((standIn) => standIn.stop()));
      standIns.clear();
    },
  };
}

async function startLoadedCloud(
  specifier: string,
  settings: Readonly<Record<string, string>>,
  clusterName: string,
  logger: Logger,
): Promise<DemoCloud> {
  const provider = await loadProvider(specifier, { clusterName, logger, settings });
  return {
    provider,
    backings: [],
    description: specifier === "fake" ? "fake (in memory)" : `${provider.name}, loaded from ${specifier}`,
    stop: async () => provider.close?.(),
  };
}

async function startAwsCloud(clusterName: string, logger: Logger, note: (line: string) => void): Promise<DemoCloud> {
  const endpoint = await startAwsEndpoint({ logger: note });
  let provider: LoadBalancerProvider | undefined;
  try {
    const ec2 = new EC2Client({
      endpoint: endpoint.endpoint,
      region: endpoint.region,
      credentials: endpoint.credentials,
    });
    const network = await seedAwsNetwork(ec2, { clusterName, instances: DEMO_INSTANCES });
    ec2.destroy();
    // The SDK's default chain reads these; the emulator's static credentials are not secrets.
    process.env.AWS_ACCESS_KEY_ID ??= endpoint.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= endpoint.credentials.secretAccessKey;
    provider = await loadProvider("aws", {
      clusterName,
      logger,
      settings: { region: endpoint.region, endpoint: endpoint.endpoint },
    });
    const loaded = provider;
    return {
      provider: loaded,
      backings: network.instances.map((instance) => ({
        providerID: instance.providerID,
        zone: instance.zone,
        privateIp: instance.privateIp,
      })),
      description: `aws against ${endpoint.emulator === "moto" ? "moto" : "AWS_ENDPOINT_URL"} at ${endpoint.endpoint}`,
      stop: async () => {
        await loaded.close?.();
        await endpoint.stop();
      },
    };
  } catch (error) {
    await provider?.close?.();
    await endpoint.stop();
    throw error;
  }
}
