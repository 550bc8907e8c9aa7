import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  builtinProviders,
  isBuiltinProvider,
  isSettingError,
  loadProvider,
  ProviderLoadError,
} from "../../../providers/load.ts";
import type { ProviderCall, ProviderLogger, ProviderOptions } from "../../../providers/types.ts";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const fromCwd = (path: string) => `./${relative(process.cwd(), path)}`;

const silent: ProviderLogger = { debug() {}, info() {}, warn() {}, error() {} };
const options = (settings: Record<string, string> = {}, onCall?: (call: ProviderCall) => void): ProviderOptions => ({
  clusterName: "unit",
  logger: silent,
  settings,
  ...(onCall === undefined ? {} : { onCall }),
});

/** Loads `specifier` expecting failure; returns the error after checking it is one line naming the specifier. */
async function loadError(specifier: string, providerOptions = options()): Promise<ProviderLoadError> {
  const error = await loadProvider(specifier, providerOptions).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderLoadError);
  const loadError = error as ProviderLoadError;
  expect(loadError.message).not.toContain("\n");
  expect(loadError.message).toContain(`cannot load provider "${specifier}"`);
  expect(loadError.specifier).toBe(specifier);
  return loadError;
}

const scratch = mkdtempSync(join(tmpdir(), "lbp-load-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("loadProvider: built-in providers", () => {
  it("names aws, fake and local as built in", () => {
    expect([...builtinProviders].sort()).toEqual(["aws", "fake", "local"]);
    expect(isBuiltinProvider("fake")).toBe(true);
    expect(isBuiltinProvider("./fake")).toBe(false);
  });

  it("creates the fake, wiring onCall", async () => {
    const calls: ProviderCall[] = [];
    const provider = await loadProvider(
      "fake",
      options({}, (call) => calls.push(call)),
    );
    expect(provider.name).toBe("fake");
    await provider.getLoadBalancer({ clusterName: "unit", service: { namespace: "default", name: "web" } });
    expect(calls.map((call) => call.operation)).toEqual(["DescribeLoadBalancer"]);
  });

  it.each([
    [
      "fake",
      { latency: "20" },
      "--provider-config latency: unknown setting for the fake provider; it accepts latencyMs, failureRate, seed",
    ],
    [
      "fake",
      { failureRate: "often" },
      '--provider-config failureRate: "often" is not a number from 0 to 1 (default 0)',
    ],
    [
      "local",
      { nodeAddressType: "Hostname" },
      '--provider-config nodeAddressType: "Hostname" is not accepted; use InternalIP (default) or ExternalIP',
    ],
    ["aws", { vpcId: "default" }, '--provider-config vpcId: "default" is not a VPC id such as vpc-0abc123'],
  ])("checks %s's settings against its declaration before its factory runs: %j", async (name, settings, message) => {
    const error = await loadProvider(name, options(settings)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSettingError(error)).toBe(true);
    expect((error as Error).message).toBe(message);
  });

  it("passes on a setting the factory refuses beyond its declaration, naming it", async () => {
    const error = await loadProvider("local", options({ addresses: "10.0.0.0/33" })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSettingError(error)).toBe(true);
    expect((error as Error).message).toContain('--provider-config addresses: "10.0.0.0/33" is not a CIDR');
  });
});

describe("loadProvider: plugins by path, URL and directory", () => {
  it("loads a .ts plugin by absolute path and passes the options through", async () => {
    const provider = await loadProvider(fixture("good-provider.ts"), options());
    expect(provider.name).toBe("fixture:unit");
  });

  it("resolves a relative path against the working directory", async () => {
    const provider = await loadProvider(fromCwd(fixture("good-provider.ts")), options());
    expect(provider.name).toBe("fixture:unit");
  });

  it("loads a file: URL", async () => {
    const provider = await loadProvider(pathToFileURL(fixture("good-provider.ts")).href, options());
    expect(provider.name).toBe("fixture:unit");
  });

  it("loads a directory's index file", async () => {
    const provider = await loadProvider(fromCwd(fixture("directory-plugin")), options());
    expect(provider.name).toBe("directory-plugin");
  });

  it("loads a plain .mjs plugin", async () => {
    const path = join(scratch, "plain.mjs");
    writeFileSync(
      path,
      `export default () => ({ name: "plain", ensureLoadBalancer: async () => ({ ingress: [] }),
        getLoadBalancer: async () => undefined, ensureLoadBalancerDeleted: async () => {} });`,
    );
    expect((await loadProvider(path, options())).name).toBe("plain");
  });
});

describe("loadProvider: one clear line for every failure", () => {
  it("an empty specifier", async () => {
    expect((await loadError("")).message).toMatch(
      /the specifier is empty; expected a built-in name \(aws, fake, local\)/,
    );
  });

  it("a missing file", async () => {
    const specifier = "./plugins/does-not-exist.ts";
    const error = await loadError(specifier);
    expect(error.message).toContain(`no file at ${join(process.cwd(), "plugins/does-not-exist.ts")}`);
    expect(error.message).toMatch(/expected a built-in name .* or an installed package name$/);
  });

  it("a missing file: URL", async () => {
    const specifier = pathToFileURL(join(scratch, "absent.mjs")).href;
    expect((await loadError(specifier)).message).toContain(`no file at ${join(scratch, "absent.mjs")}`);
  });

  it("a package that is not installed", async () => {
    const error = await loadError("lbp-provider-that-is-not-installed");
    expect(error.message).toMatch(/no installed package of that name \(looked from .* and .*\)/);
  });

  it("a directory without an index file", async () => {
    expect((await loadError(fromCwd(fixture("")))).message).toMatch(
      /is a directory without index\.js, index\.mjs, index\.ts; point at the module file itself/,
    );
  });

  it("a module that fails to import", async () => {
    const path = join(scratch, "broken.mjs");
    writeFileSync(path, `import "lbp-dependency-that-is-not-installed";\nexport default () => ({});\n`);
    const error = await loadError(path);
    expect(error.message).toMatch(/importing the module failed: .*lbp-dependency-that-is-not-installed/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("a module without a default export", async () => {
    const specifier = fixture("named-export-only.ts");
    expect((await loadError(specifier)).message).toMatch(
      /it has no default export \(exports: createProvider\); expected `export default function \(options: ProviderOptions\): LoadBalancerProvider`/,
    );
  });

  it("a default export that is not a function", async () => {
    expect((await loadError(fixture("default-object.ts"))).message).toMatch(
      /its default export is an object; expected `export default function/,
    );
  });

  it("a factory that throws", async () => {
    const error = await loadError(fixture("factory-throws.ts"));
    expect(error.message).toMatch(/its provider factory failed: Error: setting `region` is required$/);
    expect((error.cause as Error).message).toBe("setting `region` is required");
  });

  it("a factory that rejects, with a multi-line message folded into one line", async () => {
    expect((await loadError(fixture("factory-rejects.ts"))).message).toMatch(
      /its provider factory failed: TypeError: credentials file is not valid JSON at line 3$/,
    );
  });

  it("a factory returning an object without the required methods", async () => {
    expect((await loadError(fixture("incomplete-provider.ts"))).message).toMatch(
      /its factory returned an object without ensureLoadBalancer, ensureLoadBalancerDeleted; expected methods ensureLoadBalancer, getLoadBalancer, ensureLoadBalancerDeleted$/,
    );
  });

  it("a factory returning something that is not an object", async () => {
    const path = join(scratch, "returns-string.mjs");
    writeFileSync(path, `export default () => "provider";\n`);
    expect((await loadError(path)).message).toMatch(/its factory returned the string "provider"; expected an object/);
  });

  it("a provider without a name", async () => {
    expect((await loadError(fixture("nameless-provider.ts"))).message).toMatch(/a provider without a `name`/);
  });

  it.each([
    ["a string", '"IPv6"', /its provider's capabilities is the string "IPv6"; expected an object such as/],
    [
      "an unknown family",
      '{ ipFamilies: ["IPv4", "ipv6"] }',
      /capabilities\.ipFamilies is \["IPv4","ipv6"\]; expected the families it serves, each once: \["IPv4"\], \["IPv6"\] or \["IPv4", "IPv6"\]$/,
    ],
    ["no family", "{ ipFamilies: [] }", /capabilities\.ipFamilies is \[\]; expected the families it serves/],
    ["a family twice", '{ ipFamilies: ["IPv4", "IPv4"] }', /capabilities\.ipFamilies is \["IPv4","IPv4"\]/],
    [
      "an unknown field support",
      '{ sessionAffinity: "yes" }',
      /capabilities\.sessionAffinity is the string "yes"; expected "honoured", "answered", or none$/,
    ],
    [
      "an answered field without validate",
      '{ loadBalancerIP: "answered" }',
      /capabilities\.loadBalancerIP is "answered", but it has no validate to answer with; implement validate, or declare it "honoured" or not at all$/,
    ],
  ])("a provider declaring %s as capabilities", async (_what, capabilities, message) => {
    const path = join(scratch, `capabilities-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(
      path,
      `export default () => ({ name: "p", capabilities: ${capabilities}, async ensureLoadBalancer() { return { ingress: [] }; }, async getLoadBalancer() {}, async ensureLoadBalancerDeleted() {} });\n`,
    );
    expect((await loadError(path)).message).toMatch(message);
  });

  it("a sound capabilities declaration loads", async () => {
    const path = join(scratch, "capabilities-sound.mjs");
    writeFileSync(
      path,
      `export default () => ({ name: "p", capabilities: { ipFamilies: ["IPv6", "IPv4"], sessionAffinity: "answered", loadBalancerIP: "honoured" }, validate() { return []; }, async ensureLoadBalancer() { return { ingress: [] }; }, async getLoadBalancer() {}, async ensureLoadBalancerDeleted() {} });\n`,
    );
    expect((await loadProvider(path, options())).capabilities?.ipFamilies).toEqual(["IPv6", "IPv4"]);
  });

  it("a plugin declaring another provider API version", async () => {
    expect((await loadError(fixture("future-api-version.ts"))).message).toMatch(
      /: the plugin implements provider API version 2, but this lb-provisioner implements provider API version 1; upgrade lb-provisioner to a release that implements version 2, or install a release of the plugin built for version 1$/,
    );
  });
});
