import { describe, expect, it } from "vitest";
import { InvalidConfigurationError } from "../../../../providers/errors.ts";
import { DEFAULT_LINUX_ADDRESSES, parseLocalSettings } from "../../../../providers/local/settings.ts";

function failure(settings: Record<string, string>, platform: NodeJS.Platform = "linux"): InvalidConfigurationError {
  try {
    parseLocalSettings(settings, platform);
  } catch (error) {
    if (error instanceof InvalidConfigurationError) return error;
    throw error;
  }
  throw new Error("expected an InvalidConfigurationError");
}

describe("parseLocalSettings", () => {
  it("defaults to a loopback pool on Linux and NLB-like health checks", () => {
    const settings = parseLocalSettings({}, "linux");
    expect(settings.addresses.description).toBe(DEFAULT_LINUX_ADDRESSES);
    expect(settings).toMatchObject({
      nodeAddressType: "InternalIP",
      healthCheckIntervalMs: 5000,
      healthCheckTimeoutMs: 2000,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
      deregistrationDelayMs: 15000,
      udpIdleTimeoutMs: 120000,
    });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it("asks for addresses where loopback has only 127.0.0.1", () => {
    const error = failure({}, "darwin");
    expect(error.field).toBe("--provider-config addresses");
    expect(error.message).toContain("is required on darwin");
    expect(parseLocalSettings({ addresses: "127.0.0.1" }, "darwin").addresses.size).toBe(1n);
  });

  it("reads every setting", () => {
    const settings = parseLocalSettings({
      addresses: "192.168.49.100-192.168.49.120",
      nodeAddressType: "ExternalIP",
      healthCheckIntervalSeconds: "0.5",
      healthCheckTimeoutSeconds: "0.25",
      healthyThreshold: "3",
      unhealthyThreshold: "4",
      deregistrationDelaySeconds: "0",
      udpIdleTimeoutSeconds: "30",
    });
    expect(settings).toMatchObject({
      nodeAddressType: "ExternalIP",
      healthCheckIntervalMs: 500,
      healthCheckTimeoutMs: 250,
      healthyThreshold: 3,
      unhealthyThreshold: 4,
      deregistrationDelayMs: 0,
      udpIdleTimeoutMs: 30000,
    });
    expect(settings.addresses.size).toBe(21n);
  });

  it("shortens the default timeout to a shorter interval", () => {
    expect(parseLocalSettings({ healthCheckIntervalSeconds: "0.2" }, "linux").healthCheckTimeoutMs).toBe(200);
  });

  it.each([
    [{ region: "x" }, "--provider-config region", "unknown setting for the local provider"],
    [{ addresses: "10.0.0.0/33" }, "--provider-config addresses", '"10.0.0.0/33" is not a CIDR'],
    [{ nodeAddressType: "Hostname" }, "--provider-config nodeAddressType", "use InternalIP (default) or ExternalIP"],
    [{ healthyThreshold: "1.5" }, "--provider-config healthyThreshold", "not a whole number from 1 to 10"],
    [{ healthCheckIntervalSeconds: "0" }, "--provider-config healthCheckIntervalSeconds", "from 0.05 to 300"],
    [{ deregistrationDelaySeconds: "" }, "--provider-config deregistrationDelaySeconds", "not a number"],
    [
      { healthCheckIntervalSeconds: "1", healthCheckTimeoutSeconds: "2" },
      "--provider-config healthCheckTimeoutSeconds",
      "must not exceed healthCheckIntervalSeconds",
    ],
  ])("rejects %j naming the setting", (settings, field, message) => {
    const error = failure(settings as Record<string, string>);
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });
});
