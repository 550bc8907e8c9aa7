/**
 * `describeProviderConformance`: registers the conformance cases as a vitest `describe` block around a
 * provider the caller creates. Skips are by case name with a written reason and show up as skipped
 * tests, never as passes.
 *
 * @module
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import type { LoadBalancerProvider } from "../types.ts";
import { CONFORMANCE_CASES } from "./cases.ts";
import { type ConformanceOptions, checkedSkips, ProviderUnderTest } from "./harness.ts";

/** Registers the conformance suite for one provider. Call it at the top level of a test file. */
export function describeProviderConformance<P extends LoadBalancerProvider>(options: ConformanceOptions<P>): void {
  const skips = checkedSkips(options);

  describe(`provider conformance: ${options.name}`, () => {
    let underTest: ProviderUnderTest<P> | undefined;

    beforeAll(async () => {
      underTest = await ProviderUnderTest.create(options);
    }, options.timeoutMs);

    afterAll(async () => {
      await underTest?.close();
    }, options.timeoutMs);

    for (const name of CONFORMANCE_CASES) {
      const reason = skips.get(name);
      if (reason !== undefined) {
        it.skip(`${name} [skipped: ${reason}]`, () => {});
        continue;
      }
      it(
        name,
        async (context) => {
          if (underTest === undefined) throw new Error("the provider was not created; see the beforeAll failure");
          await underTest.runCase(name, (note) => {
            context.skip(note);
            throw new Error("unreachable: context.skip throws");
          });
        },
        options.timeoutMs,
      );
    }
  });
}
