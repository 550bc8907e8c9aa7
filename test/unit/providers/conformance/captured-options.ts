/**
 * Stands in for `lb-provisioner/providers/conformance` when a copy of a conformance test file is
 * imported: `describeProviderConformance` keeps the options instead of registering tests, so the same
 * options can be run with `runConformanceCases`. Everything else is the real module.
 */
import type { ConformanceOptions } from "../../../../providers/conformance/index.ts";

export * from "../../../../providers/conformance/index.ts";

let captured: ConformanceOptions | undefined;

export function describeProviderConformance(options: ConformanceOptions): void {
  captured = options;
}

/** The options the last imported test file described, once. */
export function takeCapturedOptions(): ConformanceOptions {
  if (captured === undefined) throw new Error("the imported file did not call describeProviderConformance");
  const options = captured;
  captured = undefined;
  return options;
}
