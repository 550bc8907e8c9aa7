import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { VERSION } from "../../src/version.ts";

const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI as operators do, as its own process, with a clean environment plus `env`. */
function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", ...env }, timeout: 50_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

// Each case starts Node.js processes (a couple of seconds each on a busy 2-core machine), which is why
// this file is in the integration tier; the cases share nothing, so they run concurrently.
describe.concurrent("lb-provisioner CLI as a process", { timeout: 60_000 }, () => {
  it("prints help listing every command, exit 0", async ({ expect }) => {
    const result = await cli(["--help"]);
    expect(result.code).toBe(0);
    for (const command of ["run", "version"]) expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
  });

  it("prints usage to stderr and exits 64 without a command", async ({ expect }) => {
    const result = await cli([]);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("Usage: lb-provisioner");
  });

  it("prints the package version", async ({ expect }) => {
    const [plain, json, flag] = await Promise.all([cli(["version"]), cli(["version", "--json"]), cli(["--version"])]);
    expect(plain).toMatchObject({ code: 0, stdout: expect.stringContaining(`lb-provisioner ${VERSION}`) });
    expect(JSON.parse(json.stdout)).toMatchObject({ version: VERSION, providerApiVersion: 1 });
    expect(flag.stdout.trim()).toBe(VERSION);
  });

  it("rejects a bad value with one stderr line and exit 64 (the table is in test/unit/cli/main.test.ts)", async ({
    expect,
  }) => {
    const result = await cli(["run", "--provider", "fake"], { LBP_CONCURRENT_SERVICE_SYNCS: "abc" });
    expect(result.code).toBe(64);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      'lb-provisioner: invalid --concurrent-service-syncs "abc" (from LBP_CONCURRENT_SERVICE_SYNCS): expected a whole number from 1 to 1000 [env: LBP_CONCURRENT_SERVICE_SYNCS]\n',
    );
  });

  it("refuses to run without a provider: one stderr line naming --provider and LBP_PROVIDER, exit 64", async ({
    expect,
  }) => {
    const result = await cli(["run"]);
    expect(result.code).toBe(64);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^lb-provisioner: missing --provider: .*\[env: LBP_PROVIDER\]\n$/);
  });

  it("fails with exit 64 naming --kubeconfig when no cluster configuration can be found", async ({ expect }) => {
    const result = await cli(["run", "--provider=fake", "--metrics-bind-address=0", "--health-probe-bind-address=0"]);
    expect(result.code).toBe(64);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("--kubeconfig");
  });

  it("fails with exit 64 naming --provider when the provider module cannot be loaded", async ({ expect }) => {
    const dir = mkdtempSync(join(tmpdir(), "lbp-cli-test-"));
    const kubeconfig = join(dir, "kubeconfig.yaml");
    // A syntactically valid kubeconfig; nothing is ever dialled because the provider fails first.
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]",
        "users: [{name: u, user: {}}]",
        "contexts: [{name: x, context: {cluster: c, user: u}}]",
        "current-context: x",
      ].join("\n"),
    );
    try {
      const result = await cli(["run", "--kubeconfig", kubeconfig, "--provider", "./no/such/provider.js"]);
      expect(result.code).toBe(64);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain('cannot load provider "./no/such/provider.js"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
