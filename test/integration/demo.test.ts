/**
 * `npm run demo` as a user runs it: `node src/cli.ts demo` as a child process with a pipe for stdout
 * (not a TTY), read line by line. The address and the three seed targets appear, then the fourth node's
 * target, then the cleanup; it exits 0, and nothing it started survives it: no recorded process is
 * alive and its temporary directory is empty.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listRecordedProcesses } from "../../sandbox/process-registry.ts";

const CLI = join(import.meta.dirname, "../../src/cli.ts");

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Finished & { pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, pid: child.pid ?? -1 }));
  });
}

/** Live processes whose command line mentions `text` (the demo's etcd and kube-apiserver name their data dir). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (commandLine.includes(text)) found.push(`${pid}: ${commandLine}`);
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found;
}

describe("demo, run as a process", () => {
  const scratch = mkdtempSync(join(tmpdir(), "lbp-demo-test-"));
  const childTmp = join(scratch, "tmp");
  const pidDir = join(scratch, "pids");

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it("shows the load balancer, the fourth node's target and the cleanup, then exits 0 leaving nothing", async () => {
    mkdirSync(childTmp, { recursive: true });
    const run = await runCli(["demo"], {
      ...process.env,
      TMPDIR: childTmp,
      LBP_PID_DIR: pidDir,
      NO_COLOR: "1",
    });

    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = run.stdout;
    const position = (text: string | RegExp) => {
      const index = typeof text === "string" ? out.indexOf(text) : out.search(text);
      expect(index, `${String(text)} in:\n${out}`).toBeGreaterThanOrEqual(0);
      return index;
    };

    const address = /Wait for the load balancer: address ([a-z0-9.-]+\.lb\.fake\.invalid)/.exec(out)?.[1];
    expect(address, out).toBeDefined();
    const firstTable = position(/^SERVICE +ADDRESS +LISTENER +TARGET GROUP +TARGET/m);
    const seedTargets = ["192.168.1.2:30008", "192.168.1.3:30008", "192.168.1.4:30008"].map(position);
    const fourth = position("Wait for the new target: node-4 192.168.1.5:30008");
    const cleanup = position("Wait for the cleanup: load balancer deleted, finalizer removed, Service gone");
    const stopped = position("Stop kube-apiserver and etcd: temporary directory removed");

    expect(out.indexOf(address ?? "?")).toBeLessThan(firstTable);
    for (const target of seedTargets) expect(target).toBeGreaterThan(firstTable);
    expect(Math.max(...seedTargets)).toBeLessThan(fourth);
    expect(fourth).toBeLessThan(cleanup);
    expect(cleanup).toBeLessThan(stopped);
    expect(out).not.toContain("\u001b[");
    expect(out).not.toContain("✖");

    expect(listRecordedProcesses().filter((record) => record.ownerPid === run.pid)).toEqual([]);
    expect(processesMentioning(childTmp)).toEqual([]);
    expect(readdirSync(childTmp)).toEqual([]);
  });

  it("says in one line why it cannot start the control plane, and exits non-zero", async () => {
    const empty = join(scratch, "no-binaries");
    mkdirSync(empty, { recursive: true });
    const run = await runCli(["demo"], { ...process.env, KUBEBUILDER_ASSETS: empty, TMPDIR: scratch, NO_COLOR: "1" });
    expect(run.code).toBe(1);
    const failures = run.stdout.split("\n").filter((line) => line.startsWith("✖"));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^✖ Start kube-apiserver and etcd: .*KUBEBUILDER_ASSETS/);
    expect(run.stdout).not.toContain("Create nodes");
  });

  it("rejects an unknown provider in one line naming the flag", async () => {
    const run = await runCli(["demo", "--provider", "nowhere"], { ...process.env, TMPDIR: scratch });
    expect(run.code).toBe(64);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/--provider/);
  });
});
