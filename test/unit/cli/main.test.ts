import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli.ts";
import { EXIT_USAGE } from "../../../src/exit-codes.ts";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Runs `main` in this process, capturing what it writes. */
async function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

describe("main: invalid configuration is one line on stderr and exit 64, before anything starts", () => {
  it.each([
    {
      args: ["run", "--provider=fake", "--concurrent-service-syncs=abc"],
      env: {},
      names: ["--concurrent-service-syncs", "LBP_CONCURRENT_SERVICE_SYNCS", "whole number"],
    },
    {
      args: ["run", "--provider=fake"],
      env: { LBP_LEADER_ELECT_RENEW_DEADLINE: "1m" },
      names: ["--leader-elect-lease-duration"],
    },
    { args: ["run", "--provider=fake", "--leader-elect=perhaps"], env: {}, names: ["--leader-elect", "true or false"] },
    {
      args: ["run"],
      env: { AWS_ENDPOINT_URL: "localhost:4566", LBP_PROVIDER: "aws" },
      names: ["--aws-endpoint-url", "(from AWS_ENDPOINT_URL)"],
    },
    {
      args: ["run", "--provider=fake", "--metrics-bind-address", "8080"],
      env: {},
      names: ["--metrics-bind-address", ":8080"],
    },
    {
      args: ["run", "--provider=fake", "--resync-period", "10"],
      env: {},
      names: ["--resync-period", "15s, 10m or 1h30m"],
    },
    { args: ["run", "--provider=fake", "--log-level", "loud"], env: {}, names: ["--log-level", "debug"] },
    { args: ["run", "--no-such-flag"], env: {}, names: ["unknown option '--no-such-flag'"] },
    { args: ["run", "--cluster-name"], env: {}, names: ["--cluster-name", "argument missing"] },
    { args: ["no-such-command"], env: {}, names: ["unknown command 'no-such-command'"] },
  ])("$args $env", async ({ args, env, names }) => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const result = await run(args);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    for (const name of names) expect(lines[0]).toContain(name);
  });
});

describe("main: the same bad configuration exits 64 from run, plan, status and gc, in one line naming the flag", () => {
  const work = mkdtempSync(join(tmpdir(), "lbp-main-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  // The commands import their code when they run; load it here, outside the cases' time limit, since
  // the Kubernetes client alone can take seconds to load on a busy machine.
  beforeAll(async () => {
    await Promise.all([import("../../../src/app.ts"), import("../../../src/plan/commands.ts")]);
  }, 60_000);
  // Names a cluster without contacting it: every case fails before any connection is made.
  const kubeconfig = join(work, "kubeconfig");
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:1" } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      "current-context": "c",
    }),
  );

  const cases = [
    { what: "no provider", args: [], env: {}, names: ["missing --provider", "LBP_PROVIDER"] },
    {
      what: "a malformed value",
      args: ["--provider=aws", "--cluster-name=my cluster"],
      env: {},
      names: ["--cluster-name"],
    },
    {
      what: "no kubeconfig to be found",
      args: ["--provider=aws"],
      env: { KUBECONFIG: join(work, "missing"), KUBERNETES_SERVICE_HOST: "" },
      names: ["--kubeconfig", "KUBECONFIG names no existing file"],
    },
    {
      what: "a provider module that cannot be loaded",
      args: ["--provider=./no-such-provider.js", `--kubeconfig=${kubeconfig}`],
      env: {},
      names: ["--provider", 'cannot load provider "./no-such-provider.js"'],
    },
    {
      what: "a setting the provider does not declare",
      args: ["--provider=local", "--provider-config=speed=9", `--kubeconfig=${kubeconfig}`],
      env: {},
      names: ["invalid --provider-config speed: unknown setting for the local provider; it accepts addresses"],
    },
    {
      what: "a provider setting of the wrong form",
      args: ["--provider=fake", "--provider-config=failureRate=often", `--kubeconfig=${kubeconfig}`],
      env: {},
      names: ['invalid --provider-config failureRate: "often" is not a number from 0 to 1'],
    },
  ];
  const commands = [
    // The controller's log is silenced and its endpoints disabled: only the error line is of interest.
    ["run", "--log-level=silent", "--metrics-bind-address=0", "--health-probe-bind-address=0"],
    ["plan"],
    ["status"],
    ["gc"],
  ];

  it.each(cases.flatMap((item) => commands.map((command) => ({ ...item, command }))))(
    "$command.0: $what",
    async ({ command, args, env, names }) => {
      vi.stubEnv("LBP_PROVIDER", "");
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
      const result = await run([...command, ...args]);
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stdout).toBe("");
      const lines = result.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      for (const name of names) expect(lines[0]).toContain(name);
    },
  );
});

describe("main: help", () => {
  it("documents every run flag with its environment variable, exit 0", async () => {
    const result = await run(["run", "--help"]);
    expect(result.code).toBe(0);
    for (const [flag, env] of [
      ["--cluster-name", "LBP_CLUSTER_NAME"],
      ["--concurrent-service-syncs", "LBP_CONCURRENT_SERVICE_SYNCS"],
      ["--leader-elect-lease-duration", "LBP_LEADER_ELECT_LEASE_DURATION"],
      ["--leader-elect-resource-namespace", "POD_NAMESPACE"],
      ["--provider-config", "LBP_PROVIDER_CONFIG"],
      ["--aws-region", "AWS_REGION"],
      ["--aws-endpoint-url", "AWS_ENDPOINT_URL"],
      ["--metrics-bind-address", "LBP_METRICS_BIND_ADDRESS"],
      ["--health-probe-bind-address", "LBP_HEALTH_PROBE_BIND_ADDRESS"],
    ]) {
      expect(result.stdout).toMatch(new RegExp(`${flag} .*${env}`));
    }
    expect(result.stdout).toContain("--no-leader-elect");
  });

  it.each(["run", "version"])("has --help on %s", async (command) => {
    const result = await run([command, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: lb-provisioner ${command}`);
  });
});
