/**
 * What `/healthz` and `/readyz` answer, decided from the process's state alone (pure; no I/O).
 *
 * - `/healthz` (liveness): 200 while the process runs its event loop. Losing the Lease already exits
 *   the process, so there is no stuck-leader state for the kubelet to detect.
 * - `/readyz` (readiness): 200 once the controller's informers have synced; 200 too while this replica
 *   is a standby (body `ok: standby`), because a standby is healthy and ready to take over. Were a
 *   standby reported unready, a two-replica Deployment with a `minAvailable: 1` PodDisruptionBudget
 *   would count only the leader as available, so draining the leader's node would block forever and a
 *   rolling update would stall on the standby. 503 while the working controller cannot reach the API
 *   server (its watches are down; it keeps running and resumes them), and while shutting down.
 *
 * @module
 */

/** This replica's part in leader election. `single` means leader election is disabled. */
export type Role = "standby" | "leader" | "single";

/** Mutable state the probes read; owned by the app wiring, which updates it as the process moves on. */
export class ProbeState {
  role: Role = "standby";
  shuttingDown = false;
  /** Whether the controller's informers have synced; replaced once the controller exists. */
  hasSynced: () => boolean = () => false;
  /** Whether the controller's watches are connected to the API server; replaced once the controller exists. */
  apiReachable: () => boolean = () => true;
}

export interface ProbeAnswer {
  readonly status: 200 | 503;
  readonly body: string;
}

export function liveness(): ProbeAnswer {
  return { status: 200, body: "ok" };
}

export function readiness(state: ProbeState): ProbeAnswer {
  if (state.shuttingDown) return { status: 503, body: "shutting down" };
  if (state.role === "standby") return { status: 200, body: "ok: standby" };
  if (!state.hasSynced()) return { status: 503, body: "informers not synced" };
  if (!state.apiReachable()) return { status: 503, body: "cannot reach the API server" };
  return { status: 200, body: `ok: ${state.role}` };
}
