/**
 * `lb-provisioner gc [--yes]`: load balancers the provider owns in this cluster that no Service accounts
 * for. Lists them; deletes them only with `--yes`. The work is in `src/plan/gc.ts`, loaded only when the
 * command runs.
 *
 * @module
 */
import { Command } from "commander";
import { type FlagValues, loadConfig } from "../config/index.ts";
import { OPERATOR_FLAGS } from "./operator-flags.ts";
import { addSettingOptions } from "./setting-options.ts";

export function gcCommand(): Command {
  const command = new Command("gc")
    .description(
      "list load balancers (and leftover target groups and security groups) this cluster owns that no Service accounts for; delete them with --yes",
    )
    .option("-y, --yes", "delete what is listed", false);
  addSettingOptions(command, OPERATOR_FLAGS);
  return command.action(async (flags: FlagValues & { yes: boolean }) => {
    const config = loadConfig(flags);
    const { gcMain } = await import("../plan/commands.ts");
    process.exitCode = await gcMain(config, { yes: flags.yes });
  });
}
