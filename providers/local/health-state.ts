/**
 * A target's health as a small state machine, the way a network load balancer judges it: a target
 * starts `initial`, becomes `healthy` after `healthyThreshold` passed probes in a row and `unhealthy`
 * after `unhealthyThreshold` failed ones in a row. Pure.
 *
 * @module
 */

export type HealthStatus = "initial" | "healthy" | "unhealthy";

export interface HealthState {
  readonly status: HealthStatus;
  /** Passed probes in a row (0 after a failure). */
  readonly passes: number;
  /** Failed probes in a row (0 after a pass). */
  readonly failures: number;
}

export interface HealthThresholds {
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export const INITIAL_HEALTH: HealthState = Object.freeze({ status: "initial", passes: 0, failures: 0 });

/** The state after one probe. */
export function afterProbe(state: HealthState, passed: boolean, thresholds: HealthThresholds): HealthState {
  if (passed) {
    const passes = state.passes + 1;
    const status = passes >= thresholds.healthyThreshold ? "healthy" : state.status;
    return { status, passes, failures: 0 };
  }
  const failures = state.failures + 1;
  const status = failures >= thresholds.unhealthyThreshold ? "unhealthy" : state.status;
  return { status, passes: 0, failures };
}
