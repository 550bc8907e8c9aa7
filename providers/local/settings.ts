/**
 * The local provider's settings (`--provider-config key=value`), parsed once at start-up into one frozen
 * object. Every bad value is an {@link InvalidConfigurationError} naming `--provider-config <key>` and
 * what it takes, so the controller refuses to start with one line.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import { AddressPool, AddressPoolSyntaxError } from "./address-pool.ts";

/** The pool used on Linux when `addresses` is not set: loopback, so it works with no setup. */
export const DEFAULT_LINUX_ADDRESSES = "127.100.0.0/16";

/** Which of a node's addresses the load balancer forwards to. */
export type NodeAddressType = "InternalIP" | "ExternalIP";

export interface LocalSettings {
  readonly addresses: AddressPool;
  readonly nodeAddressType: NodeAddressType;
  readonly healthCheckIntervalMs: number;
  readonly healthCheckTimeoutMs: number;
  /** Consecutive passed probes that make a target healthy. */
  readonly healthyThreshold: number;
  /** Consecutive failed probes that make a target unhealthy. */
  readonly unhealthyThreshold: number;
  /** How long a removed target's open connections may finish before they are cut. */
  readonly deregistrationDelayMs: number;
  /** A UDP flow with no datagram either way for this long is forgotten. */
  readonly udpIdleTimeoutMs: number;
}

interface NumberSetting {
  readonly key: string;
  readonly min: number;
  readonly max: number;
  readonly defaultValue: number;
  readonly integer?: boolean;
}

const INTERVAL: NumberSetting = { key: "healthCheckIntervalSeconds", min: 0.05, max: 300, defaultValue: 5 };
const TIMEOUT: NumberSetting = { key: "healthCheckTimeoutSeconds", min: 0.01, max: 120, defaultValue: 2 };
const HEALTHY: NumberSetting = { key: "healthyThreshold", min: 1, max: 10, defaultValue: 2, integer: true };
const UNHEALTHY: NumberSetting = { key: "unhealthyThreshold", min: 1, max: 10, defaultValue: 2, integer: true };
const DEREGISTRATION: NumberSetting = { key: "deregistrationDelaySeconds", min: 0, max: 3600, defaultValue: 15 };
const UDP_IDLE: NumberSetting = { key: "udpIdleTimeoutSeconds", min: 1, max: 3600, defaultValue: 120 };
const NUMBER_SETTINGS = [INTERVAL, TIMEOUT, HEALTHY, UNHEALTHY, DEREGISTRATION, UDP_IDLE] as const;

/** Every key the local provider accepts. */
export const LOCAL_SETTING_KEYS: readonly string[] = [
  "addresses",
  "nodeAddressType",
  ...NUMBER_SETTINGS.map((setting) => setting.key),
];

const NODE_ADDRESS_TYPES: readonly NodeAddressType[] = ["InternalIP", "ExternalIP"];

function field(key: string): string {
  return `--provider-config ${key}`;
}

function numberOf(settings: Readonly<Record<string, string>>, setting: NumberSetting): number {
  const raw = settings[setting.key];
  if (raw === undefined) return setting.defaultValue;
  const value = Number(raw);
  const wrongKind = setting.integer === true && !Number.isInteger(value);
  if (raw.trim() === "" || !Number.isFinite(value) || wrongKind || value < setting.min || value > setting.max) {
    const kind = setting.integer === true ? "a whole number" : "a number";
    throw new InvalidConfigurationError(
      field(setting.key),
      `${JSON.stringify(raw)} is not ${kind} from ${setting.min} to ${setting.max} (default ${setting.defaultValue})`,
    );
  }
  return value;
}

function poolOf(settings: Readonly<Record<string, string>>, platform: NodeJS.Platform): AddressPool {
  const raw = settings.addresses;
  if (raw === undefined) {
    if (platform === "linux") return AddressPool.parse(DEFAULT_LINUX_ADDRESSES);
    throw new InvalidConfigurationError(
      field("addresses"),
      `is required on ${platform}, where only 127.0.0.1 answers on loopback by default; give addresses this machine owns, e.g. --provider-config addresses=127.0.0.1 or an alias you added (CIDRs, first-last ranges or single addresses, comma-separated)`,
    );
  }
  try {
    return AddressPool.parse(raw);
  } catch (error) {
    if (!(error instanceof AddressPoolSyntaxError)) throw error;
    throw new InvalidConfigurationError(
      field("addresses"),
      `${error.message}; give CIDRs, first-last ranges or single addresses, comma-separated, e.g. 127.100.0.0/16 or 192.168.49.100-192.168.49.120`,
      { cause: error },
    );
  }
}

/**
 * Parses the provider's settings.
 *
 * @param platform decides whether `addresses` has a default (Linux routes all of 127.0.0.0/8 to loopback).
 * @throws {InvalidConfigurationError} for an unknown key or a bad value, naming `--provider-config <key>`.
 */
export function parseLocalSettings(
  settings: Readonly<Record<string, string>>,
  platform: NodeJS.Platform = process.platform,
): LocalSettings {
  for (const key of Object.keys(settings)) {
    if (!LOCAL_SETTING_KEYS.includes(key)) {
      throw new InvalidConfigurationError(
        field(key),
        `unknown setting for the local provider; it accepts ${LOCAL_SETTING_KEYS.join(", ")}`,
      );
    }
  }
  const nodeAddressType = settings.nodeAddressType ?? "InternalIP";
  if (!(NODE_ADDRESS_TYPES as readonly string[]).includes(nodeAddressType)) {
    throw new InvalidConfigurationError(
      field("nodeAddressType"),
      `${JSON.stringify(nodeAddressType)} is not a node address type; use InternalIP (default) or ExternalIP`,
    );
  }
  const healthCheckIntervalMs = numberOf(settings, INTERVAL) * 1000;
  const healthCheckTimeoutMs = numberOf(settings, TIMEOUT) * 1000;
  if (settings[TIMEOUT.key] !== undefined && healthCheckTimeoutMs > healthCheckIntervalMs) {
    throw new InvalidConfigurationError(
      field(TIMEOUT.key),
      `must not exceed ${INTERVAL.key} (${healthCheckIntervalMs / 1000}); a probe has to finish before the next one starts`,
    );
  }
  return Object.freeze({
    addresses: poolOf(settings, platform),
    nodeAddressType: nodeAddressType as NodeAddressType,
    healthCheckIntervalMs,
    // An interval shorter than the default timeout shortens the timeout with it.
    healthCheckTimeoutMs: Math.min(healthCheckTimeoutMs, healthCheckIntervalMs),
    healthyThreshold: numberOf(settings, HEALTHY),
    unhealthyThreshold: numberOf(settings, UNHEALTHY),
    deregistrationDelayMs: numberOf(settings, DEREGISTRATION) * 1000,
    udpIdleTimeoutMs: numberOf(settings, UDP_IDLE) * 1000,
  });
}
