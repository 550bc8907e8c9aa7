/**
 * Every benchmark scenario, in the order `npm run bench` runs them.
 *
 * @module
 */
import type { Scenario } from "../lib/scenario.ts";
import { convergence } from "./convergence.ts";
import { createLatency } from "./create-latency.ts";

export const SCENARIOS: readonly Scenario[] = [createLatency, convergence];
