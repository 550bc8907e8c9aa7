/**
 * `lb-provisioner run`: the controller itself. Every flag is also an environment variable (see
 * `SETTINGS` in `config/settings.ts` and docs/operations.md).
 *
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { Command } from "commander";
import { type FlagValues, loadConfig } from "../config/index.ts";
import { addSettingOptions } from "./setting-options.ts";

export function runCommand(): Command {
  const command = new Command("run").description(
    "run the controller: watch Services of type LoadBalancer and provision their load balancers",
  );
  addSettingOptions(command);
  return command.action(async (flags: FlagValues) => {
    const config = loadConfig(flags);
    // The controller's garbage is short-lived API traffic (decoded watch events, write responses). On a
    // burst V8 grows its young generation to tens of MiB, and the process keeps that resident for good;
    // held at its first size it costs a few more scavenges and about 100 MiB less (docs/benchmarks.md).
    setFlagsFromString("--semi-space-growth-factor=1");
    // Likewise the old generation: after a full collection V8 may let it grow to several times what
    // survived before collecting again, and a burst (a restart re-ensuring 10,000 Services) leaves the
    // process that much larger. Growing by half of what survives keeps 10,000 x 1,000 about 50 MiB
    // lower for about 7% more CPU there; small heaps are not affected (docs/benchmarks.md).
    setFlagsFromString("--heap-growing-percent=50");
    // Imported here so `--help` and `version` do not load the Kubernetes client and the controller.
    const { runApp } = await import("../app.ts");
    process.exitCode = await runApp(config, { handleSignals: true });
  });
}
