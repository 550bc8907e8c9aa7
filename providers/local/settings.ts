/**
 * The local provider's settings (`--provider-config key=value`): declared in {@link providerSettings}, and
 * parsed once at start-up into one frozen object. Every bad value is an {@link InvalidConfigurationError}
 * naming `--provider-config <key>` and what it takes, so the controller refuses to start with one line.
 * Beyond the declaration: the pool's own grammar, its default on Linux only, and the timeout's bound.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import { type ProviderSettingsDeclaration, providerSettingField, readProviderSettings } from "../settings.ts";
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

/** The local provider's settings, checked by the loader and read by {@link parseLocalSettings}. */
export const providerSettings = [
  {
    name: "addresses",
    type: "string",
    defaultText: `\`${DEFAULT_LINUX_ADDRESSES}\` on Linux; required elsewhere`,
    example: "CIDRs, first-last ranges or single addresses, comma-separated",
    help: "the pool: CIDRs (without their network and broadcast addresses), `first-last` ranges and single addresses, IPv4 or IPv6, separated by commas or spaces, e.g. `192.168.49.100-192.168.49.120, fd00:49::/120`. Every address must be one this machine can listen on (on Linux all of 127.0.0.0/8 is, and `::1`). The families it holds are the families Services can have (see below).",
  },
  {
    name: "nodeAddressType",
    type: "string",
    oneOf: ["InternalIP", "ExternalIP"],
    default: "InternalIP",
    help: "which node address to forward to. Nodes without one get no traffic (logged).",
  },
  {
    name: "healthCheckIntervalSeconds",
    type: "number",
    min: 0.05,
    max: 300,
    default: 5,
    help: "time between two probes of a target.",
  },
  {
    name: "healthCheckTimeoutSeconds",
    type: "number",
    min: 0.01,
    max: 120,
    default: 2,
    help: "a probe that takes longer fails (at most the interval).",
  },
  {
    name: "healthyThreshold",
    type: "integer",
    min: 1,
    max: 10,
    default: 2,
    help: "passed probes in a row that make a target healthy.",
  },
  {
    name: "unhealthyThreshold",
    type: "integer",
    min: 1,
    max: 10,
    default: 2,
    help: "failed probes in a row that make a target unhealthy.",
  },
  {
    name: "deregistrationDelaySeconds",
    type: "number",
    min: 0,
    max: 3600,
    default: 15,
    help: "how long connections to a removed node may finish before they are cut.",
  },
  {
    name: "udpIdleTimeoutSeconds",
    type: "number",
    min: 1,
    max: 3600,
    default: 120,
    help: "a UDP flow with no datagram either way for this long is forgotten.",
  },
] as const satisfies ProviderSettingsDeclaration;

/** Every key the local provider accepts. */
export const LOCAL_SETTING_KEYS: readonly string[] = providerSettings.map((setting) => setting.name);

function poolOf(raw: string | undefined, platform: NodeJS.Platform): AddressPool {
  if (raw === undefined) {
    if (platform === "linux") return AddressPool.parse(DEFAULT_LINUX_ADDRESSES);
    throw new InvalidConfigurationError(
      providerSettingField("addresses"),
      `is required on ${platform}, where only 127.0.0.1 answers on loopback by default; give addresses this machine owns, e.g. --provider-config addresses=127.0.0.1 or an alias you added (CIDRs, first-last ranges or single addresses, comma-separated)`,
    );
  }
  try {
    return AddressPool.parse(raw);
  } catch (error) {
    if (!(error instanceof AddressPoolSyntaxError)) throw error;
    throw new InvalidConfigurationError(
      providerSettingField("addresses"),
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
  const values = readProviderSettings("local", providerSettings, settings);
  const healthCheckIntervalMs = values.healthCheckIntervalSeconds * 1000;
  const healthCheckTimeoutMs = values.healthCheckTimeoutSeconds * 1000;
  if (settings.healthCheckTimeoutSeconds !== undefined && healthCheckTimeoutMs > healthCheckIntervalMs) {
    throw new InvalidConfigurationError(
      providerSettingField("healthCheckTimeoutSeconds"),
      `must not exceed healthCheckIntervalSeconds (${values.healthCheckIntervalSeconds}); a probe has to finish before the next one starts`,
    );
  }
  return Object.freeze({
    addresses: poolOf(values.addresses, platform),
    nodeAddressType: values.nodeAddressType as NodeAddressType,
    healthCheckIntervalMs,
    // An interval shorter than the default timeout shortens the timeout with it.
    healthCheckTimeoutMs: Math.min(healthCheckTimeoutMs, healthCheckIntervalMs),
    healthyThreshold: values.healthyThreshold,
    unhealthyThreshold: values.unhealthyThreshold,
    deregistrationDelayMs: values.deregistrationDelaySeconds * 1000,
    udpIdleTimeoutMs: values.udpIdleTimeoutSeconds * 1000,
  });
}
