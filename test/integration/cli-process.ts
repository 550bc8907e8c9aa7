/**
 * `lb-provisioner run` as a child process, the way it runs in production, for the integration and aws
 * tiers: its JSON log lines read back from the log file, its endpoints discovered from its own
 * "serving endpoints" lines (bind addresses use port 0), and the manifests in deploy/ applied to a
 * real apiserver; and one-shot commands (`plan`, `status`, `gc`, `demo`) run to their end with what they
 * printed. Controllers are recorded by the embedded launcher, so none outlives the test run.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CoordinationV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  V1MicroTime,
} from "@kubernetes/client-node";
import { launchProcess, type ManagedProcess } from "../../sandbox/child-process.ts";
import { waitFor } from "../harness/index.ts";

const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));
const DEPLOY_DIR = fileURLToPath(new URL("../../deploy/", import.meta.url));

/** One parsed log line; `raw` keeps the text (non-JSON lines, e.g. a crash trace, have only `raw`). */
export interface LogLine {
  readonly raw: string;
  readonly level?: string;
  readonly msg?: string;
  readonly key?: string;
  readonly [field: string]: unknown;
}

export interface ControllerProcess {
  readonly process: ManagedProcess;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  logs(): LogLine[];
  waitForLog(predicate: (line: LogLine) => boolean, description: string, timeoutMs?: number): Promise<LogLine>;
  /** Base URL serving `path`, once the process has logged it. */
  endpoint(path: "/metrics" | "/healthz" | "/readyz"): Promise<string>;
}

export interface StartControllerOptions {
  /** Arguments after `run`. Loopback endpoints on free ports and debug logs are added unless given. */
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** For the process registry and the log file name. */
  readonly name?: string;
}

function parse(raw: string): LogLine {
  try {
    const value = JSON.parse(raw) as unknown;
    if (typeof value === "object" && value !== null) return { ...(value as Record<string, unknown>), raw };
  } catch {
    // not JSON: kept as raw text
  }
  return { raw };
}

/** How a one-shot command (`plan`, `status`, `gc`) ended, and what it printed. */
export interface FinishedCommand {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node src/cli.ts ...args` to its end, with `env` added to this process's environment. */
export function runCommand(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<FinishedCommand> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `node src/cli.ts run ...args` and resolves once it is spawned (not once it is ready). */
export async function startController(options: StartControllerOptions): Promise<ControllerProcess> {
  const name = options.name ?? "lb-provisioner";
  const logPath = join(mkdtempSync(join(tmpdir(), "lbp-cli-")), `${name}.log`);
  const defaults = [
    ["--metrics-bind-address", "127.0.0.1:0"],
    ["--health-probe-bind-address", "127.0.0.1:0"],
    ["--log-level", "debug"],
  ].filter(([flag]) => !options.args.some((arg) => arg === flag || arg.startsWith(`${flag}=`)));
  const managed = await launchProcess({
    name,
    executable: process.execPath,
    args: [CLI, "run", ...defaults.flat(), ...options.args],
    logPath,
    commandLineMarker: CLI,
    ...(options.env ? { env: options.env } : {}),
  });
  const output = (): string => {
    try {
      return readFileSync(logPath, "utf8");
    } catch {
      return "";
    }
  };
  const logs = (): LogLine[] =>
    output()
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map(parse);
  const waitForLog = (predicate: (line: LogLine) => boolean, description: string, timeoutMs = 60_000) =>
    waitFor(
      () => {
        const found = logs().find(predicate);
        if (!found && managed.exit) {
          throw new Error(
            `${name} exited (${JSON.stringify(managed.exit)}) before ${description}: ${output().slice(-2000)}`,
          );
        }
        return found;
      },
      { description: `${name} to log ${description}`, timeoutMs, intervalMs: 200 },
    );
  return {
    process: managed,
    pid: managed.pid,
    output,
    logs,
    waitForLog,
    async endpoint(path) {
      const line = await waitForLog(
        (candidate) =>
          candidate.msg === "serving endpoints" && Array.isArray(candidate.paths) && candidate.paths.includes(path),
        `an endpoint serving ${path}`,
      );
      return String(line.url);
    },
  };
}

/** Reads a Prometheus text exposition into `name{labels}` -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const split = line.lastIndexOf(" ");
    samples.set(line.slice(0, split), Number(line.slice(split + 1)));
  }
  return samples;
}

/** Sum of every sample of `metric` whose labels include all of `labels` (`a="b"` fragments). */
export function sumMetric(samples: Map<string, number>, metric: string, labels: readonly string[] = []): number {
  let total = 0;
  for (const [series, value] of samples) {
    const bare = series.split("{")[0];
    if (bare !== metric) continue;
    if (labels.every((label) => series.includes(label))) total += value;
  }
  return total;
}

/** The objects of `deploy/<file>`, in file order. */
export function deployManifests(file: string): KubernetesObject[] {
  return loadAllYaml(readFileSync(join(DEPLOY_DIR, file), "utf8")) as KubernetesObject[];
}

/**
 * Server-side applies `objects` as the given client (force: the test owns them). With `dryRun`, the
 * apiserver validates them against its schema and admission, and stores nothing. (A field the client's
 * model does not know is dropped before sending, not refused: chart.test.ts compares what was stored.)
 */
export async function applyObjects(
  kubeConfig: KubeConfig,
  objects: readonly KubernetesObject[],
  options: { readonly dryRun?: boolean } = {},
): Promise<void> {
  for (const object of objects) await applyObject(kubeConfig, object, options);
}

/** {@link applyObjects} for one object, resolving to what the apiserver stored (or would store). */
export function applyObject(
  kubeConfig: KubeConfig,
  object: KubernetesObject,
  options: { readonly dryRun?: boolean } = {},
): Promise<KubernetesObject> {
  return KubernetesObjectApi.makeApiClient(kubeConfig).patch(
    object,
    undefined,
    options.dryRun ? "All" : undefined,
    "lb-provisioner-tests",
    true,
    PatchStrategy.ServerSideApply,
  );
}

/**
 * Leader election flags with the Lease in `namespace` (named `name`, else the default) and short
 * timings in the defaults' ratios (6 s lease, 4 s renew deadline, 1 s retry), so a takeover is quick.
 */
export function quickLeaderElectionFlags(namespace: string, name?: string): string[] {
  return [
    "--leader-elect-resource-namespace",
    namespace,
    ...(name === undefined ? [] : ["--leader-elect-resource-name", name]),
    "--leader-elect-lease-duration",
    "6s",
    "--leader-elect-renew-deadline",
    "4s",
    "--leader-elect-retry-period",
    "1s",
  ];
}

/**
 * Takes the Lease `namespace/name` from whoever holds it, as another candidate would: a fresh renewal
 * by `someone-else`, valid for `leaseDurationSeconds`. Read-modify-replace until it sticks (a renewal
 * in between makes the replace conflict).
 */
export async function takeLease(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  leaseDurationSeconds?: number,
): Promise<void> {
  const leases = kubeConfig.makeApiClient(CoordinationV1Api);
  await waitFor(
    async () => {
      const lease = await leases.readNamespacedLease({ namespace, name });
      await leases.replaceNamespacedLease({
        namespace,
        name,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: "someone-else",
            ...(leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds }),
            renewTime: new V1MicroTime(Date.now()),
          },
        },
      });
      return true;
    },
    { description: `the Lease ${namespace}/${name} to be taken by someone else` },
  );
}
