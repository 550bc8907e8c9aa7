/**
 * `lb-provisioner plan [namespace/name]`: what the controller would change, without changing anything.
 * Exit 0 when nothing would change, 2 when something would (or a Service cannot be built). The work is in
 * `src/plan/`, loaded only when the command runs.
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { type FlagValues, loadConfig } from "../config/index.ts";
import type { OutputFormat } from "../plan/render.ts";
import { OPERATOR_FLAGS } from "./operator-flags.ts";
import { addSettingOptions } from "./setting-options.ts";

/** `namespace/name`, or a bare name in `default`. */
export function parseServiceArgument(value: string): { namespace: string; name: string } {
  const parts = value.split("/");
  const [namespace, name] = parts.length === 1 ? ["default", parts[0]] : parts;
  if (parts.length > 2 || !namespace || !name) {
    throw new InvalidArgumentError(`expected namespace/name (or a name in default), got "${value}"`);
  }
  return { namespace, name };
}

export function planCommand(): Command {
  const command = new Command("plan")
    .description(
      "show what the controller would create, update or delete for each managed Service, changing nothing " +
        "(exit 0: nothing to do, 2: changes pending)",
    )
    .argument("[namespace/name]", "plan only this Service", parseServiceArgument)
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"));
  addSettingOptions(command, OPERATOR_FLAGS);
  return command.action(
    async (target: { namespace: string; name: string } | undefined, flags: FlagValues & { output: OutputFormat }) => {
      const config = loadConfig(flags);
      const { planMain } = await import("../plan/commands.ts");
      process.exitCode = await planMain(config, target, flags.output);
    },
  );
}
