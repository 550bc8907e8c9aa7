/**
 * The provider conformance suite, `lb-provisioner/providers/conformance`: the vitest cases every
 * provider must pass, plus the spec builders and neutral assertions they use.
 *
 * ```ts
 * import { describeProviderConformance, exampleNodes } from "lb-provisioner/providers/conformance";
 * import createProvider from "../src/index.ts";
 *
 * describeProviderConformance({
 *   name: "my-cloud",
 *   create: async ({ onCall }) => ({
 *     provider: await createProvider({ clusterName: "conformance", logger: console, onCall, settings: {} }),
 *     nodes: exampleNodes(5),
 *   }),
 * });
 * ```
 *
 * @module
 */
export {
  type CaseHarness,
  type CaseSpecInput,
  CONFORMANCE_CASES,
  type ConformanceCase,
  type ForeignResource,
} from "./cases.ts";
export { expectAddress, expectConverged, expectSameRef } from "./expectations.ts";
export {
  type CaseOutcome,
  type ConformanceContext,
  type ConformanceOptions,
  type ConformanceSetup,
  runConformanceCases,
} from "./harness.ts";
export {
  CONFORMANCE_NAMESPACE,
  type ConformanceSpecInput,
  conformanceSpec,
  deepFreeze,
  exampleNodes,
  listener,
  refOf,
  SEED_LISTENER,
  withInternalIP,
} from "./specs.ts";
export { describeProviderConformance } from "./suite.ts";
