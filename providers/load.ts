import type { ProviderFactory } from "./types.ts";

// Placeholder until plugin loading lands; replaced by the provider-contract work.
export type { ProviderFactory };
