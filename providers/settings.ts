/**
 * A provider's settings (`--provider-config key=value`), declared in one shape for every provider —
 * built-in or plugin — so that they are checked, defaulted, reported and documented the same way.
 *
 * A provider module exports its declaration as `providerSettings`; {@link loadProvider} checks the
 * operator's settings against it before calling the factory, so an unknown key or a value of the wrong
 * kind stops the controller with one line naming `--provider-config <key>` (exit 64), whatever the
 * provider. The factory reads the typed values with {@link readProviderSettings}, the same function, so
 * it gets them right when it is called directly too (tests, tools). {@link providerSettingsTable} writes
 * the declaration as the Markdown table the provider's documentation shows.
 *
 * What a declaration cannot say — a rule across two settings, a value with a grammar of its own (an
 * address pool), a default that depends on the platform — stays in the provider, which throws
 * {@link InvalidConfigurationError} naming the setting just as this module does.
 *
 * @module
 */
import { describeValue } from "./describe.ts";
import { InvalidConfigurationError } from "./errors.ts";
import { parseGoBool } from "./rules/go-bool.ts";
import { isHttpUrl } from "./rules/urls.ts";

/**
 * The kinds of value a setting takes: `string` (any text, or one of `oneOf`, or matching `pattern`),
 * `number` and `integer` (between `min` and `max` when given), `boolean` (`true` or `false`, in Go's
 * spellings), `url`
 * (an `http://` or `https://` URL with a host).
 */
export type ProviderSettingType = "string" | "number" | "integer" | "boolean" | "url";

/** A setting's value once read: a number for `number` and `integer`, a boolean for `boolean`, else text. */
export type ProviderSettingValue = string | number | boolean;

/** One setting a provider accepts. */
export interface ProviderSetting {
  /** The key in `--provider-config <name>=<value>`: a letter, then letters, digits, `.`, `_` or `-`. */
  readonly name: string;
  readonly type: ProviderSettingType;
  /** What it does, in a sentence: shown in the documentation table. */
  readonly help: string;
  /** The value when the setting is given nowhere, of the setting's type. None: the setting is then absent. */
  readonly default?: ProviderSettingValue;
  /**
   * How the value is found when it is given nowhere and no fixed `default` says it, in words (e.g. "the
   * AWS SDK's config file"), for the documentation.
   */
  readonly defaultText?: string;
  /** Environment variables read in order when `--provider-config` does not give the setting. */
  readonly env?: readonly string[];
  /** `number` and `integer`: the smallest and largest value accepted. */
  readonly min?: number;
  readonly max?: number;
  /** `string`: the only values accepted. */
  readonly oneOf?: readonly string[];
  /** `string`: a form the value must have, with `example` saying it in words ("a VPC id such as vpc-0abc"). */
  readonly pattern?: RegExp;
  readonly example?: string;
}

/** A provider's settings, in the order its documentation lists them. */
export type ProviderSettingsDeclaration = readonly ProviderSetting[];

/** The value type of one declared setting: absent only when it has no default. */
type ValueOf<S extends ProviderSetting> = S["type"] extends "number" | "integer"
  ? number
  : S["type"] extends "boolean"
    ? boolean
    : string;

/** The values of a declaration, by name; a setting without a default may be absent. */
export type ProviderSettingValues<D extends ProviderSettingsDeclaration> = {
  readonly [S in D[number] as S["name"]]: S extends { readonly default: ProviderSettingValue }
    ? ValueOf<S>
    : ValueOf<S> | undefined;
};

const SETTING_NAME = /^[A-Za-z][A-Za-z0-9._-]*$/;
const TYPES: readonly ProviderSettingType[] = ["string", "number", "integer", "boolean", "url"];

/** Whether `name` may name a setting: a letter, then letters, digits, `.`, `_` or `-`. */
export function isProviderSettingName(name: string): boolean {
  return SETTING_NAME.test(name);
}

/** The field an operator fixes: `--provider-config <name>`. */
export function providerSettingField(name: string): string {
  return `--provider-config ${name}`;
}

/**
 * Reads `given` (the `--provider-config` pairs) against `declaration`: every key must be declared, every
 * value of its setting's kind; a setting not given is read from its `env` variables, else its `default`.
 *
 * @param provider names the provider in the message about an unknown key, e.g. `local`.
 * @throws {InvalidConfigurationError} naming `--provider-config <key>`, what was given and what is accepted.
 */
export function readProviderSettings<const D extends ProviderSettingsDeclaration>(
  provider: string,
  declaration: D,
  given: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ProviderSettingValues<D> {
  for (const key of Object.keys(given)) {
    if (!declaration.some((setting) => setting.name === key)) {
      const names = declaration.map((setting) => setting.name);
      const accepts = names.length === 0 ? "it takes none" : `it accepts ${names.join(", ")}`;
      throw new InvalidConfigurationError(
        providerSettingField(key),
        `unknown setting for the ${provider} provider; ${accepts}`,
      );
    }
  }
  const values: Record<string, ProviderSettingValue> = {};
  for (const setting of declaration) {
    const value = settingValue(setting, given, env);
    if (value !== undefined) values[setting.name] = value;
  }
  return Object.freeze(values) as ProviderSettingValues<D>;
}

function settingValue(
  setting: ProviderSetting,
  given: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
): ProviderSettingValue | undefined {
  if (Object.hasOwn(given, setting.name)) return parseValue(setting, given[setting.name] ?? "");
  for (const name of setting.env ?? []) {
    const value = env[name]?.trim();
    if (value) return parseValue(setting, value, name);
  }
  return setting.default;
}

/** `raw` as `setting`'s type, or an error naming the setting (and the variable it came from, if any). */
function parseValue(setting: ProviderSetting, raw: string, variable?: string): ProviderSettingValue {
  const parsed = parseOrUndefined(setting, raw.trim());
  if (parsed !== undefined) return parsed;
  const origin = variable === undefined ? "" : ` (from ${variable})`;
  throw new InvalidConfigurationError(
    providerSettingField(setting.name),
    `${JSON.stringify(raw)}${origin} is not ${expectedForm(setting)}`,
  );
}

function parseOrUndefined(setting: ProviderSetting, value: string): ProviderSettingValue | undefined {
  switch (setting.type) {
    case "number":
    case "integer":
      return numberOrUndefined(setting, value);
    case "boolean":
      return parseGoBool(value);
    case "url":
      return isHttpUrl(value) ? value : undefined;
    case "string":
      return stringOrUndefined(setting, value);
  }
}

function numberOrUndefined(setting: ProviderSetting, value: string): number | undefined {
  const number = value === "" ? Number.NaN : Number(value);
  const inRange = number >= (setting.min ?? -Infinity) && number <= (setting.max ?? Infinity);
  const ofKind = setting.type === "integer" ? Number.isSafeInteger(number) : Number.isFinite(number);
  return ofKind && inRange ? number : undefined;
}

function stringOrUndefined(setting: ProviderSetting, value: string): string | undefined {
  if (setting.oneOf !== undefined) return setting.oneOf.includes(value) ? value : undefined;
  if (setting.pattern !== undefined) return setting.pattern.test(value) ? value : undefined;
  return value === "" ? undefined : value;
}

/** What `setting` accepts, in words: "a whole number from 1 to 10 (default 2)". */
function expectedForm(setting: ProviderSetting): string {
  const byDefault = setting.default === undefined ? "" : ` (default ${setting.default})`;
  if (setting.oneOf !== undefined) {
    const choices = setting.oneOf.map((choice) => (choice === setting.default ? `${choice} (default)` : choice));
    return `accepted; use ${listed(choices, "or")}`;
  }
  return `${valueWords(setting)}${byDefault}`;
}

/** The kind of value, in words, without the default. */
function valueWords(setting: ProviderSetting): string {
  switch (setting.type) {
    case "number":
    case "integer":
      return `${setting.type === "integer" ? "a whole number" : "a number"}${rangeWords(setting)}`;
    case "boolean":
      return "true or false";
    case "url":
      return "an http(s) URL";
    case "string":
      if (setting.oneOf !== undefined) return listed(setting.oneOf, "or");
      return setting.example ?? "a value";
  }
}

function rangeWords(setting: ProviderSetting): string {
  const { min, max } = setting;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  return max === undefined ? "" : ` of at most ${max}`;
}

function listed(items: readonly string[], conjunction: string): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} ${conjunction} ${items[items.length - 1]}`;
}

/**
 * What is wrong with a module's `providerSettings` export, or `undefined` when it is a sound declaration:
 * an array of settings, each with a unique name, a known type, a help text and a default of its type.
 */
export function providerSettingsProblem(declaration: unknown): string | undefined {
  if (!Array.isArray(declaration)) {
    return `providerSettings is ${describeValue(declaration)}; expected an array of { name, type, help, default? }`;
  }
  const seen = new Set<string>();
  for (const [index, setting] of declaration.entries()) {
    const problem = settingProblem(setting, seen);
    if (problem !== undefined) return `providerSettings[${index}] ${problem}`;
  }
  return undefined;
}

function settingProblem(setting: unknown, seen: Set<string>): string | undefined {
  if (typeof setting !== "object" || setting === null) return `is ${describeValue(setting)}; expected an object`;
  const { name, type, help, default: byDefault } = setting as Record<string, unknown>;
  if (typeof name !== "string" || !SETTING_NAME.test(name)) {
    return `has the name ${describeValue(name)}; expected a letter, then letters, digits, '.', '_' or '-'`;
  }
  if (seen.has(name)) return `declares ${name} a second time`;
  seen.add(name);
  if (!TYPES.includes(type as ProviderSettingType)) {
    return `(${name}) has the type ${describeValue(type)}; expected one of ${TYPES.join(", ")}`;
  }
  if (typeof help !== "string" || help.trim() === "") return `(${name}) has no help; say what it does`;
  if (byDefault !== undefined && parseOrUndefined(setting as ProviderSetting, String(byDefault)) !== byDefault) {
    return `(${name}) has the default ${JSON.stringify(byDefault) ?? describeValue(byDefault)}, which it would not accept`;
  }
  return undefined;
}

/**
 * The declaration as a Markdown table — setting, value, default, meaning — as the documentation of
 * each built-in provider shows it (a unit test keeps those pages equal to this).
 */
export function providerSettingsTable(declaration: ProviderSettingsDeclaration): string {
  const rows = declaration.map((setting) => {
    const value = valueWords(setting).replace(/^an? /, "");
    return `| \`${setting.name}\` | ${value} | ${defaultWords(setting)} | ${setting.help} |`;
  });
  return ["| setting | value | default | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

function defaultWords(setting: ProviderSetting): string {
  const fallbacks = [
    ...(setting.env ?? []).map((name) => `\`${name}\``),
    ...(setting.default === undefined ? [] : [`\`${setting.default}\``]),
    ...(setting.defaultText === undefined ? [] : [setting.defaultText]),
  ];
  return fallbacks.length === 0 ? "none" : fallbacks.join(", else ");
}
