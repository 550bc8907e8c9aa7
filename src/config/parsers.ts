/**
 * The value parsers: each turns one raw flag or variable value into what {@link Config} holds, or throws
 * {@link InvalidValue} saying the form it expects; `resolve.ts` adds which setting and where it came from.
 * Rules shared with the providers (label syntax, AWS region names, http(s) URLs) come from
 * `providers/rules/`, so the controller and the provider accept the same values.
 *
 * @module
 */
import type { LevelWithSilent } from "pino";
import { isAwsRegionName, isDnsSubdomain, isHttpUrl, isLabelKey } from "../../providers/rules/index.ts";
import { isProviderSettingName } from "../../providers/settings.ts";
import { LOG_LEVELS } from "../observability/log-levels.ts";
import type { BindAddress } from "./config.ts";
import { PROVIDER_CHOICES } from "./settings.ts";

/** Thrown by parsers; turned into a {@link ConfigError} that names the setting. */
export class InvalidValue extends Error {}

/** The value as trimmed text; anything but a string (a repeated flag's array) is refused. */
export function text(value: unknown): string {
  if (typeof value !== "string") throw new InvalidValue("a value");
  return value.trim();
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

/**
 * Parses a Go-style duration (`500ms`, `15s`, `10m`, `1h30m`) into milliseconds. Bare numbers are
 * rejected: a unit-less `15` is ambiguous between the flag styles operators know.
 */
export function parseDuration(input: string): number {
  const value = input.trim();
  if (value === "") throw new InvalidValue("a duration such as 15s, 10m or 1h30m");
  let total = 0;
  let consumed = 0;
  DURATION_PART.lastIndex = 0;
  for (let match = DURATION_PART.exec(value); match; match = DURATION_PART.exec(value)) {
    const [whole, amount, unit] = match;
    total += Number(amount) * (DURATION_UNITS_MS[unit ?? ""] ?? Number.NaN);
    consumed += whole.length;
  }
  if (consumed !== value.length || !Number.isFinite(total)) {
    throw new InvalidValue("a duration such as 15s, 10m or 1h30m (units ms, s, m, h)");
  }
  return Math.round(total);
}

export function positiveDuration(value: unknown): number {
  const ms = parseDuration(text(value));
  if (ms <= 0) throw new InvalidValue("a duration greater than zero, such as 15s");
  return ms;
}

export function integerInRange(min: number, max: number): (value: unknown) => number {
  return (value) => {
    const input = text(value);
    if (!/^\d+$/.test(input)) throw new InvalidValue(`a whole number from ${min} to ${max}`);
    const parsed = Number(input);
    if (parsed < min || parsed > max) throw new InvalidValue(`a whole number from ${min} to ${max}`);
    return parsed;
  };
}

export function booleanValue(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  const input = text(value).toLowerCase();
  if (input === "true" || input === "1") return true;
  if (input === "false" || input === "0") return false;
  throw new InvalidValue("true or false");
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function clusterName(value: unknown): string {
  const input = text(value);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(input)) {
    throw new InvalidValue("1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return input;
}

export function dnsLabel(value: unknown): string {
  const input = text(value);
  if (!DNS_LABEL.test(input)) throw new InvalidValue("a namespace name (lowercase letters, digits and '-')");
  return input;
}

export function dnsSubdomain(value: unknown): string {
  const input = text(value);
  if (!isDnsSubdomain(input)) throw new InvalidValue("an object name (lowercase letters, digits, '-' and '.')");
  return input;
}

/** `spec.loadBalancerClass` is a label-style qualified name: `[prefix/]name`. */
export function loadBalancerClass(value: unknown): string {
  const input = text(value);
  if (!isLabelKey(input)) throw new InvalidValue("a label-style name such as example.com/internal-nlb");
  return input;
}

export function providerName(value: unknown): string {
  const input = text(value);
  if (input === "" || /\s/.test(input)) throw new InvalidValue(`${PROVIDER_CHOICES}, without spaces`);
  return input;
}

/** `--provider-config` pairs (repeated flags, or the variable's comma-separated list) as a record. */
export function settingPairs(value: unknown): Record<string, string> {
  const pairs = Array.isArray(value)
    ? value.map(text)
    : text(value)
        .split(",")
        .map((pair) => pair.trim())
        .filter((pair) => pair !== "");
  const settings: Record<string, string> = {};
  for (const pair of pairs) {
    const separator = pair.indexOf("=");
    const name = separator > 0 ? pair.slice(0, separator).trim() : "";
    if (!isProviderSettingName(name)) throw new InvalidValue(`key=value pairs (bad entry "${pair}")`);
    if (Object.hasOwn(settings, name)) throw new InvalidValue(`each key at most once ("${name}" repeats)`);
    settings[name] = pair.slice(separator + 1).trim();
  }
  return settings;
}

/** Parses `:8080`, `127.0.0.1:8080`, `[::1]:8080` or `0` (disabled, returned as undefined). */
export function parseBindAddress(input: string): BindAddress | undefined {
  const value = input.trim();
  if (value === "0") return undefined;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65_535) throw new InvalidValue("[host]:port such as :8080 or 127.0.0.1:8080, or 0 to disable");
  const host = match[1] ?? match[2];
  return host ? { host, port } : { port };
}

export function bindAddress(value: unknown): BindAddress | "disabled" {
  return parseBindAddress(text(value)) ?? "disabled";
}

export function logLevel(value: unknown): LevelWithSilent {
  const input = text(value).toLowerCase();
  const level = LOG_LEVELS.find((candidate) => candidate === input);
  if (!level) throw new InvalidValue(`one of ${LOG_LEVELS.join(", ")}`);
  return level;
}

export function awsRegion(value: unknown): string {
  const input = text(value);
  if (!isAwsRegionName(input)) throw new InvalidValue("an AWS region such as us-east-1");
  return input;
}

export function httpUrl(value: unknown): string {
  const input = text(value);
  if (!isHttpUrl(input)) throw new InvalidValue("an http:// or https:// URL");
  return input;
}
