/**
 * The demo, step by step: an embedded control plane, the seed scenario, the controller in this process,
 * and what the provider built, shown as it happens. Every resource it starts is registered for cleanup
 * the moment it exists, and cleaned up in reverse order however the demo ends (success, error, Ctrl-C).
 *
 * @module
 */
import type { Writable } from "node:stream";
import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions, type V1Service } from "@kubernetes/client-node";
import type { LoadBalancerProvider, NodeSpec, ObservedLoadBalancer } from "../../providers/index.ts";
import { eligibleNodeSpecs } from "../../src/controller/node-eligibility.ts";
import { cleanupFinalizer, hasFinalizer } from "../../src/controller/service-filters.ts";
import { formatIngress } from "../../src/plan/diff.ts";
import { refOf } from "../../src/plan/run-plan.ts";
import { answers, spread } from "../node-stand-in.ts";
import {
  createNodes,
  newNode,
  SEED_NAMESPACE,
  SEED_NODE_PORT,
  SEED_SERVICE_NAME,
  SEED_SERVICE_PORT,
  type SeedNodeSource,
  seedNodeSource,
  seedService,
} from "../seed-objects.ts";
import { createProgress, type Progress } from "./progress.ts";
import { describeTarget, renderLoadBalancerTable } from "./table.ts";
import { until } from "./wait.ts";

/** A cluster the demo can use: the embedded control plane, or anything with the same surface. */
export interface DemoCluster {
  readonly server: string;
  kubeConfig(): KubeConfig;
  kubeconfigPath(): string;
  stop(): Promise<void>;
}

/** Where the instance behind a seed node stands; its Node takes the instance's address, zone and providerID. */
export type NodeBacking = Omit<SeedNodeSource, "nodeName">;

/** A cloud the demo can use: a provider, the nodes' backing instances, and how to let go of both. */
export interface DemoCloud {
  readonly provider: LoadBalancerProvider;
  /** One per node, in order, when nodes stand for real instances or addresses; empty for the fake. */
  readonly backings: readonly NodeBacking[];
  /** What to show for it, e.g. `moto at http://127.0.0.1:5000`. */
  readonly description: string;
  /** Present when the load balancer carries real traffic here (local provider). */
  readonly dataPlane?: DemoDataPlane;
  stop(): Promise<void>;
}

/** Servers standing in for each node's kube-proxy and pod, for a load balancer that carries traffic. */
export interface DemoDataPlane {
  /** The Service port to ask for: 80, or an unprivileged one where 80 cannot be listened on. */
  readonly servicePort: number;
  /** One line saying why the port is not 80, when it is not. */
  readonly portNote?: string;
  /** Starts a server on `address:port` answering every request with `name`. */
  startNode(name: string, address: string, port: number): Promise<void>;
  stopNode(name: string): Promise<void>;
}

export interface RunningController {
  stop(): Promise<void>;
}

/** The parts the demo runs; real ones in `commands/demo.ts`, so this file stays about the story. */
export interface DemoParts {
  /** `note` receives progress remarks, e.g. that a first run builds kube-apiserver (minutes). */
  startCluster(note: (line: string) => void): Promise<DemoCluster>;
  startCloud(clusterName: string, note: (line: string) => void): Promise<DemoCloud>;
  startController(input: {
    readonly kubeConfig: KubeConfig;
    readonly provider: LoadBalancerProvider;
    readonly clusterName: string;
  }): Promise<RunningController>;
}

export interface DemoOptions {
  readonly out: Writable & { isTTY?: boolean };
  readonly clusterName: string;
  /** Stop after the fourth node, print the kubeconfig path, and wait for `keepUntil` before cleaning up. */
  readonly keep: boolean;
  /** Resolves when a kept demo should end (Ctrl-C). */
  readonly keepUntil?: Promise<void>;
  /** Aborts waits (Ctrl-C); cleanup still runs. */
  readonly signal?: AbortSignal;
  /** Bound on each wait for the controller. Default 60 s. */
  readonly stepTimeoutMs?: number;
  readonly interactive?: boolean;
}

const NODES = 3;
const SCRIPT_PREFIX = "lb-provisioner: ";

/** Runs the demo; resolves when everything it started is stopped again, rejects on the first failure. */
export async function runDemo(parts: DemoParts, options: DemoOptions): Promise<void> {
  const progress = createProgress(options.out, {
    ...(options.interactive === undefined ? {} : { interactive: options.interactive }),
  });
  const cleanups: { title: string; run: () => Promise<string | undefined> }[] = [];
  let failure: unknown;
  try {
    await story(parts, options, progress, cleanups);
  } catch (error) {
    failure = error;
  } finally {
    const leftovers = cleanups.reverse();
    for (const cleanup of leftovers) {
      try {
        await progress.step(cleanup.title, cleanup.run, (detail) => detail ?? "");
      } catch (error) {
        failure ??= error;
      }
    }
    progress.close();
  }
  if (failure !== undefined) throw failure;
}

async function story(
  parts: DemoParts,
  options: DemoOptions,
  progress: Progress,
  cleanups: { title: string; run: () => Promise<string | undefined> }[],
): Promise<void> {
  const { clusterName, signal } = options;
  const timeoutMs = options.stepTimeoutMs ?? 60_000;
  // Provisioning scripts prefix what a user should see (a first-run build takes minutes); the rest is chatter.
  const note = (line: string) =>
    line.startsWith(SCRIPT_PREFIX)
      ? progress.note(line.slice(SCRIPT_PREFIX.length))
      : progress.note(line, { transient: true });
  const wait = <T>(what: string, check: () => Promise<T | undefined>) =>
    until(check, { what, timeoutMs, ...(signal === undefined ? {} : { signal }) });

  const cluster = await progress.step(
    "Start kube-apiserver and etcd",
    () => parts.startCluster(note),
    (started) => started.server,
  );
  cleanups.push({
    title: "Stop kube-apiserver and etcd",
    run: async () => {
      await cluster.stop();
      return "temporary directory removed";
    },
  });
  const kubeConfig = cluster.kubeConfig();
  const core = kubeConfig.makeApiClient(CoreV1Api);

  const cloud = await progress.step(
    "Start the provider",
    () => parts.startCloud(clusterName, note),
    (started) => started.description,
  );
  cleanups.push({ title: `Stop the ${cloud.provider.name} provider`, run: async () => void (await cloud.stop()) });
  const { provider } = cloud;

  const { dataPlane } = cloud;
  if (dataPlane !== undefined) {
    await progress.step(
      `Start a server on each node's nodePort ${SEED_NODE_PORT}, standing in for kube-proxy and the pod`,
      async () => {
        for (let index = 1; index <= NODES; index++) await startStandIn(dataPlane, index, cloud.backings[index - 1]);
      },
      () => describeStandIns(cloud.backings, 1, NODES),
    );
  }

  const nodeCount = await progress.step(
    "Create nodes",
    async () => {
      for (let index = 1; index <= NODES; index++) await createNode(core, index, cloud.backings[index - 1]);
      return NODES;
    },
    () => describeNodes(cloud.backings, 1, NODES),
  );

  const servicePort = dataPlane?.servicePort ?? SEED_SERVICE_PORT;
  if (dataPlane?.portNote !== undefined) progress.line(dataPlane.portNote);
  await progress.step(
    `Create Service ${SEED_NAMESPACE}/${SEED_SERVICE_NAME} as NodePort`,
    () => core.createNamespacedService({ namespace: SEED_NAMESPACE, body: seedService({ port: servicePort }) }),
    (service) => `port ${servicePort} -> targetPort 80, nodePort ${service.spec?.ports?.[0]?.nodePort ?? "?"}`,
  );

  const controller = await progress.step(
    "Start the controller",
    () => parts.startController({ kubeConfig, provider, clusterName }),
    () => `provider ${provider.name}, cluster ${clusterName}`,
  );
  cleanups.push({ title: "Stop the controller", run: async () => void (await controller.stop()) });

  await progress.step(
    "Check the controller leaves the NodePort Service alone",
    async () => {
      const service = await readService(core);
      const observed = await provider.getLoadBalancer(refOf(clusterName, service));
      if (observed !== undefined || hasFinalizer(service, cleanupFinalizer({}))) {
        throw new Error("the controller touched a NodePort Service");
      }
    },
    () => "no finalizer, no load balancer",
  );

  await progress.step("Switch the Service to type LoadBalancer", () =>
    core.patchNamespacedService(
      { namespace: SEED_NAMESPACE, name: SEED_SERVICE_NAME, body: { spec: { type: "LoadBalancer" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    ),
  );

  const { ingress } = await progress.step(
    "Wait for the load balancer",
    () =>
      wait("the Service to get an address in status.loadBalancer", async () => {
        const service = await readService(core);
        const ingress = formatIngress(service.status?.loadBalancer?.ingress ?? []);
        return ingress === "" ? undefined : { ingress, finalizer: hasFinalizer(service, cleanupFinalizer({})) };
      }),
    ({ ingress, finalizer }) => `address ${ingress}${finalizer ? ", cleanup finalizer added" : ""}`,
  );

  // With real traffic, a target counts once its health check passes: only then does it take requests.
  const ready = { healthy: dataPlane !== undefined };
  let nodes = await nodeSpecs(core);
  const converged = await progress.step(
    `Wait for its targets on nodePort ${SEED_NODE_PORT}${ready.healthy ? " to pass health checks" : ""}`,
    () => wait(`${nodeCount} targets`, () => observedWithTargets(provider, clusterName, nodes, nodeCount, ready)),
    (observed) => `${targetCount(observed)} targets`,
  );
  progress.line("");
  progress.line(renderLoadBalancerTable(converged, nodes));
  const url = `http://${ingress}:${servicePort}/`;
  if (dataPlane !== undefined) await sendRequests(progress, ingress, servicePort, url);

  const fourth = NODES + 1;
  if (dataPlane !== undefined) await startStandIn(dataPlane, fourth, cloud.backings[fourth - 1]);
  await progress.step(
    `Add node-${fourth}`,
    () => createNode(core, fourth, cloud.backings[fourth - 1]),
    () => `${describeNodes(cloud.backings, fourth, fourth)}${dataPlane ? ", its server started" : ""}`,
  );
  nodes = await nodeSpecs(core);
  const grown = await progress.step(
    ready.healthy ? "Wait for the new target to pass its health check" : "Wait for the new target",
    () => wait(`${fourth} targets`, () => observedWithTargets(provider, clusterName, nodes, fourth, ready)),
    (observed) => newTargets(converged, observed, nodes),
  );
  progress.line("");
  progress.line(renderLoadBalancerTable(grown, nodes));
  if (dataPlane !== undefined) {
    await sendRequests(progress, ingress, servicePort, url);
    const stopped = "node-2";
    await progress.step(`Stop ${stopped}'s server`, () => dataPlane.stopNode(stopped));
    await progress.step(
      `Wait for the health check to take ${stopped} out`,
      () =>
        wait(`${stopped} to be unhealthy`, async () => {
          const observed = await provider.getLoadBalancer(refOfSeed(clusterName), { nodes });
          const target = observed?.listeners[0]?.targets.find((t) => t.node === stopped);
          return target?.health === "unhealthy" ? observed : undefined;
        }),
      () => `${stopped} unhealthy`,
    );
    await sendRequests(progress, ingress, servicePort, url);
  }

  if (options.keep) {
    progress.line(
      [
        "Left running. Try:",
        `  kubectl --kubeconfig ${cluster.kubeconfigPath()} get nodes,services`,
        "Press Ctrl-C to clean up and exit.",
        "",
      ].join("\n"),
    );
    await options.keepUntil;
  }

  const service = await readService(core);
  await progress.step(`Delete Service ${SEED_NAMESPACE}/${SEED_SERVICE_NAME}`, () =>
    core.deleteNamespacedService({ namespace: SEED_NAMESPACE, name: SEED_SERVICE_NAME }),
  );
  await progress.step(
    "Wait for the cleanup",
    () =>
      wait("the load balancer to be deleted and the Service to be gone", async () => {
        const gone = await serviceGone(core);
        const observed = await provider.getLoadBalancer(refOf(clusterName, service));
        return gone && observed === undefined ? true : undefined;
      }),
    () => "load balancer deleted, finalizer removed, Service gone",
  );
  if (dataPlane !== undefined) {
    await progress.step(
      `Check ${url} no longer answers`,
      () =>
        wait("the address to stop answering", async () => ((await answers(ingress, servicePort)) ? undefined : true)),
      () => "connection refused",
    );
  }
  progress.line("");
}

const REQUESTS = 12;

/** Sends requests to the load balancer, each on a fresh connection, and shows which node answered. */
async function sendRequests(progress: Progress, address: string, port: number, url: string): Promise<void> {
  await progress.step(
    `Send ${REQUESTS} requests to ${url}`,
    () => spread(address, port, REQUESTS),
    (tally) =>
      Object.entries(tally)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([node, count]) => `${node} ${count}`)
        .join(", "),
  );
}

async function startStandIn(dataPlane: DemoDataPlane, index: number, backing: NodeBacking | undefined) {
  const source = demoNodeSource(index, backing);
  await dataPlane.startNode(source.nodeName, source.privateIp, SEED_NODE_PORT);
}

function describeStandIns(backings: readonly NodeBacking[], from: number, to: number): string {
  const parts: string[] = [];
  for (let index = from; index <= to; index++) {
    const source = demoNodeSource(index, backings[index - 1]);
    parts.push(`${source.privateIp}:${SEED_NODE_PORT} answers "${source.nodeName}"`);
  }
  return parts.join(", ");
}

function refOfSeed(clusterName: string) {
  return { clusterName, service: { namespace: SEED_NAMESPACE, name: SEED_SERVICE_NAME } };
}

async function createNode(core: CoreV1Api, index: number, backing: NodeBacking | undefined): Promise<void> {
  await createNodes(core, [newNode(demoNodeSource(index, backing))]);
}

/** A seed node, standing for its backing instance when the provider is a real cloud. */
function demoNodeSource(index: number, backing: NodeBacking | undefined): SeedNodeSource {
  return { ...seedNodeSource(index), ...backing };
}

function describeNodes(backings: readonly NodeBacking[], from: number, to: number): string {
  const parts: string[] = [];
  for (let index = from; index <= to; index++) {
    const source = demoNodeSource(index, backings[index - 1]);
    const instance = source.providerID?.split("/").at(-1);
    parts.push(`${source.nodeName} ${source.privateIp}${instance ? ` (${instance})` : ""}`);
  }
  return parts.join(", ");
}

async function readService(core: CoreV1Api): Promise<V1Service> {
  return core.readNamespacedService({ namespace: SEED_NAMESPACE, name: SEED_SERVICE_NAME });
}

async function serviceGone(core: CoreV1Api): Promise<boolean> {
  try {
    await readService(core);
    return false;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return true;
    throw error;
  }
}

async function nodeSpecs(core: CoreV1Api): Promise<NodeSpec[]> {
  return eligibleNodeSpecs((await core.listNode()).items);
}

async function observedWithTargets(
  provider: LoadBalancerProvider,
  clusterName: string,
  nodes: readonly NodeSpec[],
  count: number,
  options: { readonly healthy: boolean },
): Promise<ObservedLoadBalancer | undefined> {
  const observed = await provider.getLoadBalancer(refOfSeed(clusterName), { nodes });
  const listeners = observed?.listeners ?? [];
  const complete = listeners.length > 0 && listeners.every((listener) => listener.targets.length === count);
  const healthy = listeners.every((listener) => listener.targets.every((target) => target.health === "healthy"));
  return complete && (healthy || !options.healthy) ? observed : undefined;
}

function targetCount(observed: ObservedLoadBalancer): number {
  return observed.listeners.reduce((sum, listener) => sum + listener.targets.length, 0);
}

function newTargets(before: ObservedLoadBalancer, after: ObservedLoadBalancer, nodes: readonly NodeSpec[]): string {
  const key = (target: { id: string; port: number }) => `${target.id}:${target.port}`;
  const known = new Set(before.listeners.flatMap((listener) => listener.targets.map(key)));
  const added = after.listeners.flatMap((listener) => listener.targets.filter((target) => !known.has(key(target))));
  return added.map((target) => describeTarget(target, nodes)).join(", ");
}
