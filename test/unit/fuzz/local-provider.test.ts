/**
 * Property tests of the local provider's settings (`providers/local/settings.ts`), its address pool
 * parsing included: any settings are accepted, or refused with an {@link InvalidConfigurationError}
 * naming `--provider-config <key>`; an accepted pool hands out addresses it contains, in canonical form.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidConfigurationError } from "../../../providers/errors.ts";
import { AddressPool } from "../../../providers/local/address-pool.ts";
import { LOCAL_SETTING_KEYS, parseLocalSettings } from "../../../providers/local/settings.ts";
import {
  address,
  annotationValue,
  cidrLike,
  fuzzOptions,
  PROPERTY_TIMEOUT_MS,
  PROTOTYPE_NAMES,
  token,
} from "./arbitraries.ts";

/** Pools: CIDRs, `first-last` ranges and single addresses, separated by commas or spaces. */
const poolLike = fc
  .array(
    fc.oneof(
      cidrLike,
      address,
      fc.tuple(address, address).map(([first, last]) => `${first}-${last}`),
      fc.tuple(fc.ipV4(), fc.nat({ max: 300 })).map(([first, n]) => `${first}-${first.replace(/\d+$/, String(n))}`),
    ),
    { maxLength: 4 },
  )
  .chain((entries) => fc.constantFrom(",", " ", ", ", "\n").map((separator) => entries.join(separator)));

const settingValue = fc.oneof(
  poolLike,
  fc.constantFrom("InternalIP", "ExternalIP", "internalip", "Hostname"),
  fc.double({ noNaN: false }).map(String),
  fc.integer({ min: -5, max: 5_000 }).map(String),
  annotationValue,
);

describe("the local provider's settings (property)", { timeout: PROPERTY_TIMEOUT_MS }, () => {
  it("are accepted, or refused naming the setting; an accepted pool hands out its own addresses", () => {
    const key = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...LOCAL_SETTING_KEYS) },
      { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
      { weight: 1, arbitrary: token },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, settingValue), { maxLength: 4 }),
        fc.constantFrom<NodeJS.Platform>("linux", "darwin"),
        (entries, platform) => {
          const settings = Object.fromEntries(entries) as Record<string, string>;
          let parsed: ReturnType<typeof parseLocalSettings>;
          try {
            parsed = parseLocalSettings(settings, platform);
          } catch (error) {
            if (!(error instanceof InvalidConfigurationError)) throw error;
            const named = [...Object.keys(settings), "addresses"].map((k) => `--provider-config ${k}`);
            expect(named).toContain(error.field);
            return;
          }
          const pool = parsed.addresses;
          expect(pool.size).toBeGreaterThan(0n);
          for (const index of [0n, pool.size / 2n, pool.size - 1n]) {
            const at = pool.addressAt(index);
            expect(pool.contains(at), at).toBe(true);
            expect(AddressPool.canonical(at)).toBe(at);
          }
          expect(parsed.healthCheckTimeoutMs).toBeLessThanOrEqual(parsed.healthCheckIntervalMs);
        },
      ),
      fuzzOptions(),
    );
  });
});
