/**
 * Probes every node a load balancer forwards to, on a fixed interval, and keeps each probe's health.
 * One monitor per load balancer; listeners that share a probe (same node and port) share its result.
 *
 * @module
 */
import {
  afterProbe,
  type HealthState,
  type HealthStatus,
  type HealthThresholds,
  INITIAL_HEALTH,
} from "./health-state.ts";
import { runProbe } from "./probes.ts";
import type { ProbeSpec } from "./targets.ts";

export interface HealthMonitorOptions extends HealthThresholds {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Called when a probe's status changes (not on every probe). */
  readonly onChange?: (probe: ProbeSpec, status: HealthStatus) => void;
}

interface Watched {
  readonly probe: ProbeSpec;
  state: HealthState;
  running: boolean;
}

export class HealthMonitor {
  readonly #options: HealthMonitorOptions;
  readonly #watched = new Map<string, Watched>();
  readonly #stop = new AbortController();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(options: HealthMonitorOptions) {
    this.#options = options;
    this.#timer = setInterval(() => {
      for (const watched of this.#watched.values()) this.#probe(watched);
    }, options.intervalMs);
    // The data plane's sockets keep the process alive, not its health checks.
    this.#timer.unref();
  }

  /** Probes exactly `probes` from now on; new ones are probed at once, dropped ones are forgotten. */
  watch(probes: readonly ProbeSpec[]): void {
    const keys = new Set(probes.map((p) => p.key));
    for (const key of this.#watched.keys()) if (!keys.has(key)) this.#watched.delete(key);
    for (const probe of probes) {
      if (this.#watched.has(probe.key)) continue;
      const watched: Watched = { probe, state: INITIAL_HEALTH, running: false };
      this.#watched.set(probe.key, watched);
      this.#probe(watched);
    }
  }

  /** The status of the probe with `key`; `initial` for one not (yet) watched. */
  statusOf(key: string): HealthStatus {
    return this.#watched.get(key)?.state.status ?? "initial";
  }

  /** Stops probing and abandons probes in flight. */
  close(): void {
    clearInterval(this.#timer);
    this.#stop.abort();
    this.#watched.clear();
  }

  #probe(watched: Watched): void {
    if (watched.running || this.#stop.signal.aborted) return;
    watched.running = true;
    void runProbe(watched.probe, this.#options.timeoutMs, this.#stop.signal).then((passed) => {
      watched.running = false;
      // Dropped while in flight, or the monitor closed: the result no longer matters.
      if (this.#watched.get(watched.probe.key) !== watched) return;
      const before = watched.state.status;
      watched.state = afterProbe(watched.state, passed, this.#options);
      if (watched.state.status !== before) this.#options.onChange?.(watched.probe, watched.state.status);
    });
  }
}
