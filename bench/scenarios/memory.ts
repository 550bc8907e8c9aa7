/**
 * Target: under 200 MB RSS at 10,000 Services x 1,000 nodes.
 *
 * What is measured is the controller process alone: `bench/memory/controller-process.ts` runs the
 * controller with the fake provider in a child process (`--expose-gc`), waits until every Service's
 * load balancer exists and mutations have stopped, collects garbage twice and reports
 * `process.memoryUsage().rss`, plus the peak RSS over its life. The harness, the apiserver and etcd
 * are other processes.
 *
 * A real apiserver cannot hold 10,000 LoadBalancer Services: each needs a NodePort and the range holds
 * 2,768. So there are two measurements, and a cross-check between them:
 *
 * 1. real: the embedded kube-apiserver with 1,000 Nodes and 2,700 LoadBalancer Services, the
 *    controller creating every load balancer from scratch;
 * 2. stub: a loopback HTTPS stand-in for the list/watch/patch/event API
 *    (`bench/memory/stub-apiserver.ts`) serving the same 1,000 Nodes as the real apiserver returned them
 *    and clones of one Service as the real apiserver returned it once converged (`clones.ts`), at
 *    0 (the baseline), 2,700 (to compare with the real run) and 10,000 Services. Against the stub the
 *    controller starts as after a restart: Services already carry finalizer and address, every load
 *    balancer is created in the (empty) fake cloud, and no Service write is needed.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubernetesObject } from "@kubernetes/client-node";
import { createBenchNodes, createBenchServices, startBenchCluster } from "../lib/cluster.ts";
import { BENCH_CLUSTER_NAME, CLI_DEFAULT_WORKERS } from "../lib/controller.ts";
import { BENCH_NAMESPACE, benchServiceName } from "../lib/objects.ts";
import { getRawJson } from "../lib/raw-api.ts";
import type { ResultRow, ScenarioResult } from "../lib/report.ts";
import { intOption, reuseConnectionsOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { round } from "../lib/stats.ts";
import { cloneServices } from "../memory/clones.ts";
import { compileControllerProcess } from "../memory/compile.ts";
import { MEASUREMENT_PREFIX, type MemoryMeasurement } from "../memory/measurement.ts";
import { startStubApiserver } from "../memory/stub-apiserver.ts";

const TARGET_MIB = 200;

interface Run {
  readonly source: "real apiserver" | "stub apiserver";
  readonly services: number;
  readonly nodes: number;
  readonly measurement: MemoryMeasurement;
  /** What the stub was asked for (stub runs only). */
  readonly stubRequests?: Record<string, number>;
}

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

interface ChildOptions {
  /** The compiled controller process. */
  readonly entry: string;
  readonly workers: number;
  readonly reuseConnections: boolean;
  /** Extra Node.js flags for the measured process (`--child-node-options`), e.g. V8 heap limits. */
  readonly nodeOptions: readonly string[];
}

/** Runs the controller child against `kubeconfig` until `expect` load balancers exist; returns its numbers. */
function measureChild(
  context: ScenarioContext,
  options: ChildOptions,
  kubeconfig: string,
  expect: number,
): Promise<MemoryMeasurement> {
  return new Promise((resolve, reject) => {
    const args = [
      ...options.nodeOptions,
      "--expose-gc",
      options.entry,
      `--kubeconfig=${kubeconfig}`,
      `--expect=${expect}`,
    ];
    args.push(`--workers=${options.workers}`, ...(options.reuseConnections ? ["--reuse-connections"] : []));
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const line = stdout.split("\n").find((candidate) => candidate.startsWith(MEASUREMENT_PREFIX));
      if (code !== 0 || !line) {
        reject(new Error(`controller process exited with ${signal ?? code} without a measurement`));
        return;
      }
      const measurement = JSON.parse(line.slice(MEASUREMENT_PREFIX.length)) as MemoryMeasurement;
      context.log(`${expect} Services: RSS ${mib(measurement.rss)} MiB after GC, peak ${mib(measurement.maxRss)} MiB`);
      resolve(measurement);
    });
  });
}

/** A kubeconfig file pointing at `server`, trusting `caPem`; the stub ignores the token. */
function writeKubeconfig(dir: string, server: string, caPem: string): string {
  const path = join(dir, "stub-kubeconfig.json");
  const document = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "stub", cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") } },
    ],
    users: [{ name: "stub", user: { token: "stub" } }],
    contexts: [{ name: "stub", context: { cluster: "stub", user: "stub" } }],
    "current-context": "stub",
  };
  writeFileSync(path, JSON.stringify(document), { mode: 0o600 });
  return path;
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const realServices = Math.min(intOption(context, "real-services", 2700), 2768);
  const nodes = intOption(context, "nodes", 1000);
  const stubServices = intOption(context, "services", 10_000);
  const workers = intOption(context, "workers", CLI_DEFAULT_WORKERS);
  const reuseConnections = reuseConnectionsOption(context);
  const runs: Run[] = [];
  const nodeOptions = (context.options.get("child-node-options") ?? "").split(" ").filter(Boolean);
  const child: ChildOptions = { entry: await compileControllerProcess(), workers, reuseConnections, nodeOptions };

  // 1. The real apiserver.
  let serviceTemplate: unknown;
  let nodeObjects: KubernetesObject[];
  let cert: string;
  let key: string;
  const cluster = await startBenchCluster(context.log);
  try {
    await createBenchNodes(cluster.core, nodes);
    await createBenchServices(cluster.core, realServices);
    context.log(`created ${nodes} Nodes and ${realServices} Services; measuring the controller against them`);
    const measurement = await measureChild(context, child, cluster.controlPlane.kubeconfigPath("admin"), realServices);
    runs.push({ source: "real apiserver", services: realServices, nodes, measurement });
    serviceTemplate = await getRawJson(
      cluster.kubeConfig,
      `/api/v1/namespaces/${BENCH_NAMESPACE}/services/${benchServiceName(0)}`,
    );
    nodeObjects = ((await getRawJson(cluster.kubeConfig, "/api/v1/nodes")) as { items: KubernetesObject[] }).items;
    // The stub serves with the apiserver's own certificate, which the kubeconfig already trusts as CA.
    cert = readFileSync(join(cluster.controlPlane.dataDir, "certs", "apiserver.crt"), "utf8");
    key = readFileSync(join(cluster.controlPlane.dataDir, "certs", "apiserver.key"), "utf8");
  } finally {
    await cluster.stop();
  }

  // 2. The stub, at the baseline, the real run's size, and the target's.
  const dir = mkdtempSync(join(tmpdir(), "lbp-bench-memory-"));
  try {
    for (const count of [0, realServices, stubServices]) {
      const stub = await startStubApiserver({
        services: cloneServices(serviceTemplate, count, BENCH_CLUSTER_NAME),
        nodes: count === 0 ? [] : nodeObjects,
        cert,
        key,
      });
      try {
        const kubeconfig = writeKubeconfig(dir, stub.server, cert);
        const measurement = await measureChild(context, child, kubeconfig, count);
        runs.push({
          source: "stub apiserver",
          services: count,
          nodes: count === 0 ? 0 : nodeObjects.length,
          measurement,
          stubRequests: stub.requests(),
        });
      } finally {
        await stub.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const atTarget = runs.find((r) => r.source === "stub apiserver" && r.services === stubServices);
  const met = atTarget !== undefined && mib(atTarget.measurement.rss) < TARGET_MIB;
  const rows: ResultRow[] = [
    { metric: "workers", value: workers },
    ...(reuseConnections ? [{ metric: "what-if", value: "--reuse-connections" }] : []),
    ...(nodeOptions.length > 0 ? [{ metric: "what-if: Node.js flags", value: nodeOptions.join(" ") }] : []),
  ];
  for (const r of runs) {
    const label = `${r.source}, ${r.services} x ${r.nodes}`;
    rows.push(
      { metric: `${label}: RSS after GC`, value: mib(r.measurement.rss), unit: "MiB" },
      {
        metric: `${label}: heap used / peak RSS`,
        value: `${mib(r.measurement.heapUsed)} / ${mib(r.measurement.maxRss)}`,
        unit: "MiB",
      },
    );
  }
  return {
    target: `RSS < ${TARGET_MIB} MB at ${stubServices} Services x ${nodes} nodes`,
    verdict: met ? "met" : "missed",
    summary: atTarget
      ? `${mib(atTarget.measurement.rss)} MiB after GC (peak ${mib(atTarget.measurement.maxRss)} MiB) at ${stubServices} x ${atTarget.nodes}, stub apiserver`
      : "no measurement at the target size",
    rows,
    details: { parameters: { realServices, nodes, stubServices, workers, reuseConnections, nodeOptions }, runs },
  };
}

export const memory: Scenario = {
  name: "memory",
  title: "Controller process RSS at 10,000 Services x 1,000 nodes",
  optionHelp: {
    services: "Services served by the stub apiserver in the target run (10000)",
    "real-services": "LoadBalancer Services in the real-apiserver run (2700; at most 2768 NodePorts)",
    nodes: "Nodes (1000)",
    workers: `controller workers (the CLI default, ${CLI_DEFAULT_WORKERS})`,
    "reuse-connections": "what-if: the controller's client shares one connection pool (off)",
    "child-node-options": 'what-if: Node.js flags for the measured process, e.g. "--max-semi-space-size=2" (none)',
  },
  run,
};
