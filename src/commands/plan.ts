/**
 * `lb-provisioner plan [namespace/name]`: what the controller would change, without changing anything.
 * Exit 0 when nothing would change, 2 when something would (or a Service cannot be built).
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { type FlagValues, loadConfig } from "../config.ts";
import { connectOperator, FAKE_PROVIDER_NOTE, OPERATOR_FLAGS } from "../plan/connect.ts";
import { planExitCode, renderPlanJson, renderPlanText } from "../plan/render.ts";
import { runPlan } from "../plan/run-plan.ts";
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
    async (target: { namespace: string; name: string } | undefined, flags: FlagValues & { output: string }) => {
      const config = loadConfig(flags);
      if (config.provider === "fake") process.stderr.write(`${FAKE_PROVIDER_NOTE}\n`);
      const deps = await connectOperator(config);
      try {
        const plans = await runPlan(deps, target);
        process.stdout.write(flags.output === "json" ? renderPlanJson(plans) : renderPlanText(plans));
        process.exitCode = planExitCode(plans);
      } finally {
        await deps.provider.close?.();
      }
    },
  );
}
