/**
 * The in-memory fake provider (`--provider fake`): a complete provider for tests, the demo and
 * benchmarks, with a call log and fault injection.
 *
 * Settings (`--provider-config key=value`): `latencyMs` (delay of every call), `failureRate` (0 to 1,
 * chance that a call fails with a transient error) and `seed` (of the failure generator, default 1).
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
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

const SETTINGS = ["latencyMs", "failureRate", "seed"] as const;

/** The factory `--provider fake` uses: a fresh fake cloud configured from `options.settings`. */
const createFromOptions: ProviderFactory = (options: ProviderOptions): FakeProvider => {
  const { settings } = options;
  for (const key of Object.keys(settings)) {
    if (!(SETTINGS as readonly string[]).includes(key)) {
      throw new InvalidConfigurationError(
        `--provider-config ${key}`,
        `unknown setting for the fake provider; it accepts ${SETTINGS.join(", ")}`,
      );
    }
  }
  const latencyMs = numberSetting(settings, "latencyMs", 0, Number.POSITIVE_INFINITY);
  const failureRate = numberSetting(settings, "failureRate", 0, 1);
  const seed = numberSetting(settings, "seed", 0, 2 ** 32 - 1);
  const provider = createFakeProvider({
    ...(options.onCall === undefined ? {} : { onCall: options.onCall }),
    ...(latencyMs === undefined ? {} : { latencyMs }),
  });
  if (failureRate !== undefined && failureRate > 0) {
    provider.failRandomly({ probability: failureRate, ...(seed === undefined ? {} : { seed }) });
  }
  return provider;
};

export default createFromOptions;

function numberSetting(
  settings: Readonly<Record<string, string>>,
  key: (typeof SETTINGS)[number],
  min: number,
  max: number,
): number | undefined {
  const raw = settings[key];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidConfigurationError(
      `--provider-config ${key}`,
      `${JSON.stringify(raw)} is not a number from ${min} to ${max === Number.POSITIVE_INFINITY ? "any" : max}`,
    );
  }
  return value;
}
