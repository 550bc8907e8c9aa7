/**
 * Plugin loading: turns a `--provider` value into a running {@link LoadBalancerProvider}.
 *
 * A specifier is a built-in name (`aws`, `fake`, `local`), a path (absolute, or relative to the working directory
 * and then starting with `./` or `../`), a `file:` URL, or an installed package name. The module's
 * default export must be a {@link ProviderFactory}; it may declare its settings as `providerSettings`
 * (see `settings.ts`), which are then checked here, before the factory runs. A setting the provider
 * refuses is an {@link InvalidConfigurationError} naming `--provider-config <key>`; every other way
 * loading can go wrong is one {@link ProviderLoadError} whose message is a single line naming the
 * specifier and what was expected, because it is what an operator sees when the controller refuses to
 * start.
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { apiVersionProblem } from "./api-version.ts";
import { describeValue } from "./describe.ts";
import { InvalidConfigurationError } from "./errors.ts";
import { type ProviderSettingsDeclaration, providerSettingsProblem, readProviderSettings } from "./settings.ts";
import type { LoadBalancerProvider, ProviderFactory, ProviderOptions } from "./types.ts";

export type { ProviderFactory };

/** Providers that ship with this package and are named rather than located. */
export const builtinProviders = ["aws", "fake", "local"] as const;

export type BuiltinProviderName = (typeof builtinProviders)[number];

// Built-ins are modules like any plugin, imported only when chosen (so the AWS SDK loads only for
// `--provider aws`) and checked at run time like any plugin. The compiler rewrites these relative
// specifiers to `.js` in the build.
const builtinModules: Readonly<Record<BuiltinProviderName, string>> = {
  aws: "./aws/index.ts",
  fake: "./fake/index.ts",
  local: "./local/index.ts",
};

const EXPECTED_MODULE =
  "expected a built-in name (aws, fake, local), a path starting with ./ ../ or /, a file: URL, or an installed package name";
const EXPECTED_FACTORY =
  "expected `export default function (options: ProviderOptions): LoadBalancerProvider` (or an async one)";
const REQUIRED_METHODS = ["ensureLoadBalancer", "getLoadBalancer", "ensureLoadBalancerDeleted"] as const;
const OPTIONAL_METHODS = ["listLoadBalancers", "validate", "close"] as const;

/** A provider module could not be found, imported, or turned into a provider. The message is one line. */
export class ProviderLoadError extends Error {
  override readonly name = "ProviderLoadError";
  /** The specifier as given, e.g. `./my-provider.ts`. */
  readonly specifier: string;
  constructor(specifier: string, problem: string, options?: ErrorOptions) {
    super(`cannot load provider "${specifier}": ${oneLine(problem)}`, options);
    this.specifier = specifier;
  }
}

/**
 * Loads the provider named by `specifier` and creates it with `options`.
 *
 * A plugin module may also export `providerApiVersion`; when it does and it differs from
 * {@link PROVIDER_API_VERSION}, loading fails instead of running a provider built against another
 * interface.
 *
 * @throws {ProviderLoadError} when the module is missing or fails to import, has no default-export
 *   function, declares another API version or a malformed `providerSettings`, or its factory throws or
 *   returns something that is not a provider.
 * @throws {InvalidConfigurationError} when `options.settings` break the module's `providerSettings` (an
 *   unknown key, a value of the wrong kind), or the factory refuses one, named as `--provider-config <key>`.
 */
export async function loadProvider(specifier: string, options: ProviderOptions): Promise<LoadBalancerProvider> {
  const moduleNamespace = await importProviderModule(specifier);
  const factory = factoryOf(specifier, moduleNamespace);
  checkSettings(specifier, moduleNamespace, options.settings);
  let provider: unknown;
  try {
    provider = await factory(options);
  } catch (error) {
    // A setting the factory refuses beyond its declaration is the operator's to fix, named as such.
    if (isSettingError(error)) throw error;
    throw new ProviderLoadError(specifier, `its provider factory failed: ${describeError(error)}`, { cause: error });
  }
  assertIsProvider(specifier, provider);
  return provider;
}

/** Whether `specifier` names a provider built into this package. */
export function isBuiltinProvider(specifier: string): specifier is BuiltinProviderName {
  return (builtinProviders as readonly string[]).includes(specifier);
}

async function importProviderModule(specifier: string): Promise<unknown> {
  if (specifier.trim() === "") throw new ProviderLoadError(specifier, `the specifier is empty; ${EXPECTED_MODULE}`);
  if (isBuiltinProvider(specifier)) {
    const builtin = builtinModules[specifier];
    return importOrExplain(specifier, () => import(builtin));
  }
  const url = locateModule(specifier);
  return importOrExplain(specifier, () => import(url));
}

async function importOrExplain(specifier: string, load: () => Promise<unknown>): Promise<unknown> {
  try {
    return await load();
  } catch (error) {
    throw new ProviderLoadError(specifier, `importing the module failed: ${describeError(error)}`, { cause: error });
  }
}

/** The URL to import for a path, file URL or package name; throws when there is nothing there. */
function locateModule(specifier: string): string {
  if (specifier.startsWith("file:")) {
    let path: string;
    try {
      path = fileURLToPath(specifier);
    } catch (error) {
      throw new ProviderLoadError(specifier, `not a valid file URL (${describeError(error)})`, { cause: error });
    }
    return pathToFileURL(existingModuleFile(specifier, path)).href;
  }
  if (isPath(specifier)) {
    return pathToFileURL(existingModuleFile(specifier, resolve(process.cwd(), specifier))).href;
  }
  return resolvePackage(specifier);
}

function isPath(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../") || isAbsolute(specifier) || specifier === ".";
}

const DIRECTORY_ENTRIES = ["index.js", "index.mjs", "index.ts"] as const;

function existingModuleFile(specifier: string, path: string): string {
  if (!existsSync(path)) {
    throw new ProviderLoadError(specifier, `no file at ${path}; ${EXPECTED_MODULE}`);
  }
  if (!statSync(path).isDirectory()) return path;
  // Node's ES module loader does not look inside directories; accept the usual entry file names.
  for (const entry of DIRECTORY_ENTRIES) {
    const candidate = join(path, entry);
    if (existsSync(candidate)) return candidate;
  }
  throw new ProviderLoadError(
    specifier,
    `${path} is a directory without ${DIRECTORY_ENTRIES.join(", ")}; point at the module file itself`,
  );
}

/**
 * Resolves a package name from this package first (a plugin installed alongside it), then from the
 * working directory (a plugin installed in the operator's project while this package is global).
 */
function resolvePackage(specifier: string): string {
  try {
    return import.meta.resolve(specifier);
  } catch (fromHere) {
    try {
      return pathToFileURL(createRequire(join(process.cwd(), "package.json")).resolve(specifier)).href;
    } catch {
      throw new ProviderLoadError(
        specifier,
        `no installed package of that name (looked from ${fileURLToPath(new URL(".", import.meta.url))} and ${process.cwd()}); ${EXPECTED_MODULE}`,
        { cause: fromHere },
      );
    }
  }
}

function factoryOf(specifier: string, moduleNamespace: unknown): ProviderFactory {
  const exports = (moduleNamespace ?? {}) as Record<string, unknown>;
  const versionProblem = apiVersionProblem(exports.providerApiVersion);
  if (versionProblem !== undefined) throw new ProviderLoadError(specifier, versionProblem);
  const candidate = exports.default;
  if (typeof candidate === "function") return candidate as ProviderFactory;
  const found =
    candidate === undefined
      ? `it has no default export (exports: ${Object.keys(exports).join(", ") || "none"})`
      : `its default export is ${describeValue(candidate)}`;
  throw new ProviderLoadError(specifier, `${found}; ${EXPECTED_FACTORY}`);
}

/** Whether `error` refuses a `--provider-config` setting, by name. */
export function isSettingError(error: unknown): error is InvalidConfigurationError {
  return error instanceof InvalidConfigurationError && error.field.startsWith("--provider-config ");
}

/** Checks `settings` against the module's `providerSettings` declaration, when it has one. */
function checkSettings(specifier: string, moduleNamespace: unknown, settings: Readonly<Record<string, string>>): void {
  const declaration = (moduleNamespace as Record<string, unknown>).providerSettings;
  if (declaration === undefined) return;
  const problem = providerSettingsProblem(declaration);
  if (problem !== undefined) throw new ProviderLoadError(specifier, `its ${problem}`);
  readProviderSettings(specifier, declaration as ProviderSettingsDeclaration, settings);
}

function assertIsProvider(specifier: string, value: unknown): asserts value is LoadBalancerProvider {
  if (typeof value !== "object" || value === null) {
    throw new ProviderLoadError(
      specifier,
      `its factory returned ${describeValue(value)}; expected an object with methods ${REQUIRED_METHODS.join(", ")}`,
    );
  }
  const record = value as Record<string, unknown>;
  const missing = REQUIRED_METHODS.filter((method) => typeof record[method] !== "function");
  if (missing.length > 0) {
    throw new ProviderLoadError(
      specifier,
      `its factory returned an object without ${missing.join(", ")}; expected methods ${REQUIRED_METHODS.join(", ")}`,
    );
  }
  const wrongOptional = OPTIONAL_METHODS.filter(
    (method) => record[method] !== undefined && typeof record[method] !== "function",
  );
  if (wrongOptional.length > 0) {
    throw new ProviderLoadError(
      specifier,
      `its factory returned an object whose ${wrongOptional.join(", ")} is not a function; optional methods must be functions or absent`,
    );
  }
  if (typeof record.name !== "string" || record.name === "") {
    throw new ProviderLoadError(
      specifier,
      "its factory returned a provider without a `name`; expected a short string such as the cloud's name",
    );
  }
  const capabilitiesProblem = capabilitiesProblemOf(record.capabilities, typeof record.validate === "function");
  if (capabilitiesProblem !== undefined) {
    throw new ProviderLoadError(specifier, `its provider's ${capabilitiesProblem}`);
  }
}

const IP_FAMILIES: readonly unknown[] = ["IPv4", "IPv6"];
const FIELD_SUPPORT: readonly unknown[] = ["honoured", "answered"];

/**
 * What is wrong with a provider's `capabilities` declaration, or `undefined` when it is absent or sound.
 * A field it `answered` is answered by `validate`, so that needs one.
 */
function capabilitiesProblemOf(capabilities: unknown, hasValidate: boolean): string | undefined {
  if (capabilities === undefined) return undefined;
  if (typeof capabilities !== "object" || capabilities === null || Array.isArray(capabilities)) {
    return `capabilities is ${describeValue(capabilities)}; expected an object such as { ipFamilies: ["IPv4"] }, or none`;
  }
  const { ipFamilies, sessionAffinity, loadBalancerIP } = capabilities as Record<string, unknown>;
  if (
    ipFamilies !== undefined &&
    (!Array.isArray(ipFamilies) ||
      ipFamilies.length === 0 ||
      ipFamilies.some((family) => !IP_FAMILIES.includes(family)) ||
      new Set(ipFamilies).size !== ipFamilies.length)
  ) {
    return `capabilities.ipFamilies is ${JSON.stringify(ipFamilies) ?? describeValue(ipFamilies)}; expected the families it serves, each once: ["IPv4"], ["IPv6"] or ["IPv4", "IPv6"]`;
  }
  for (const [key, value] of Object.entries({ sessionAffinity, loadBalancerIP })) {
    if (value !== undefined && !FIELD_SUPPORT.includes(value)) {
      return `capabilities.${key} is ${describeValue(value)}; expected "honoured", "answered", or none`;
    }
    if (value === "answered" && !hasValidate) {
      return `capabilities.${key} is "answered", but it has no validate to answer with; implement validate, or declare it "honoured" or not at all`;
    }
  }
  return undefined;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
