/**
 * `lb-provisioner run`: the controller itself. Every flag is also an environment variable (see
 * `SETTINGS` in `config/settings.ts` and docs/operations.md).
 *
 * @module
 */
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
    // Imported here so `--help` and `version` do not load the Kubernetes client and the controller.
    const { runApp } = await import("../app.ts");
    process.exitCode = await runApp(config, { handleSignals: true });
  });
}
