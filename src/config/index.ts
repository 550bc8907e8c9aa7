/**
 * The controller's configuration, split by job: `settings.ts` declares every setting (flag, variables,
 * default, help), `parsers.ts` turns a raw value into a typed one, `resolve.ts` applies the precedence
 * and builds the frozen {@link Config} of `config.ts`. A provider's own settings (`--provider-config`)
 * are declared by the provider and checked by the provider loader (`providers/settings.ts`).
 *
 * @module
 */
export { type BindAddress, type Config, ConfigError, type LeaderElectionConfig } from "./config.ts";
export { parseBindAddress, parseDuration } from "./parsers.ts";
export {
  type ConfigSources,
  type FlagValues,
  loadConfig,
  readServiceAccountNamespace,
  resolveConfig,
} from "./resolve.ts";
export { SETTINGS, type SettingDefinition, type SettingKey } from "./settings.ts";
