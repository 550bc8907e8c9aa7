/**
 * Target: under 200 MB RSS at 10,000 Services x 1,000 nodes.
 *
 * What is measured is the controller process alone: `bench/memory/controller-process.ts`, compiled to
 * JavaScript as `lb-provisioner` ships, runs the controller with the fake provider in a child process
 * (`--expose-gc`), waits until every Service's load balancer exists and mutations have stopped, lets
 * connections idle out, collects garbage twice and reports `process.memoryUsage().rss`, plus the peak
 * RSS over its life. The harness, the apiserver and etcd are other processes.
 *
 * RSS depends on the way there, not only on what is held at the end (the V8 heap and the C heap keep
 * what a burst made them grow to), so two ways are measured:
 * - fresh: the Services exist, the controller provisions every one (finalizer, cloud, status);
 * - restart: a new controller process over Services that are already provisioned: no Service write,
 *   but the (empty) fake cloud is filled and two Events per Service are written, as fast as the
 *   provider answers.
 *
 * A real apiserver cannot hold 10,000 LoadBalancer Services: each needs a NodePort and the range holds
 * 2,768. So:
 * 1. real: the embedded kube-apiserver with 1,000 Nodes and 2,700 LoadBalancer Services, fresh and then
 *    restart;
 * 2. stub: a loopback HTTPS stand-in for the list/watch/patch/event API
 *    (`bench/memory/stub-apiserver.ts`) serving the same 1,000 Nodes as the real apiserver returned
 *    them and clones of one Service as the real apiserver returned it (`clones.ts`; before the
 *    controller touched it for fresh, converged for restart), at 0 Services (the baseline), 2,700 (to
 *    cross-check against the real runs) and 10,000.
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

type Mode = "fresh" | "restart";

interface Run {
  readonly source: "real apiserver" | "stub apiserver";
  readonly mode: Mode;
  readonly services: number;
  readonly nodes: number;
  readonly measurement: MemoryMeasurement;
  /** What the stub was asked for (stub runs only). */
  readonly stubRequests?: Record<string, number>;
}

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

/** A Service as the apiserver serves it, as far as this scenario looks into it. */
interface ServiceJson extends KubernetesObject {
  metadata?: KubernetesObject["metadata"] & { managedFields?: unknown };
}

interface ChildOptions {
  /** The compiled controller process. */
  readonly entry: string;
  readonly workers: number;
  readonly reuseConnections: boolean;
  /** Extra Node.js flags for the measured process (`--child-node-options`), e.g. V8 heap limits. */
  readonly nodeOptions: readonly string[];
  /** Extra environment for the measured process (`--child-env`), e.g. allocator settings. */
  readonly env: Readonly<Record<string, string>>;
}

/** Runs the controller child against `kubeconfig` until `expect` load balancers exist; returns its numbers. */
function measureChild(
  context: ScenarioContext,
  options: ChildOptions,
  kubeconfig: string,
  expect: number,
  mode: Mode,
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
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...options.env },
    });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const line = stdout.split("\n").find((candidate) => candidate.startsWith(MEASUREMENT_PREFIX));
      if (!line) {
        reject(new Error(`controller process exited with ${signal ?? code} without a measurement`));
        return;
      }
      // The numbers were taken before the controller was stopped; a failed stop is reported, not fatal.
      if (code !== 0) context.log(`controller process exited with ${signal ?? code} after measuring`);
      const measurement = JSON.parse(line.slice(MEASUREMENT_PREFIX.length)) as MemoryMeasurement;
      context.log(
        `${mode}, ${expect} Services: RSS ${mib(measurement.rss)} MiB after GC, peak ${mib(measurement.maxRss)} MiB`,
      );
      resolve(measurement);
    });
  });
}

/** `NAME=value NAME2=value2` into an environment object; throws naming the option on anything else. */
function parseEnv(raw: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of raw.split(" ").filter(Boolean)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair);
    if (!match) throw new Error(`--child-env: "${pair}" is not NAME=value`);
    env[match[1] as string] = match[2] as string;
  }
  return env;
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
  const env = parseEnv(context.options.get("child-env") ?? "");
  const child: ChildOptions = {
    entry: await compileControllerProcess(),
    workers,
    reuseConnections,
    nodeOptions,
    env,
  };

  // 1. The real apiserver: fresh, then a second controller process over the provisioned Services.
  let freshTemplate: ServiceJson;
  let convergedTemplate: ServiceJson;
  let nodeObjects: KubernetesObject[];
  let cert: string;
  let key: string;
  const cluster = await startBenchCluster(context.log);
  try {
    await createBenchNodes(cluster.core, nodes);
    await createBenchServices(cluster.core, realServices);
    const templatePath = `/api/v1/namespaces/${BENCH_NAMESPACE}/services/${benchServiceName(0)}`;
    freshTemplate = (await getRawJson(cluster.kubeConfig, templatePath)) as ServiceJson;
    context.log(`created ${nodes} Nodes and ${realServices} Services; measuring the controller against them`);
    const kubeconfig = cluster.controlPlane.kubeconfigPath("admin");
    for (const mode of ["fresh", "restart"] as const) {
      const measurement = await measureChild(context, child, kubeconfig, realServices, mode);
      runs.push({ source: "real apiserver", mode, services: realServices, nodes, measurement });
    }
    convergedTemplate = (await getRawJson(cluster.kubeConfig, templatePath)) as ServiceJson;
    nodeObjects = ((await getRawJson(cluster.kubeConfig, "/api/v1/nodes")) as { items: KubernetesObject[] }).items;
    // The stub serves with the apiserver's own certificate, which the kubeconfig already trusts as CA.
    cert = readFileSync(join(cluster.controlPlane.dataDir, "certs", "apiserver.crt"), "utf8");
    key = readFileSync(join(cluster.controlPlane.dataDir, "certs", "apiserver.key"), "utf8");
  } finally {
    await cluster.stop();
  }

  // 2. The stub: the baseline, then both ways at the real runs' size and at the target's.
  const dir = mkdtempSync(join(tmpdir(), "lbp-bench-memory-"));
  try {
    const plan: Array<{ mode: Mode; count: number }> = [{ mode: "fresh", count: 0 }];
    for (const count of [realServices, stubServices]) {
      for (const mode of ["fresh", "restart"] as const) plan.push({ mode, count });
    }
    for (const { mode, count } of plan) {
      const template = mode === "fresh" ? freshTemplate : convergedTemplate;
      const stub = await startStubApiserver({
        services: cloneServices(template, count, BENCH_CLUSTER_NAME),
        nodes: count === 0 ? [] : nodeObjects,
        managedFieldsAfterWrite: convergedTemplate.metadata?.managedFields,
        cert,
        key,
      });
      try {
        const kubeconfig = writeKubeconfig(dir, stub.server, cert);
        const measurement = await measureChild(context, child, kubeconfig, count, mode);
        runs.push({
          source: "stub apiserver",
          mode,
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

  const atTarget = runs.filter((r) => r.source === "stub apiserver" && r.services === stubServices);
  const worst = atTarget.sort((a, b) => b.measurement.rss - a.measurement.rss)[0];
  const met = atTarget.length === 2 && worst !== undefined && mib(worst.measurement.rss) < TARGET_MIB;
  const rows: ResultRow[] = [
    { metric: "workers", value: workers },
    ...(reuseConnections ? [{ metric: "what-if", value: "--reuse-connections" }] : []),
    ...(nodeOptions.length > 0 ? [{ metric: "what-if: Node.js flags", value: nodeOptions.join(" ") }] : []),
    ...Object.entries(env).map(([name, value]) => ({ metric: "what-if: environment", value: `${name}=${value}` })),
  ];
  for (const r of runs) {
    const label = `${r.source === "real apiserver" ? "real" : "stub"} ${r.mode}, ${r.services} x ${r.nodes}`;
    const m = r.measurement;
    rows.push({
      metric: `${label}: RSS after GC | peak | heap used`,
      value: `${mib(m.rss)} | ${mib(m.maxRss)} | ${mib(m.heapUsed)}`,
      unit: "MiB",
    });
    const byMapping = m.rssByMapping;
    if (byMapping) {
      rows.push({
        metric: `${label}: RSS in anonymous | C heap | files`,
        value: `${mib(byMapping.anonymous ?? 0)} | ${mib(byMapping["brk-heap"] ?? 0)} | ${mib(byMapping.file ?? 0)}`,
        unit: "MiB",
      });
    }
  }
  const describe = (r: Run) => `${r.mode} ${mib(r.measurement.rss)} MiB (peak ${mib(r.measurement.maxRss)})`;
  return {
    target: `RSS < ${TARGET_MIB} MB at ${stubServices} Services x ${nodes} nodes`,
    verdict: met ? "met" : "missed",
    summary:
      atTarget.length > 0
        ? `after GC at ${stubServices} x ${atTarget[0]?.nodes}, stub apiserver: ${atTarget.map(describe).join(", ")}`
        : "no measurement at the target size",
    rows,
    details: { parameters: { realServices, nodes, stubServices, workers, reuseConnections, nodeOptions, env }, runs },
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
    "child-env": 'what-if: environment for the measured process, e.g. "MALLOC_ARENA_MAX=2" (none)',
    "child-node-options": 'what-if: Node.js flags for the measured process, e.g. "--max-semi-space-size=2" (none)',
  },
  run,
};
