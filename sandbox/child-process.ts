/**
 * Starts and stops the long-running children of the embedded launchers (etcd, kube-apiserver,
 * moto_server): output to a log file, a registry record per child, and hooks that kill every live child
 * when the owning process exits or is interrupted, so none is left behind.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readSync, statSync } from "node:fs";
import { EmbeddedSetupError, oneLine } from "./errors.ts";
import { forgetProcess, recordProcess } from "./process-registry.ts";

/** How a child ended: exactly one of `code` and `signal` is set. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What to run and where its output goes. */
export interface LaunchOptions {
  /** Short name for messages and the registry, e.g. `kube-apiserver`. */
  readonly name: string;
  /** Absolute path of the program. */
  readonly executable: string;
  readonly args: readonly string[];
  /** stdout and stderr are appended here; error messages point at it. */
  readonly logPath: string;
  /** Added to the parent's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /**
   * When the program is a script run by an interpreter (moto_server is a Python script), the path
   * that appears in the child's command line and identifies it in the registry. Defaults to `executable`.
   */
  readonly commandLineMarker?: string;
}

/** A running child. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Settles once, when the child has exited (for any reason). Never rejects. */
  readonly exited: Promise<ChildExit>;
  /** The exit, once it has happened. */
  readonly exit: ChildExit | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const liveChildren = new Map<number, ChildProcess>();
let hooksInstalled = false;

function killLiveChildrenNow(): void {
  for (const [pid, child] of liveChildren) {
    child.kill("SIGKILL");
    forgetProcess(pid);
  }
  liveChildren.clear();
}

/**
 * On exit the children are killed synchronously. On SIGINT/SIGTERM/SIGHUP, if nothing else in the
 * process handles the signal, the children are killed and the signal is re-raised so the process ends
 * as it would have without this hook; if the application handles it (the CLI's graceful shutdown still
 * needs the apiserver), the application decides, and the exit hook still catches what it leaves.
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killLiveChildrenNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      killLiveChildrenNow();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * Spawns `options.executable`, records it, and resolves once the OS has started it. Throws an
 * {@link EmbeddedSetupError} when the program is missing or cannot be executed.
 */
export async function launchProcess(options: LaunchOptions): Promise<ManagedProcess> {
  try {
    accessSync(options.executable, constants.X_OK);
  } catch {
    throw new EmbeddedSetupError(`${options.name}: ${options.executable} is missing or not executable`);
  }
  installExitHooks();
  const logFd = openSync(options.logPath, "a");
  let child: ChildProcess;
  try {
    child = spawn(options.executable, [...options.args], {
      stdio: ["ignore", logFd, logFd],
      env: { ...process.env, ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
  } finally {
    closeSync(logFd);
  }
  let exit: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      if (child.pid !== undefined) {
        liveChildren.delete(child.pid);
        forgetProcess(child.pid);
      }
      resolve(exit);
    });
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid as number));
    child.once("error", reject);
  }).catch((error: unknown) => {
    throw new EmbeddedSetupError(`${options.name}: could not start ${options.executable}: ${String(error)}`, {
      cause: error,
    });
  });
  // The owner's event loop does not wait for the child: a program that returns without calling stop()
  // exits, and the exit hook kills the child, instead of hanging on it forever.
  child.unref();
  if (!exit) {
    liveChildren.set(pid, child);
    recordProcess({ pid, name: options.name, executable: options.commandLineMarker ?? options.executable });
  }

  return {
    name: options.name,
    pid,
    logPath: options.logPath,
    exited,
    get exit() {
      return exit;
    },
    async stop(graceMs = 5_000) {
      if (exit) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The last `maxBytes` of a log file as lines, or [] when it cannot be read. */
export function readLogTail(logPath: string, maxBytes = 16_384): string[] {
  let fd: number | undefined;
  try {
    const size = statSync(logPath).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    fd = openSync(logPath, "r");
    readSync(fd, buffer, 0, length, size - length);
    return buffer
      .toString("utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const ERROR_LINE = /^[EF]\d{4} |"level":"(error|fatal|panic)"|\berror\b|\bfailed\b|\bfatal\b|Error:|Traceback/i;

/**
 * The log line that best explains a failure, shortened to one line: the last error-looking line, else
 * the last line. Empty when the log is empty.
 */
export function explainFromLog(logPath: string, maxLength = 400): string {
  const lines = readLogTail(logPath);
  const line = [...lines].reverse().find((candidate) => ERROR_LINE.test(candidate)) ?? lines.at(-1) ?? "";
  const flat = oneLine(line);
  return flat.length > maxLength ? `${flat.slice(0, maxLength)}...` : flat;
}

/** Whether the log says the child could not bind its port because something else holds it. */
export function logShowsPortClash(logPath: string): boolean {
  return readLogTail(logPath).some((line) => /address already in use|EADDRINUSE/i.test(line));
}
