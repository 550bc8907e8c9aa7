/**
 * Per-key exponential backoff for failed reconciles: the delay doubles with each consecutive failure of
 * the same key, from `baseMs` up to `maxMs`, with random jitter so that keys failing together (a cloud
 * outage) do not retry in lockstep. One key's failures never slow another key down.
 *
 * @module
 */

/** Backoff bounds. The controller defaults to 5 s doubling to 300 s, as the upstream service controller. */
export interface BackoffOptions {
  /** Delay after the first failure. */
  readonly baseMs: number;
  /** Ceiling the doubling stops at. */
  readonly maxMs: number;
  /**
   * Spread around the nominal delay, as a fraction: 0.2 turns a nominal 10 s into 9-11 s. The result
   * never exceeds `maxMs`. Default 0.2.
   */
  readonly jitter?: number;
  /** Source of randomness in [0, 1); injectable so tests are deterministic. */
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5_000, maxMs: 300_000 };

/** Counts consecutive failures per key and turns them into delays. */
export class ExponentialBackoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #failures = new Map<string, number>();

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(options.baseMs > 0)) throw new RangeError(`backoff baseMs must be > 0, got ${options.baseMs}`);
    if (!(options.maxMs >= options.baseMs)) {
      throw new RangeError(`backoff maxMs must be >= baseMs (${options.baseMs}), got ${options.maxMs}`);
    }
    const jitter = options.jitter ?? 0.2;
    if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`backoff jitter must be in [0, 1), got ${jitter}`);
    this.#baseMs = options.baseMs;
    this.#maxMs = options.maxMs;
    this.#jitter = jitter;
    this.#random = options.random ?? Math.random;
  }

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // Cap the exponent too: 2 ** 1100 is Infinity and would poison the arithmetic below.
    const nominal = Math.min(this.#baseMs * 2 ** Math.min(failures, 60), this.#maxMs);
    const spread = nominal * this.#jitter * (this.#random() * 2 - 1);
    return Math.round(Math.min(nominal + spread, this.#maxMs));
  }

  /** Consecutive failures recorded for `key` since it last succeeded. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The key succeeded (or was given up on): its next failure starts again at `baseMs`. */
  forget(key: string): void {
    this.#failures.delete(key);
  }
}
