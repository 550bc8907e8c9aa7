/**
 * `npm run demo` as a user runs it: `node src/cli.ts demo` as a child process with a pipe for stdout
 * (not a TTY), read line by line. With the default local provider: the address and the three seed
 * targets appear, requests spread over them, the fourth node takes its share, a stopped node's share
 * goes to the others, and after the cleanup the address no longer answers; with `--provider fake` the
 * same story without traffic. Each run exits 0, and nothing it started survives it: no recorded process
 * is alive, its temporary directory is empty, and no socket is left on the load balancer's address.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
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

  async function runDemo(
    args: readonly string[],
  ): Promise<{ out: string; position: (text: string | RegExp) => number }> {
    mkdirSync(childTmp, { recursive: true });
    const run = await runCli(["demo", ...args], {
      ...process.env,
      TMPDIR: childTmp,
      LBP_PID_DIR: pidDir,
      NO_COLOR: "1",
    });

    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).not.toContain("\u001b[");
    expect(out).not.toContain("✖");
    expect(listRecordedProcesses().filter((record) => record.ownerPid === run.pid)).toEqual([]);
    expect(processesMentioning(childTmp)).toEqual([]);
    expect(readdirSync(childTmp)).toEqual([]);
    const position = (text: string | RegExp) => {
      const index = typeof text === "string" ? out.indexOf(text) : out.search(text);
      expect(index, `${String(text)} in:\n${out}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    return { out, position };
  }

  it("sends requests through the local load balancer as nodes come and go, then exits 0 leaving nothing", async () => {
    const { out, position } = await runDemo([]);
    const address = /Wait for the load balancer: address (\d+\.\d+\.\d+\.\d+)/.exec(out)?.[1];
    expect(address, out).toBeDefined();
    // Port 80, or the documented fallback where this process may not listen on it.
    const port = out.includes("Port 80 needs privilege here, so the Service uses port 8080") ? 8080 : 80;
    const url = `http://${address}:${port}/`;
    const firstTable = position(/^SERVICE +ADDRESS +LISTENER +TARGET GROUP +TARGET +HEALTH/m);
    const seedTargets = ["node-1 127.0.1.2:30008", "node-2 127.0.1.3:30008", "node-3 127.0.1.4:30008"].map(position);
    const three = position(`Send 12 requests to ${url}: node-1 4, node-2 4, node-3 4`);
    const fourth = position("Wait for the new target to pass its health check: node-4 127.0.1.5:30008");
    const four = position(`Send 12 requests to ${url}: node-1 3, node-2 3, node-3 3, node-4 3`);
    const out2 = position("Wait for the health check to take node-2 out: node-2 unhealthy");
    const withoutNode2 = position(`Send 12 requests to ${url}: node-1 4, node-3 4, node-4 4`);
    const cleanup = position("Wait for the cleanup: load balancer deleted, finalizer removed, Service gone");
    const silent = position(`Check ${url} no longer answers: connection refused`);
    const stopped = position("Stop kube-apiserver and etcd: temporary directory removed");

    for (const target of seedTargets) expect(target).toBeGreaterThan(firstTable);
    const order = [Math.max(...seedTargets), three, fourth, four, out2, withoutNode2, cleanup, silent, stopped];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Nothing is left listening on the load balancer's address.
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(port, address, () => server.close(() => resolve()));
    });
  });

  it("with --provider fake shows the load balancer, the fourth node's target and the cleanup", async () => {
    const { out, position } = await runDemo(["--provider", "fake"]);
    const address = /Wait for the load balancer: address ([a-z0-9.-]+\.lb\.fake\.invalid)/.exec(out)?.[1];
    expect(address, out).toBeDefined();
    const firstTable = position(/^SERVICE +ADDRESS +LISTENER +TARGET GROUP +TARGET/m);
    const seedTargets = ["192.168.1.2:30008", "192.168.1.3:30008", "192.168.1.4:30008"].map(position);
    const fourth = position("Wait for the new target: node-4 192.168.1.5:30008");
    const cleanup = position("Wait for the cleanup: load balancer deleted, finalizer removed, Service gone");
    expect(out.indexOf(address ?? "?")).toBeLessThan(firstTable);
    for (const target of seedTargets) expect(target).toBeGreaterThan(firstTable);
    expect(Math.max(...seedTargets)).toBeLessThan(fourth);
    expect(fourth).toBeLessThan(cleanup);
    expect(out).not.toContain("Send 12 requests");
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
