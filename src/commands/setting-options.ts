/**
 * Registers the flags declared in the config's settings table on a command, so every command that
 * needs (part of) the controller's configuration spells its flags, env variables and help the same way.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { SETTINGS, type SettingDefinition } from "../config/index.ts";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function helpText(setting: SettingDefinition): string {
  const notes = [
    ...(setting.defaultValue === undefined ? [] : [`default: ${setting.defaultValue}`]),
    `env: ${setting.env.join(", ")}`,
  ];
  return `${setting.description} (${notes.join("; ")})`;
}

/**
 * Adds the settings' flags to `command` — all of them, or only those whose flag is in `flags`. Flags
 * carry no commander defaults: defaults and environment variables are applied by `resolveConfig`, so an
 * absent flag stays `undefined` and the environment can fill it.
 */
export function addSettingOptions(command: Command, flags?: readonly string[]): Command {
  for (const setting of SETTINGS) {
    if (flags && !flags.includes(setting.flag)) continue;
    if (setting.kind === "boolean") {
      command.addOption(new Option(`${setting.flag} [bool]`, helpText(setting)).helpGroup(setting.group));
      command.addOption(
        new Option(`--no-${setting.flag.slice(2)}`, `same as ${setting.flag}=false`).helpGroup(setting.group),
      );
      continue;
    }
    const option = new Option(`${setting.flag} ${setting.valueName ?? "<value>"}`, helpText(setting)).helpGroup(
      setting.group,
    );
    command.addOption(setting.kind === "repeatable" ? option.argParser(collect) : option);
  }
  return command;
}
