import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { VERSION } from "../../../src/version.ts";

const CLI = fileURLToPath(new URL("../../../src/cli.ts", import.meta.url));

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

// Each case starts a Node.js process; on a busy 2-core machine that alone can take several seconds.
describe("lb-provisioner CLI", { timeout: 60_000 }, () => {
  it("prints help listing every command, exit 0", async () => {
    const result = await cli(["--help"]);
    expect(result.code).toBe(0);
    for (const command of ["run", "version"]) expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
  });

  it("prints usage to stderr and exits 2 without a command", async () => {
    const result = await cli([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Usage: lb-provisioner");
  });

  it("documents every run flag with its environment variable", async () => {
    const result = await cli(["run", "--help"]);
    expect(result.code).toBe(0);
    for (const [flag, env] of [
      ["--cluster-name", "LBP_CLUSTER_NAME"],
      ["--concurrent-service-syncs", "LBP_CONCURRENT_SERVICE_SYNCS"],
      ["--leader-elect-lease-duration", "LBP_LEADER_ELECT_LEASE_DURATION"],
      ["--leader-elect-resource-namespace", "POD_NAMESPACE"],
      ["--aws-region", "AWS_REGION"],
      ["--aws-endpoint-url", "AWS_ENDPOINT_URL"],
      ["--metrics-bind-address", "LBP_METRICS_BIND_ADDRESS"],
    ]) {
      expect(result.stdout).toMatch(new RegExp(`${flag} .*${env}`));
    }
    expect(result.stdout).toContain("--no-leader-elect");
  });

  it("prints the package version", async () => {
    const plain = await cli(["version"]);
    expect(plain).toMatchObject({ code: 0, stdout: expect.stringContaining(`lb-provisioner ${VERSION}`) });
    const json = await cli(["version", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ version: VERSION, providerApiVersion: 1 });
    expect((await cli(["--version"])).stdout.trim()).toBe(VERSION);
  });

  it.each([
    {
      args: ["run", "--concurrent-service-syncs=abc"],
      env: {},
      names: ["--concurrent-service-syncs", "LBP_CONCURRENT_SERVICE_SYNCS"],
    },
    { args: ["run"], env: { LBP_LEADER_ELECT_RENEW_DEADLINE: "1m" }, names: ["--leader-elect-lease-duration"] },
    { args: ["run", "--leader-elect=perhaps"], env: {}, names: ["--leader-elect", "true or false"] },
    {
      args: ["run"],
      env: { AWS_ENDPOINT_URL: "localhost:4566", LBP_PROVIDER: "aws" },
      names: ["--aws-endpoint-url", "AWS_ENDPOINT_URL"],
    },
    { args: ["run", "--metrics-bind-address", "8080"], env: {}, names: ["--metrics-bind-address"] },
    { args: ["run", "--no-such-flag"], env: {}, names: ["--no-such-flag"] },
  ])("rejects $args $env with one stderr line and exit 2", async ({ args, env, names }) => {
    const result = await cli(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    for (const name of names) expect(lines[0]).toContain(name);
  });

  it("fails with exit 2 naming --kubeconfig when no cluster configuration can be found", async () => {
    const result = await cli(["run", "--metrics-bind-address=0", "--health-probe-bind-address=0"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("--kubeconfig");
  });

  it("fails with exit 2 naming --provider when the provider module cannot be loaded", async () => {
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
      expect(result.code).toBe(2);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain('cannot load provider "./no/such/provider.js"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
