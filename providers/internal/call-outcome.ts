/**
 * The `outcome` a provider reports through `onCall` for a call that failed with one of the provider
 * error classes (anything else counts as transient). Shared by the built-in providers.
 *
 * @module
 */
import { providerErrorKind } from "../errors.ts";
import type { ProviderCall } from "../types.ts";

export function callOutcomeOf(error: unknown): ProviderCall["outcome"] {
  switch (providerErrorKind(error)) {
    case "throttled":
      return "throttled";
    case "invalid-configuration":
      return "invalid";
    case "conflict":
      return "conflict";
    default:
      return "transient";
  }
}
