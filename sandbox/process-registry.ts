/**
 * A record, one file per process, of every child the embedded launchers start, so that nothing they
 * start can outlive its owner unnoticed.
 *
 * A record names the child's pid and executable, the pid of the process that owns it and the run it
 * belongs to (`LBP_RUN_ID`, set by the test harness for one test run). The test harness's global
 * teardown lists the records of its run and fails loudly if any of those processes is still alive;
 * launchers reap orphans (children whose owner died without cleaning up, e.g. after SIGKILL) before
 * they start anything.
 *
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Environment variable naming the directory of records; defaults to a per-user directory under the OS temp dir. */
export const PROCESS_REGISTRY_DIR_ENV = "LBP_PID_DIR";
/** Environment variable naming the current test run; children started while it is set are recorded with it. */
export const RUN_ID_ENV = "LBP_RUN_ID";

/** One child process started by an embedded launcher. */
export interface ProcessRecord {
  readonly pid: number;
  /** Short name for messages: `etcd`, `kube-apiserver`, `moto_server`. */
  readonly name: string;
  /** The executable or script path the child was started from; used to tell it apart from a reused pid. */
  readonly executable: string;
  readonly ownerPid: number;
  readonly runId?: string;
  readonly startedAt: string;
}

/** The directory holding one `<pid>.json` record per live child. */
export function processRegistryDir(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : "user";
  return process.env[PROCESS_REGISTRY_DIR_ENV] ?? join(tmpdir(), `lb-provisioner-pids-${uid}`);
}

/** Records a child synchronously, right after it was spawned, so no crash can come in between. */
export function recordProcess(record: Omit<ProcessRecord, "ownerPid" | "runId" | "startedAt">): ProcessRecord {
  const runId = process.env[RUN_ID_ENV];
  const full: ProcessRecord = {
    ...record,
    ownerPid: process.pid,
    ...(runId ? { runId } : {}),
    startedAt: new Date().toISOString(),
  };
  const dir = processRegistryDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${record.pid}.json`), `${JSON.stringify(full)}\n`);
  return full;
}

/** Removes a child's record; a no-op when there is none. Synchronous, so it also works in an exit hook. */
export function forgetProcess(pid: number): void {
  rmSync(join(processRegistryDir(), `${pid}.json`), { force: true });
}

/** Every record in the registry; unreadable or half-written files are skipped. */
export function listRecordedProcesses(): ProcessRecord[] {
  const dir = processRegistryDir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const records: ProcessRecord[] = [];
  for (const name of names) {
    if (!name.endsWith(".json")) continue;
    try {
      const parsed = JSON.parse(readFileSync(join(dir, name), "utf8")) as ProcessRecord;
      if (Number.isInteger(parsed.pid) && typeof parsed.executable === "string") records.push(parsed);
    } catch {
      // A record being written right now, or garbage: neither names a process we can vouch for.
    }
  }
  return records;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether the recorded child is still running. Where `/proc` exists, the pid must also still run the
 * recorded executable, so a pid the kernel has since handed to an unrelated process (or a zombie,
 * whose command line is empty) does not count.
 */
export function isRecordedProcessAlive(record: ProcessRecord): boolean {
  if (!pidExists(record.pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${record.pid}/cmdline`, "utf8");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ENOENT" || !procAvailable();
  }
  return cmdline.split("\0").includes(record.executable);
}

function procAvailable(): boolean {
  try {
    readFileSync("/proc/self/cmdline");
    return true;
  } catch {
    return false;
  }
}

/** Sends SIGKILL to a recorded child if it is still the recorded process; always drops the record. */
export function killRecordedProcess(record: ProcessRecord): void {
  if (isRecordedProcessAlive(record)) {
    try {
      process.kill(record.pid, "SIGKILL");
    } catch {
      // Exited between the check and the kill.
    }
  }
  forgetProcess(record.pid);
}

/**
 * Kills children whose owner is gone (it was killed before it could clean up) and drops records of
 * children that already exited. Records owned by live processes, e.g. another test run on the same
 * machine, are left alone. Returns the records of the children that were still alive and got killed.
 */
export function reapOrphanedProcesses(): ProcessRecord[] {
  const reaped: ProcessRecord[] = [];
  for (const record of listRecordedProcesses()) {
    if (record.ownerPid === process.pid || pidExists(record.ownerPid)) continue;
    if (isRecordedProcessAlive(record)) reaped.push(record);
    killRecordedProcess(record);
  }
  return reaped;
}

/**
 * Live children recorded for `runId`, other than those owned by `exceptOwnerPid` (the caller's own,
 * which it stops itself). Records of children that already exited are dropped on the way.
 */
export function findLiveProcesses(runId: string, exceptOwnerPid?: number): ProcessRecord[] {
  const alive: ProcessRecord[] = [];
  for (const record of listRecordedProcesses()) {
    if (record.runId !== runId || record.ownerPid === exceptOwnerPid) continue;
    if (isRecordedProcessAlive(record)) alive.push(record);
    else forgetProcess(record.pid);
  }
  return alive;
}
