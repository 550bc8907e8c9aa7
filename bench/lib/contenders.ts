/**
 * The two controllers a benchmark compares, each as a process of its own on the same apiserver:
 *
 * - `upstream`: k8s.io/cloud-provider's service controller over its fake cloud
 *   (`bench/upstream/service-controller`, a Go program built once and cached, see
 *   {@link ensureReferenceBinaries});
 * - `lb-provisioner`: `lb-provisioner run --provider fake`, compiled to JavaScript and with the
 *   environment the image runs it with (`dist/`, the Dockerfile's ENV), without leader election (the
 *   reference has none either).
 *
 * Settings are given once and mapped onto each side's flags: workers, client rate limits (left at each
 * side's default when not given; lb-provisioner has none), and the cloud's cost of one new load
 * balancer, spread over the calls each fake makes for one, so both pay the same per load balancer.
 * Each process's CPU and memory are read from `/proc` ({@link readProcessUsage}) and its cloud calls
 * and reconciles from its own `/metrics`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { conformanceSpec, exampleNodes } from "../../providers/conformance/specs.ts";
import { createFakeProvider } from "../../providers/fake/index.ts";
import { launchProcess, type ManagedProcess } from "../../sandbox/child-process.ts";
import { freeLoopbackPort } from "../../sandbox/ports.ts";
import { SETTINGS } from "../../src/config/index.ts";
import { imageEnvironment } from "../../test/harness/dockerfile-replay.ts";
import { pollUntil } from "./concurrency.ts";
import { type ProcessUsage, readProcessUsage } from "./process-usage.ts";
import { parsePrometheusText, type Sample, sumByLabel, sumSamples } from "./prometheus-text.ts";

export type ContenderName = "upstream" | "lb-provisioner";

/** Both, in the order a first repetition runs them; later repetitions alternate. */
export const CONTENDERS: readonly ContenderName[] = ["upstream", "lb-provisioner"];

/** lb-provisioner's `--concurrent-service-syncs` default, read from the CLI's own settings table. */
export const CLI_DEFAULT_WORKERS = Number(
  SETTINGS.find((setting) => setting.key === "concurrentServiceSyncs")?.defaultValue ?? Number.NaN,
);
if (!Number.isInteger(CLI_DEFAULT_WORKERS))
  throw new Error("no default for --concurrent-service-syncs in src/config/settings.ts");

/** The reference's flag defaults (the cloud-controller-manager's): `--concurrent-service-syncs`, QPS, burst. */
export const UPSTREAM_DEFAULTS = { workers: 1, qps: 20, burst: 30 } as const;

/** Client limits high enough that neither controller waits on its own rate limiter. */
export const UNLIMITED_CLIENT = { qps: 10_000, burst: 20_000 } as const;

/** Fake calls the upstream fake records for one new load balancer: EnsureLoadBalancer logs "create" and "get-zone". */
export const UPSTREAM_CALLS_PER_NEW_LOAD_BALANCER = 2;

export const BENCH_CLUSTER_NAME = "bench";

export interface ControllerSettings {
  /** Workers (`--concurrent-service-syncs`); undefined: each side's default. */
  readonly workers?: number;
  /** Client rate limits; undefined: each side's default (lb-provisioner has none to set). */
  readonly clientRateLimit?: { readonly qps: number; readonly burst: number };
  /** Cloud latency of one new load balancer, spread evenly over the calls each fake makes for it. */
  readonly costPerNewLoadBalancerMs: number;
  /** lb-provisioner's `--resync-period` (its default is 10m); the reference has no such resync. */
  readonly resyncPeriod?: string;
  /**
   * Run against AWS instead of a fake: the reference becomes the legacy AWS provider
   * (`aws-service-controller`), lb-provisioner runs `--provider aws`. The cost setting is then unused.
   */
  readonly aws?: AwsTarget;
}

/** An AWS endpoint (an emulator) and the network the legacy provider needs named in its config. */
export interface AwsTarget {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly vpcId: string;
  readonly subnetId: string;
}

/**
 * The legacy AWS provider's cloud config (gcfg): region, VPC, subnet and cluster id let it run off
 * EC2 without instance metadata, and the overrides send its EC2 and ELB clients to `target.endpoint`.
 */
export function legacyAwsCloudConfig(target: AwsTarget, clusterName: string): string {
  const overrides = [
    ["EC2", "ec2"],
    ["Elastic Load Balancing", "elasticloadbalancing"],
    ["Elastic Load Balancing v2", "elasticloadbalancing"],
  ].flatMap(([service, signingName], index) => [
    `[ServiceOverride "${index + 1}"]`,
    `Service = ${service}`,
    `Region = ${target.region}`,
    `URL = ${target.endpoint}`,
    `SigningRegion = ${target.region}`,
    `SigningName = ${signingName}`,
    "",
  ]);
  return [
    "[Global]",
    `Region = ${target.region}`,
    `VPC = ${target.vpcId}`,
    `SubnetID = ${target.subnetId}`,
    `KubernetesClusterID = ${clusterName}`,
    "",
    ...overrides,
  ].join("\n");
}

/** What one side was started with, in its own terms (for the results JSON). */
export interface EffectiveSettings {
  readonly workers: number;
  readonly qps: number | "none";
  readonly burst: number | "none";
  readonly cloudLatencyPerCallMs: number;
  readonly callsPerNewLoadBalancer: number;
}

/** Cloud calls a controller made, from its own metrics. */
export interface CloudCalls {
  readonly byOperation: Readonly<Record<string, number>>;
  readonly total: number;
  readonly mutating: number;
}

export interface ControllerProcess {
  readonly name: ContenderName;
  readonly pid: number;
  /** `performance.now()` just before the process was spawned. */
  readonly spawnedAt: number;
  readonly settings: EffectiveSettings;
  readonly logPath: string;
  usage(): ProcessUsage;
  cloudCalls(): Promise<CloudCalls>;
  /** Services whose load balancer it has ensured so far (reference: EnsureLoadBalancer calls; lb-provisioner: successful reconciles). */
  ensured(): Promise<number>;
  /** Every sample of its `/metrics`. */
  metrics(): Promise<Sample[]>;
  /** SIGTERM, then SIGKILL after a grace period; resolves when it has exited. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly kubeconfigPath: string;
  /** Where its log file goes. */
  readonly logDir: string;
  /** Extra Node.js flags for lb-provisioner (a what-if), e.g. `--max-semi-space-size=1`. */
  readonly nodeOptions?: readonly string[];
  /** Extra environment for lb-provisioner (a what-if), e.g. `MALLOC_ARENA_MAX=2`. */
  readonly env?: Readonly<Record<string, string>>;
}

const BENCH_DIR = fileURLToPath(new URL("../", import.meta.url));
const BUILD_DIR = join(BENCH_DIR, "results", ".build");
/** The environment the container image runs lb-provisioner with (the Dockerfile's last stage). */
const IMAGE_ENVIRONMENT = imageEnvironment(readFileSync(join(BENCH_DIR, "..", "Dockerfile"), "utf8"));
const STOP_GRACE_MS = 30_000;

let referenceDir: Promise<string> | undefined;
let cliEntry: Promise<string> | undefined;
let lbCallsPerNewLoadBalancer: Promise<number> | undefined;

/** Runs a build step, resolving with the last line it printed; its stderr goes to `log`. */
function runStep(command: string, args: readonly string[], log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      for (const line of chunk.split("\n")) if (line.startsWith("lb-provisioner")) log(line);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(stdout.trim().split("\n").at(-1) ?? "");
      else
        reject(
          new Error(
            `${command} ${args.join(" ")} failed (exit ${code}):\n${stderr.trim().split("\n").slice(-15).join("\n")}`,
          ),
        );
    });
  });
}

/** The directory holding the Go reference controllers, building them the first time (minutes). */
export function ensureReferenceBinaries(log: (line: string) => void): Promise<string> {
  referenceDir ??= runStep("bash", [join(BENCH_DIR, "upstream", "ensure-built.sh")], log);
  return referenceDir;
}

/**
 * `src/cli.ts` compiled with the project's build settings into `bench/results/.build/cli/` (inside the
 * checkout, so `node_modules` resolves): the measured process runs JavaScript as the image does.
 */
export function compileCli(log: (line: string) => void): Promise<string> {
  cliEntry ??= (async () => {
    const outDir = join(BUILD_DIR, "cli");
    mkdirSync(outDir, { recursive: true });
    log("compiling lb-provisioner to JavaScript for the measured process");
    const tsc = join(BENCH_DIR, "..", "node_modules", "typescript", "bin", "tsc");
    await runStep(
      process.execPath,
      [
        tsc,
        "-p",
        join(BENCH_DIR, "..", "tsconfig.build.json"),
        "--outDir",
        outDir,
        "--declaration",
        "false",
        "--sourceMap",
        "false",
      ],
      log,
    );
    return join(outDir, "src", "cli.js");
  })();
  return cliEntry;
}

/** Calls lb-provisioner's fake makes for one new load balancer with one port, counted on a fresh fake. */
export function lbProvisionerCallsPerNewLoadBalancer(): Promise<number> {
  lbCallsPerNewLoadBalancer ??= (async () => {
    const fake = createFakeProvider();
    await fake.ensureLoadBalancer(
      conformanceSpec({ clusterName: BENCH_CLUSTER_NAME, name: "calibration", nodes: exampleNodes(3) }),
    );
    return Object.values(fake.callCounts()).reduce((sum, count) => sum + (count ?? 0), 0);
  })();
  return lbCallsPerNewLoadBalancer;
}

async function scrape(port: number): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics on port ${port}: HTTP ${response.status}`);
  return parsePrometheusText(await response.text());
}

/** Starts `name` with `settings`; resolves once its /metrics answers. */
export async function startContender(
  name: ContenderName,
  settings: ControllerSettings,
  options: StartOptions,
  log: (line: string) => void,
): Promise<ControllerProcess> {
  mkdirSync(options.logDir, { recursive: true });
  const metricsPort = await freeLoopbackPort();
  let executable: string;
  let args: string[];
  let effective: EffectiveSettings;
  let env: Record<string, string> = {};
  const aws = settings.aws;
  if (name === "upstream") {
    const workers = settings.workers ?? UPSTREAM_DEFAULTS.workers;
    const limit = settings.clientRateLimit ?? UPSTREAM_DEFAULTS;
    const perCall = aws ? 0 : settings.costPerNewLoadBalancerMs / UPSTREAM_CALLS_PER_NEW_LOAD_BALANCER;
    const binaries = await ensureReferenceBinaries(log);
    args = [
      `--kubeconfig=${options.kubeconfigPath}`,
      `--concurrent-service-syncs=${workers}`,
      `--kube-api-qps=${limit.qps}`,
      `--kube-api-burst=${limit.burst}`,
      `--cluster-name=${BENCH_CLUSTER_NAME}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    ];
    if (aws) {
      executable = join(binaries, "aws-service-controller");
      const cloudConfig = join(options.logDir, `cloud-config-${Date.now()}.ini`);
      writeFileSync(cloudConfig, legacyAwsCloudConfig(aws, BENCH_CLUSTER_NAME));
      args.push(`--cloud-config=${cloudConfig}`);
    } else {
      executable = join(binaries, "service-controller");
      args.push(`--cloud-latency=${Math.round(perCall * 1000)}us`);
    }
    effective = {
      workers,
      qps: limit.qps,
      burst: limit.burst,
      cloudLatencyPerCallMs: perCall,
      callsPerNewLoadBalancer: UPSTREAM_CALLS_PER_NEW_LOAD_BALANCER,
    };
  } else {
    const workers = settings.workers ?? CLI_DEFAULT_WORKERS;
    const calls = await lbProvisionerCallsPerNewLoadBalancer();
    const perCall = aws ? 0 : settings.costPerNewLoadBalancerMs / calls;
    executable = process.execPath;
    args = [
      ...(options.nodeOptions ?? []),
      await compileCli(log),
      "run",
      ...(aws
        ? ["--provider=aws", `--aws-endpoint-url=${aws.endpoint}`, `--aws-region=${aws.region}`]
        : ["--provider=fake", ...(perCall > 0 ? [`--provider-config=latencyMs=${perCall}`] : [])]),
      `--kubeconfig=${options.kubeconfigPath}`,
      `--concurrent-service-syncs=${workers}`,
      `--cluster-name=${BENCH_CLUSTER_NAME}`,
      "--leader-elect=false",
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      "--health-probe-bind-address=0",
      ...(settings.resyncPeriod ? [`--resync-period=${settings.resyncPeriod}`] : []),
    ];
    // As the image runs it: its ENV (MALLOC_ARENA_MAX among them), then the what-if's.
    env = { ...IMAGE_ENVIRONMENT, ...(options.env ?? {}) };
    effective = { workers, qps: "none", burst: "none", cloudLatencyPerCallMs: perCall, callsPerNewLoadBalancer: calls };
  }
  if (aws) {
    env = {
      ...env,
      AWS_ACCESS_KEY_ID: aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
      AWS_REGION: aws.region,
      AWS_EC2_METADATA_DISABLED: "true",
    };
  }
  const spawnedAt = performance.now();
  const child: ManagedProcess = await launchProcess({
    name: `bench-${name}`,
    executable,
    args,
    logPath: join(options.logDir, `${name}-${Date.now()}.log`),
    env,
  });
  await pollUntil(
    `${name}'s /metrics (log: ${child.logPath})`,
    async () => {
      if (child.exit)
        throw new Error(`${name} exited (${child.exit.code ?? child.exit.signal}) at start; see ${child.logPath}`);
      return scrape(metricsPort).then(
        () => true,
        () => false,
      );
    },
    { timeoutMs: 60_000, intervalMs: 20 },
  );
  const metrics = () => scrape(metricsPort);
  return {
    name,
    pid: child.pid,
    spawnedAt,
    settings: effective,
    logPath: child.logPath,
    usage: () => readProcessUsage(child.pid),
    metrics,
    async cloudCalls() {
      const samples = await metrics();
      if (name === "upstream") {
        const byOperation = sumByLabel(samples, "fake_cloud_calls_total", "call");
        const total = Object.values(byOperation).reduce((sum, count) => sum + count, 0);
        return { byOperation, total, mutating: total - (byOperation["get-zone"] ?? 0) };
      }
      const byOperation = sumByLabel(samples, "lbp_provider_calls_total", "operation");
      const total = Object.values(byOperation).reduce((sum, count) => sum + count, 0);
      return { byOperation, total, mutating: sumSamples(samples, "lbp_provider_calls_total", { mutating: "true" }) };
    },
    async ensured() {
      const samples = await metrics();
      return name === "upstream"
        ? sumSamples(samples, "fake_cloud_calls_total", { call: "create" })
        : sumSamples(samples, "lbp_reconcile_total", { result: "success" });
    },
    async stop() {
      // The child's handle does not hold this process open; this timer does until it has exited.
      const keepAlive = setInterval(() => {}, 1_000);
      try {
        await child.stop(STOP_GRACE_MS);
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}

/** The order of the contenders in repetition `index`: alternating, so neither always goes first. */
export function orderFor(index: number, only?: ContenderName): ContenderName[] {
  if (only) return [only];
  return index % 2 === 0 ? [...CONTENDERS] : [...CONTENDERS].reverse();
}
