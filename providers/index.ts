/**
 * The public surface for provider plugin authors: `lb-provisioner/providers`.
 *
 * A plugin is an ES module whose default export is a {@link ProviderFactory}; the controller loads it
 * with `--provider <package name or path>` through {@link loadProvider}. Prove a provider with the
 * conformance suite exported from `lb-provisioner/providers/conformance`. A plugin declares its
 * `--provider-config` settings as `export const providerSettings: ProviderSettingsDeclaration`.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./load.ts";
export * from "./rules/index.ts";
export * from "./settings.ts";
export * from "./types.ts";
