/**
 * An AWS API endpoint for the aws test tier and the demo: the emulator named by `AWS_ENDPOINT_URL`
 * (LocalStack or anything compatible) when set, otherwise a `moto_server` child process on a free
 * loopback port, installed once into a cached virtualenv by `scripts/ensure-moto.sh`.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { explainFromLog, launchProcess, logShowsPortClash, type ManagedProcess } from "./child-process.ts";
import { EmbeddedSetupError } from "./errors.ts";
import { delay, probe } from "./http-probe.ts";
import { freeLoopbackPort } from "./ports.ts";
import { reapOrphanedProcesses } from "./process-registry.ts";
import { type LineLogger, runProjectScript, stderrLogger } from "./project-scripts.ts";

/** Where to send AWS SDK calls, and with what. */
export interface AwsEndpoint {
  /** Base URL for the SDK clients' `endpoint` option. */
  readonly endpoint: string;
  readonly region: string;
  /** Static credentials the emulator accepts; not secrets. Not frozen: the AWS SDK annotates this object. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** `moto` when started here; `external` when taken from `AWS_ENDPOINT_URL`. */
  readonly emulator: "moto" | "external";
  /**
   * Forgets every resource the emulator holds (moto's `POST /moto-api/reset`). A no-op for an external
   * endpoint: it may be shared, so its state is not this process's to wipe.
   */
  reset(): Promise<void>;
  /** Stops the emulator started here (a no-op for an external one). Idempotent. */
  stop(): Promise<void>;
}

/** The serializable part of an {@link AwsEndpoint}, for handing an endpoint to another process. */
export type AwsEndpointInfo = Pick<AwsEndpoint, "endpoint" | "region" | "credentials" | "emulator">;

/** Options of {@link startAwsEndpoint}. */
export interface StartAwsEndpointOptions {
  /** Region for the SDK clients (moto keeps state per region). Default `us-east-1`. */
  readonly region?: string;
  /** Progress lines; default: first-run install notices to stderr only. */
  readonly logger?: (line: string) => void;
}

/** Environment variable the AWS SDKs themselves read for a custom endpoint. */
export const AWS_ENDPOINT_URL_ENV = "AWS_ENDPOINT_URL";
const DEFAULT_REGION = "us-east-1";
const START_ATTEMPTS = 3;
const START_TIMEOUT_MS = 60_000;

/** Path of `moto_server`, installing moto into the cache on first use (see `scripts/ensure-moto.sh`). */
export async function ensureMoto(options: { readonly logger?: LineLogger } = {}): Promise<string> {
  return runProjectScript("ensure-moto.sh", options.logger ?? stderrLogger);
}

/**
 * Resolves to a ready endpoint. With `AWS_ENDPOINT_URL` set, it is used as is (credentials from
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` when set, else LocalStack's `test`/`test`). Otherwise
 * moto is started and awaited. Failures are one-line {@link EmbeddedSetupError}s.
 */
export async function startAwsEndpoint(options: StartAwsEndpointOptions = {}): Promise<AwsEndpoint> {
  const region = options.region ?? DEFAULT_REGION;
  const external = process.env[AWS_ENDPOINT_URL_ENV];
  if (external) return externalEndpoint(external, region);

  const log = options.logger ?? (() => {});
  reapOrphanedProcesses();
  const motoServer = await ensureMoto({ logger: options.logger ?? stderrLogger });
  const logDir = mkdtempSync(join(tmpdir(), "lbp-moto-"));
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const endpoint = `http://127.0.0.1:${port}`;
    const moto = await launchProcess({
      name: "moto_server",
      executable: motoServer,
      args: ["-H", "127.0.0.1", "-p", String(port)],
      logPath: join(logDir, `moto-${attempt}.log`),
    });
    log(`moto_server (pid ${moto.pid}) starting on ${endpoint}`);
    const outcome = await waitForMoto(moto, endpoint);
    if (outcome === "ready") {
      log(`moto_server ready on ${endpoint}`);
      return motoEndpoint(moto, endpoint, region, logDir);
    }
    await moto.stop(1_000);
    if (outcome === "port-clash" && attempt < START_ATTEMPTS) {
      log(`moto_server could not bind ${endpoint}; retrying with another port`);
      continue;
    }
    const why =
      outcome === "port-clash"
        ? `could not bind a loopback port (address already in use) after ${attempt} attempts`
        : outcome === "timeout"
          ? `did not answer on ${endpoint} within ${START_TIMEOUT_MS / 1000} s`
          : `exited during startup: ${explainFromLog(moto.logPath) || "no output"}`;
    throw new EmbeddedSetupError(`moto_server ${why} (log: ${moto.logPath})`);
  }
}

async function waitForMoto(
  moto: ManagedProcess,
  endpoint: string,
): Promise<"ready" | "port-clash" | "exited" | "timeout"> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (moto.exit) return logShowsPortClash(moto.logPath) ? "port-clash" : "exited";
    const answer = await probe(`${endpoint}/moto-api/data.json`);
    if (answer?.status === 200) return "ready";
    if (Date.now() > deadline) return "timeout";
    await Promise.race([delay(200), moto.exited]);
  }
}

/**
 * An endpoint started by another process (the test run's global setup), described by `info`: `reset()`
 * works as on the original, `stop()` does nothing (the owner stops it).
 */
export function attachAwsEndpoint(info: AwsEndpointInfo): AwsEndpoint {
  return {
    endpoint: info.endpoint,
    region: info.region,
    credentials: { ...info.credentials },
    emulator: info.emulator,
    reset: info.emulator === "moto" ? () => resetMoto(info.endpoint) : async () => {},
    async stop() {},
  };
}

async function resetMoto(endpoint: string, logPath?: string): Promise<void> {
  const answer = await probe(`${endpoint}/moto-api/reset`, { method: "POST" });
  if (answer?.status !== 200) {
    const status = answer ? `HTTP ${answer.status}` : "no answer";
    throw new EmbeddedSetupError(
      `POST ${endpoint}/moto-api/reset failed (${status}${logPath ? `; log: ${logPath}` : ""})`,
    );
  }
}

function motoEndpoint(moto: ManagedProcess, endpoint: string, region: string, logDir: string): AwsEndpoint {
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    region,
    // A fresh, unfrozen object: the AWS SDK annotates the credentials object it is given.
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    emulator: "moto",
    reset: () => resetMoto(endpoint, moto.logPath),
    stop() {
      stopping ??= moto.stop().then(() => rmSync(logDir, { recursive: true, force: true }));
      return stopping;
    },
  };
}

function externalEndpoint(url: string, region: string): AwsEndpoint {
  try {
    new URL(url);
  } catch {
    throw new EmbeddedSetupError(`${AWS_ENDPOINT_URL_ENV}="${url}" is not a URL; set it like http://127.0.0.1:4566`);
  }
  return {
    endpoint: url,
    region,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "test",
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "test",
    },
    emulator: "external",
    async reset() {},
    async stop() {},
  };
}
