import { describe, expect, it } from "vitest";
import { runCommand } from "../../../src/commands/run.ts";
import { resolveConfig } from "../../../src/config/index.ts";

/** What `run --provider fake` makes of a command line, without running anything. */
function configFrom(args: readonly string[], env: Record<string, string> = {}) {
  const command = runCommand().exitOverride();
  command.parseOptions(["--provider", "fake", ...args]);
  return resolveConfig({ flags: command.opts(), env, fileExists: () => true });
}

describe("run flags as commander parses them", () => {
  it.each([
    { args: [], enabled: true },
    { args: ["--leader-elect"], enabled: true },
    { args: ["--leader-elect=false"], enabled: false },
    { args: ["--leader-elect", "false"], enabled: false },
    { args: ["--no-leader-elect"], enabled: false },
    { args: ["--leader-elect=true"], enabled: true },
  ])("$args -> leader election $enabled", ({ args, enabled }) => {
    expect(configFrom(args).leaderElection.enabled).toBe(enabled);
  });

  it("lets a flag override its environment variable, including a boolean turned off", () => {
    expect(configFrom(["--no-leader-elect"], { LBP_LEADER_ELECT: "true" }).leaderElection.enabled).toBe(false);
    expect(configFrom(["--cluster-name", "a"], { LBP_CLUSTER_NAME: "b" }).clusterName).toBe("a");
  });

  it("collects repeated --provider-config flags", () => {
    const config = configFrom(["--provider-config", "latencyMs=5", "--provider-config=seed=3"]);
    expect(config.providerSettings).toEqual({ latencyMs: "5", seed: "3" });
  });

  it("takes durations and addresses in the upstream forms", () => {
    const config = configFrom([
      "--leader-elect-lease-duration=30s",
      "--leader-elect-renew-deadline=20s",
      "--leader-elect-retry-period=4s",
      "--resync-period=1h",
      "--metrics-bind-address=0",
      "--health-probe-bind-address=127.0.0.1:9440",
    ]);
    expect(config.leaderElection).toMatchObject({
      leaseDurationMs: 30_000,
      renewDeadlineMs: 20_000,
      retryPeriodMs: 4_000,
    });
    expect(config.resyncPeriodMs).toBe(3_600_000);
    expect(config.metricsBindAddress).toBeUndefined();
    expect(config.healthProbeBindAddress).toEqual({ host: "127.0.0.1", port: 9440 });
  });
});
