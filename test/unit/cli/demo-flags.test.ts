import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli.ts";
import { EXIT_USAGE } from "../../../src/exit-codes.ts";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

// Each is refused before the demo starts anything (the sandbox is not even imported).
describe("demo --provider and --provider-config", () => {
  it.each([
    { args: ["demo", "--provider", "./my-provider.ts", "--provider-config", "region"], env: {}, says: "key=value" },
    { args: ["demo", "--provider", "aws", "--provider-config", "region=x"], env: {}, says: "the aws demo" },
    { args: ["demo", "--provider", "aws"], env: { LBP_PROVIDER_CONFIG: "region=x" }, says: "the aws demo" },
    {
      args: ["demo", "--provider", "./no/such/plugin.ts"],
      env: {},
      says: 'invalid --provider: cannot load provider "./no',
    },
    {
      args: ["demo", "--provider", "fake", "--provider-config", "speed=9"],
      env: {},
      says: "--provider-config speed: unknown setting",
    },
  ])("$args $env: one line naming the flag, exit 64", async ({ args, env, says }) => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    let stderr = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    expect(await main(args)).toBe(EXIT_USAGE);
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr.trimEnd().split("\n")).toEqual([expect.stringContaining("--provider")]);
    expect(stderr).toContain(says);
  });
});
