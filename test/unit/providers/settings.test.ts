/**
 * Provider settings declared in one shape (`providers/settings.ts`): read and refused the same way for
 * every provider, checked by the loader before a factory runs, and documented as the declaration says.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { providerSettings as awsSettings } from "../../../providers/aws/index.ts";
import { InvalidConfigurationError } from "../../../providers/errors.ts";
import { providerSettings as fakeSettings } from "../../../providers/fake/index.ts";
import { isSettingError, loadProvider, ProviderLoadError } from "../../../providers/load.ts";
import { providerSettings as localSettings } from "../../../providers/local/settings.ts";
import {
  type ProviderSettingsDeclaration,
  providerSettingsProblem,
  providerSettingsTable,
  readProviderSettings,
} from "../../../providers/settings.ts";
import type { ProviderLogger } from "../../../providers/types.ts";

const DECLARATION = [
  { name: "size", type: "integer", min: 1, max: 10, default: 3, help: "How many." },
  { name: "ratio", type: "number", min: 0, max: 1, help: "How much." },
  { name: "enabled", type: "boolean", default: false, help: "Whether." },
  { name: "endpoint", type: "url", env: ["EXAMPLE_ENDPOINT"], help: "Where." },
  { name: "tier", type: "string", oneOf: ["standard", "premium"], default: "standard", help: "Which." },
  { name: "zone", type: "string", pattern: /^z-\d+$/, example: "a zone such as z-1", help: "Where exactly." },
  { name: "label", type: "string", help: "Any text." },
] as const satisfies ProviderSettingsDeclaration;

function refusal(given: Record<string, string>, env: Record<string, string> = {}): InvalidConfigurationError {
  try {
    readProviderSettings("example", DECLARATION, given, env);
  } catch (error) {
    if (error instanceof InvalidConfigurationError) return error;
    throw error;
  }
  throw new Error("expected an InvalidConfigurationError");
}

describe("readProviderSettings", () => {
  it("fills in defaults and leaves a setting without one absent", () => {
    expect(readProviderSettings("example", DECLARATION, {}, {})).toEqual({ size: 3, enabled: false, tier: "standard" });
  });

  it("reads every type, trimmed, and a variable where the setting is not given", () => {
    const values = readProviderSettings(
      "example",
      DECLARATION,
      { size: " 7 ", ratio: "0.25", enabled: "true", tier: "premium", zone: "z-2", label: "a b" },
      { EXAMPLE_ENDPOINT: "http://127.0.0.1:4566" },
    );
    expect(values).toEqual({
      size: 7,
      ratio: 0.25,
      enabled: true,
      endpoint: "http://127.0.0.1:4566",
      tier: "premium",
      zone: "z-2",
      label: "a b",
    });
    expect(Object.isFrozen(values)).toBe(true);
  });

  it("prefers the setting over its variable, and passes over an empty variable", () => {
    const env = { EXAMPLE_ENDPOINT: "http://from-env" };
    expect(readProviderSettings("example", DECLARATION, { endpoint: "https://given" }, env).endpoint).toBe(
      "https://given",
    );
    expect(readProviderSettings("example", DECLARATION, {}, { EXAMPLE_ENDPOINT: " " }).endpoint).toBeUndefined();
  });

  it.each([
    [
      { sise: "3" },
      {},
      "--provider-config sise: unknown setting for the example provider; it accepts size, ratio, enabled, endpoint, tier, zone, label",
    ],
    [{ size: "3.5" }, {}, '--provider-config size: "3.5" is not a whole number from 1 to 10 (default 3)'],
    [{ size: "" }, {}, '--provider-config size: "" is not a whole number from 1 to 10 (default 3)'],
    [{ ratio: "2" }, {}, '--provider-config ratio: "2" is not a number from 0 to 1'],
    [{ enabled: "yes" }, {}, '--provider-config enabled: "yes" is not true or false (default false)'],
    [{ endpoint: "localhost:4566" }, {}, '--provider-config endpoint: "localhost:4566" is not an http(s) URL'],
    [
      {},
      { EXAMPLE_ENDPOINT: "ftp://x" },
      '--provider-config endpoint: "ftp://x" (from EXAMPLE_ENDPOINT) is not an http(s) URL',
    ],
    [{ tier: "gold" }, {}, '--provider-config tier: "gold" is not accepted; use standard (default) or premium'],
    [{ zone: "zone-1" }, {}, '--provider-config zone: "zone-1" is not a zone such as z-1'],
    [{ label: " " }, {}, '--provider-config label: " " is not a value'],
  ])("refuses %j %j naming the setting", (given, env, message) => {
    const error = refusal(given, env);
    expect(error.message).toBe(message);
    expect(error.field).toBe(message.slice(0, message.indexOf(":")));
  });

  it("refuses any key where nothing is declared", () => {
    expect(() => readProviderSettings("example", [], { key: "value" })).toThrow(
      "--provider-config key: unknown setting for the example provider; it takes none",
    );
  });
});

describe("providerSettingsProblem", () => {
  it("accepts every built-in provider's declaration", () => {
    for (const declaration of [fakeSettings, localSettings, awsSettings]) {
      expect(providerSettingsProblem(declaration)).toBeUndefined();
    }
  });

  it.each([
    [{ name: "x" }, "providerSettings is an object; expected an array of { name, type, help, default? }"],
    [[{ name: "1x", type: "string", help: "h" }], "providerSettings[0] has the name"],
    [
      [
        { name: "x", type: "string", help: "h" },
        { name: "x", type: "number", help: "h" },
      ],
      "providerSettings[1] declares x a second time",
    ],
    [[{ name: "x", type: "float", help: "h" }], "providerSettings[0] (x) has the type"],
    [[{ name: "x", type: "string", help: "" }], "providerSettings[0] (x) has no help"],
    [[{ name: "x", type: "integer", default: "3", help: "h" }], "providerSettings[0] (x) has the default"],
  ])("describes what is wrong with %j", (declaration, problem) => {
    expect(providerSettingsProblem(declaration)).toContain(problem);
  });
});

describe("loadProvider and a plugin's declaration", () => {
  const silent: ProviderLogger = { debug() {}, info() {}, warn() {}, error() {} };
  const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const load = (name: string, settings: Record<string, string>) =>
    loadProvider(fixture(name), { clusterName: "unit", logger: silent, settings }).then(
      (provider) => provider,
      (error: unknown) => error,
    );

  it("checks the operator's settings before the factory runs", async () => {
    const error = await load("declared-settings.ts", { tier: "gold" });
    expect(isSettingError(error)).toBe(true);
    expect((error as Error).message).toBe(
      '--provider-config tier: "gold" is not accepted; use standard (default) or premium',
    );
    const unknown = await load("declared-settings.ts", { timeout: "5" });
    expect((unknown as Error).message).toContain("unknown setting for the");
    expect((unknown as Error).message).toContain("provider; it accepts tier, timeoutSeconds");
  });

  it("loads the plugin when the settings fit", async () => {
    const provider = await load("declared-settings.ts", { tier: "premium", timeoutSeconds: "30" });
    expect(provider).not.toBeInstanceOf(Error);
  });

  it("refuses a malformed declaration as a load error", async () => {
    const error = await load("malformed-settings.ts", {});
    expect(error).toBeInstanceOf(ProviderLoadError);
    expect((error as Error).message).toContain(
      "its providerSettings[0] (retries) has the default -1, which it would not accept",
    );
  });
});

describe("each built-in provider's page shows its declaration", () => {
  const page = (name: string) => readFileSync(join(import.meta.dirname, "../../../docs", name), "utf8");
  it.each([
    ["fake", "providers.md", fakeSettings],
    ["local", "local.md", localSettings],
    ["aws", "aws.md", awsSettings],
  ] as const)("%s: docs/%s holds providerSettingsTable of it", (_name, file, declaration) => {
    expect(page(file)).toContain(providerSettingsTable(declaration));
  });
});
