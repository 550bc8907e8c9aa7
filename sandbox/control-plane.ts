/**
 * An embedded Kubernetes control plane: a real etcd and a real kube-apiserver as child processes on
 * free loopback ports, with RBAC on and token authentication for a fixed set of identities. Used by the
 * integration tests and by the `demo` command; there is no kubelet, scheduler or controller-manager,
 * so callers create Nodes themselves.
 *
 * Binaries come from `KUBEBUILDER_ASSETS` (the envtest convention) or are built once from Go modules
 * by `scripts/ensure-control-plane.sh` into a per-version cache.
 *
 * @module
 */
import { generateKeyPair, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { explainFromLog, launchProcess, logShowsPortClash, type ManagedProcess } from "./child-process.ts";
import {
  apiserverArgs,
  type ControlPlanePorts,
  etcdArgs,
  type Identity,
  KUBECONFIG_CLUSTER_NAME,
  kubeconfigDocument,
  resolveIdentities,
  type ServiceRanges,
  type TokenIdentity,
  tokenAuthFile,
} from "./control-plane-config.ts";
import { EmbeddedSetupError } from "./errors.ts";
import { delay, probe } from "./http-probe.ts";
import { freeLoopbackPorts } from "./ports.ts";
import { reapOrphanedProcesses } from "./process-registry.ts";
import { type LineLogger, runProjectScript, stderrLogger } from "./project-scripts.ts";

export type { Identity, ServiceRanges } from "./control-plane-config.ts";
export { BUILT_IN_IDENTITIES, DUAL_STACK_SERVICE_RANGES, SERVICE_NODE_PORT_RANGE } from "./control-plane-config.ts";

/** A running control plane. */
export interface ControlPlane {
  /** `https://127.0.0.1:<port>`. */
  readonly server: string;
  /** Temporary directory holding certificates, kubeconfigs, keys, etcd data and both logs. */
  readonly dataDir: string;
  /**
   * A fresh client configuration authenticating as `identity` (default `admin`, a cluster admin).
   * Throws for an identity the control plane was not started with.
   */
  kubeConfig(identity?: string): KubeConfig;
  /** Path of a kubeconfig file for `identity` (default `admin`), for child processes (kubectl, the CLI). */
  kubeconfigPath(identity?: string): string;
  /**
   * Stops kube-apiserver alone, as an outage: etcd and everything stored keep running. Clients get
   * connection errors until {@link ControlPlane.startApiserver}.
   */
  stopApiserver(): Promise<void>;
  /** Starts kube-apiserver again on the same port, certificates and etcd; resolves once it is ready. */
  startApiserver(): Promise<void>;
  /** Stops kube-apiserver, then etcd, and removes `dataDir`. Idempotent; later calls await the first. */
  stop(): Promise<void>;
}

/** Options of {@link startControlPlane}. */
export interface StartControlPlaneOptions {
  /** Identities besides the built-in `admin` and `unprivileged`. */
  readonly identities?: readonly Identity[];
  /** Directory holding `etcd` and `kube-apiserver`; default: {@link ensureControlPlaneAssets}. */
  readonly assetsDir?: string;
  /** Progress lines (ports, readiness, first-run build notices). Default: build notices to stderr only. */
  readonly logger?: (line: string) => void;
  /** How long etcd plus kube-apiserver may take to become ready, per attempt. Default 180 s. */
  readonly startTimeoutMs?: number;
  /** NodePort and ClusterIP ranges; default Kubernetes' NodePort range and a /24 of ClusterIPs. */
  readonly serviceRanges?: ServiceRanges;
}

/**
 * The directory holding `kube-apiserver` and `etcd`: `$KUBEBUILDER_ASSETS` when set, otherwise the
 * per-version cache that `scripts/ensure-control-plane.sh` fills (building from Go modules the first
 * time: several minutes). Throws an {@link EmbeddedSetupError} saying what to install or set.
 */
export async function ensureControlPlaneAssets(options: { readonly logger?: LineLogger } = {}): Promise<string> {
  return runProjectScript("ensure-control-plane.sh", options.logger ?? stderrLogger);
}

const START_ATTEMPTS = 3;
const DEFAULT_START_TIMEOUT_MS = 180_000;
const POLL_INTERVAL_MS = 200;
const ADMIN = "admin";

// Data dirs of control planes not yet stopped: removed at exit, after the child hook killed the processes.
const liveDataDirs = new Set<string>();
let dataDirHookInstalled = false;

/**
 * Starts etcd and kube-apiserver and resolves once the apiserver is ready and has created the `default`
 * namespace and the `kubernetes` Service (so ClusterIP allocation works). Retries with fresh ports when
 * another process took a port first. Every failure is an {@link EmbeddedSetupError} whose one-line
 * message names the cause and the log file; the data dir is then kept for reading that log.
 */
export async function startControlPlane(options: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = options.logger ?? (() => {});
  const identities = resolveIdentities(options.identities);
  reapOrphanedProcesses();
  const assetsDir = options.assetsDir ?? (await ensureControlPlaneAssets({ logger: options.logger ?? stderrLogger }));
  for (const binary of ["etcd", "kube-apiserver"]) {
    if (!existsSync(join(assetsDir, binary))) {
      throw new EmbeddedSetupError(
        `${join(assetsDir, binary)} does not exist; point KUBEBUILDER_ASSETS (or assetsDir) at a directory holding etcd and kube-apiserver`,
      );
    }
  }

  const dataDir = mkdtempSync(join(tmpdir(), "lbp-control-plane-"));
  const tokenIdentities: TokenIdentity[] = identities.map((identity) => ({
    ...identity,
    token: randomBytes(24).toString("base64url"),
  }));
  const files = {
    certDir: join(dataDir, "certs"),
    tokenAuthFile: join(dataDir, "tokens.csv"),
    serviceAccountPublicKey: join(dataDir, "service-account.pub"),
    serviceAccountSigningKey: join(dataDir, "service-account.key"),
  };
  writeFileSync(files.tokenAuthFile, tokenAuthFile(tokenIdentities), { mode: 0o600 });
  const keyPair = await promisify(generateKeyPair)("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  writeFileSync(files.serviceAccountPublicKey, keyPair.publicKey);
  writeFileSync(files.serviceAccountSigningKey, keyPair.privateKey, { mode: 0o600 });

  const admin = tokenIdentities.find((identity) => identity.name === ADMIN) as TokenIdentity;
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  let started: Started | undefined;
  let startAttempt: StartAttempt | undefined;
  for (let attempt = 1; !started; attempt++) {
    const [etcdClient, etcdPeer, apiserver] = await freeLoopbackPorts(3);
    const ports = { etcdClient, etcdPeer, apiserver } as ControlPlanePorts;
    startAttempt = {
      assetsDir,
      dataDir,
      ports,
      files,
      adminToken: admin.token,
      timeoutMs,
      log,
      serviceRanges: options.serviceRanges,
    };
    try {
      started = await startProcesses(startAttempt);
    } catch (error) {
      if (!(error instanceof PortClash) || attempt >= START_ATTEMPTS) {
        throw error instanceof PortClash
          ? new EmbeddedSetupError(
              `${error.message} after ${attempt} attempts with fresh ports; something on this machine keeps taking loopback ports (log: ${error.logPath})`,
            )
          : error;
      }
      log(`${error.message}; retrying with new ports`);
    }
  }

  const { etcd, server, caPem } = started;
  let apiserver = started.apiserver;
  const restart = startAttempt as StartAttempt;
  const kubeconfigPaths = new Map<string, string>();
  const byName = new Map(tokenIdentities.map((identity) => [identity.name, identity]));
  for (const identity of tokenIdentities) {
    const path = join(dataDir, `kubeconfig-${identity.name}.json`);
    writeFileSync(path, kubeconfigDocument(server, caPem, identity), { mode: 0o600 });
    kubeconfigPaths.set(identity.name, path);
  }
  trackDataDir(dataDir);

  const lookup = (name: string): TokenIdentity => {
    const identity = byName.get(name);
    if (!identity) {
      throw new Error(`unknown identity "${name}"; this control plane has: ${[...byName.keys()].join(", ")}`);
    }
    return identity;
  };
  let stopping: Promise<void> | undefined;
  return {
    server,
    dataDir,
    kubeConfig(identity = ADMIN) {
      const { name, token } = lookup(identity);
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [
          {
            name: KUBECONFIG_CLUSTER_NAME,
            server,
            caData: Buffer.from(caPem).toString("base64"),
            skipTLSVerify: false,
          },
        ],
        users: [{ name, token }],
        contexts: [{ name, cluster: KUBECONFIG_CLUSTER_NAME, user: name }],
        currentContext: name,
      });
      return kc;
    },
    kubeconfigPath(identity = ADMIN) {
      lookup(identity);
      return kubeconfigPaths.get(identity) as string;
    },
    async stopApiserver() {
      await apiserver.stop();
    },
    async startApiserver() {
      if (stopping) throw new Error("the control plane is stopped");
      if (!apiserver.exit) return;
      apiserver = (await launchApiserver(restart, Date.now() + restart.timeoutMs)).apiserver;
    },
    stop() {
      stopping ??= (async () => {
        await apiserver.stop();
        await etcd.stop();
        await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
        liveDataDirs.delete(dataDir);
      })();
      return stopping;
    },
  };
}

interface Started {
  readonly etcd: ManagedProcess;
  readonly apiserver: ManagedProcess;
  readonly server: string;
  readonly caPem: string;
}

/** A child could not bind its port: worth another attempt with different ports. */
class PortClash extends Error {
  override readonly name = "PortClash";
  readonly logPath: string;
  constructor(message: string, logPath: string) {
    super(message);
    this.logPath = logPath;
  }
}

interface StartAttempt {
  readonly assetsDir: string;
  readonly dataDir: string;
  readonly ports: ControlPlanePorts;
  readonly files: Parameters<typeof apiserverArgs>[1];
  readonly adminToken: string;
  readonly timeoutMs: number;
  readonly log: LineLogger;
  readonly serviceRanges: ServiceRanges | undefined;
}

async function startProcesses(attempt: StartAttempt): Promise<Started> {
  const { assetsDir, dataDir, ports, log } = attempt;
  const deadline = Date.now() + attempt.timeoutMs;
  const etcdLog = join(dataDir, "etcd.log");
  const apiserverLog = join(dataDir, "kube-apiserver.log");
  writeFileSync(etcdLog, "");
  writeFileSync(apiserverLog, "");
  rmSync(join(dataDir, "etcd"), { recursive: true, force: true });

  const etcd = await launchProcess({
    name: "etcd",
    executable: join(assetsDir, "etcd"),
    args: etcdArgs(ports, join(dataDir, "etcd")),
    logPath: etcdLog,
  });
  try {
    log(`etcd (pid ${etcd.pid}) starting on 127.0.0.1:${ports.etcdClient}`);
    await waitUntilReady(etcd, deadline, async () => {
      const result = await probe(`http://127.0.0.1:${ports.etcdClient}/health`);
      return result?.status === 200 && result.body.includes('"health":"true"') ? true : undefined;
    });

    // launchApiserver stops its apiserver itself when it fails.
    const launched = await launchApiserver(attempt, deadline);
    log(`kube-apiserver ready on ${launched.server}`);
    return { etcd, ...launched };
  } catch (error) {
    await etcd.stop(1_000);
    throw error;
  }
}

/**
 * Starts kube-apiserver against the attempt's etcd and waits until it serves `/readyz` and the
 * `kubernetes` Service; stops it again if that fails.
 */
async function launchApiserver(
  attempt: StartAttempt,
  deadline: number,
): Promise<{ apiserver: ManagedProcess; server: string; caPem: string }> {
  const { ports, files, log } = attempt;
  const apiserverLog = join(attempt.dataDir, "kube-apiserver.log");
  const apiserver = await launchProcess({
    name: "kube-apiserver",
    executable: join(attempt.assetsDir, "kube-apiserver"),
    args: apiserverArgs(ports, files, attempt.serviceRanges),
    logPath: apiserverLog,
  });
  try {
    const server = `https://127.0.0.1:${ports.apiserver}`;
    log(`kube-apiserver (pid ${apiserver.pid}) starting on ${server}`);
    const caFile = join(files.certDir, "apiserver.crt");
    let caPem = "";
    let lastReadyz = "";
    const readyWith = async (path: string): Promise<true | undefined> => {
      if (!caPem) {
        if (!existsSync(caFile)) return undefined;
        caPem = readFileSync(caFile, "utf8");
      }
      const result = await probe(`${server}${path}`, { ca: caPem, bearerToken: attempt.adminToken });
      if (path === "/readyz" && result) lastReadyz = result.body;
      return result?.status === 200 ? true : undefined;
    };
    // The default namespace and the `kubernetes` Service are created by the apiserver's own bootstrap
    // controller after /readyz; tests creating Services in `default` need both.
    await waitUntilReady(
      apiserver,
      deadline,
      () => readyWith("/readyz"),
      () => failingChecks(lastReadyz),
    );
    await waitUntilReady(apiserver, deadline, () => readyWith("/api/v1/namespaces/default/services/kubernetes"));
    return { apiserver, server, caPem };
  } catch (error) {
    await apiserver.stop(1_000);
    throw error;
  }
}

/** Names of the failing `/readyz` checks in a verbose or plain readyz body, for a timeout message. */
function failingChecks(readyzBody: string): string {
  const failing = readyzBody
    .split("\n")
    .filter((line) => line.startsWith("[-]"))
    .map((line) => line.slice(3).split(" ")[0]);
  return failing.length > 0 ? `; failing checks: ${failing.join(", ")}` : "";
}

/**
 * Polls `check` until it yields a value; fails early when the process exits (distinguishing a port
 * clash, which the caller retries) and at the deadline.
 */
async function waitUntilReady<T>(
  child: ManagedProcess,
  deadline: number,
  check: () => Promise<T | undefined>,
  describeTimeout: () => string = () => "",
): Promise<T> {
  for (;;) {
    if (child.exit) {
      const how = child.exit.code !== null ? `code ${child.exit.code}` : `signal ${child.exit.signal}`;
      if (logShowsPortClash(child.logPath)) {
        throw new PortClash(`${child.name} could not bind its port (address already in use)`, child.logPath);
      }
      const reason = explainFromLog(child.logPath) || "no output";
      throw new EmbeddedSetupError(
        `${child.name} exited with ${how} during startup: ${reason} (log: ${child.logPath})`,
      );
    }
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new EmbeddedSetupError(
        `${child.name} did not become ready in time${describeTimeout()} (log: ${child.logPath}); on a busy machine raise startTimeoutMs`,
      );
    }
    await Promise.race([delay(POLL_INTERVAL_MS), child.exited]);
  }
}

function trackDataDir(dataDir: string): void {
  liveDataDirs.add(dataDir);
  if (dataDirHookInstalled) return;
  dataDirHookInstalled = true;
  process.on("exit", () => {
    for (const dir of liveDataDirs) rmSync(dir, { recursive: true, force: true });
  });
}
