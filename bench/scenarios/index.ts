/**
 * Every benchmark scenario, in the order `npm run bench` runs them.
 *
 * @module
 */
import type { Scenario } from "../lib/scenario.ts";
import { awsCalls } from "./aws-calls.ts";
import { convergence } from "./convergence.ts";
import { createLatency } from "./create-latency.ts";
import { idleRss } from "./idle-rss.ts";
import { localDataPlane } from "./local-data-plane.ts";
import { memory } from "./memory.ts";
import { nodeAdded } from "./node-added.ts";
import { resync } from "./resync.ts";

export const SCENARIOS: readonly Scenario[] = [
  createLatency,
  convergence,
  nodeAdded,
  resync,
  awsCalls,
  memory,
  idleRss,
  localDataPlane,
];
