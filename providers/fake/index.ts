/**
 * The in-memory fake provider (`--provider fake`): a complete provider for tests, the demo and
 * benchmarks, with a call log and fault injection.
 *
 * Settings (`--provider-config key=value`): {@link providerSettings}.
 *
 * @module
 */
import { type ProviderSettingsDeclaration, readProviderSettings } from "../settings.ts";
import type { ProviderFactory, ProviderOptions } from "../types.ts";
import { createFakeProvider, type FakeProvider } from "./fake-provider.ts";

export { FakeNotFoundError } from "./apply.ts";
export { DEFAULT_CALL_LOG_LIMIT, type FakeCall } from "./call-log.ts";
export { createFakeProvider, FakeProvider, type FakeProviderOptions } from "./fake-provider.ts";
export {
  type FakeFailure,
  type FakeOperationMatch,
  injectedThrottle,
  injectedTransient,
  type RandomFailureOptions,
} from "./faults.ts";
export { FAKE_OPERATIONS, type FakeOperation } from "./operations.ts";
export {
  FAKE_HOSTNAME_SUFFIX,
  FakeCloudStore,
  type FakeListener,
  type FakeLoadBalancer,
  type FakeProtocol,
  type FakeTargetGroup,
  fakeHostname,
  listenerKey,
} from "./state.ts";
export {
  FAKE_ANNOTATION_PREFIX,
  FAKE_MAX_LISTENERS,
  FAKE_SCHEME_ANNOTATION,
  type FakeScheme,
  validateFakeSpec,
} from "./validation.ts";

/** The fake's settings, checked by the loader and read by the factory. */
export const providerSettings = [
  { name: "latencyMs", type: "number", min: 0, default: 0, help: "delay of every call, in milliseconds." },
  {
    name: "failureRate",
    type: "number",
    min: 0,
    max: 1,
    default: 0,
    help: "chance that a call fails with a transient error.",
  },
  {
    name: "seed",
    type: "integer",
    min: 0,
    max: 2 ** 32 - 1,
    default: 1,
    help: "seed of the failure generator, so a run replays.",
  },
] as const satisfies ProviderSettingsDeclaration;

/** The factory `--provider fake` uses: a fresh fake cloud configured from `options.settings`. */
const createFromOptions: ProviderFactory = (options: ProviderOptions): FakeProvider => {
  const { latencyMs, failureRate, seed } = readProviderSettings("fake", providerSettings, options.settings);
  const provider = createFakeProvider({
    ...(options.onCall === undefined ? {} : { onCall: options.onCall }),
    latencyMs,
  });
  if (failureRate > 0) provider.failRandomly({ probability: failureRate, seed });
  return provider;
};

export default createFromOptions;
