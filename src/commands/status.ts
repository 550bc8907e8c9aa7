/**
 * `lb-provisioner status`: a table of the Services the controller manages. The work is in
 * `src/plan/service-status.ts`, loaded only when the command runs.
 *
 * @module
 */
import { Command, Option } from "commander";
import { type FlagValues, loadConfig } from "../config/index.ts";
import type { OutputFormat } from "../plan/render.ts";
import { OPERATOR_FLAGS } from "./operator-flags.ts";
import { addSettingOptions } from "./setting-options.ts";

export function statusCommand(): Command {
  const command = new Command("status")
    .description("list the Services the controller manages: address, listeners, targets, last result and its age")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"));
  addSettingOptions(command, OPERATOR_FLAGS);
  return command.action(async (flags: FlagValues & { output: OutputFormat }) => {
    const config = loadConfig(flags);
    const { statusMain } = await import("../plan/commands.ts");
    await statusMain(config, flags.output);
  });
}
