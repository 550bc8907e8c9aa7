/**
 * Client-side token buckets, so one busy controller cannot use up the account's ELBv2 API budget (shared
 * with every other tool in the account and region; aws-load-balancer-controller#1871, #3167).
 *
 * Reservation style (like Go's `x/time/rate`): a caller takes a token at once, even when that leaves the
 * bucket in debt, and waits until the debt it caused is repaid. Waiters are therefore served in arrival
 * order, and a caller that gives up (abort) returns its token.
 *
 * @module
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import type { RateLimit } from "./operations.ts";

/** Time source, replaceable in tests. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    try {
      await sleepFor(ms, undefined, signal === undefined ? undefined : { signal });
    } catch (error) {
      throw signal?.aborted ? signal.reason : error;
    }
  },
};

export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;

  constructor(limit: RateLimit, clock: Clock = systemClock) {
    if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1))
      throw new RangeError(`rate limit needs ratePerSecond > 0 and burst >= 1, got ${JSON.stringify(limit)}`);
    this.#ratePerMs = limit.ratePerSecond / 1000;
    this.#burst = limit.burst;
    this.#clock = clock;
    this.#tokens = limit.burst;
    this.#updatedAt = clock.now();
  }

  /** Tokens available now (negative while callers are waiting). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes one token, waiting as long as the bucket needs to refill it. */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    try {
      await this.#clock.sleep(-this.#tokens / this.#ratePerMs, signal);
    } catch (error) {
      this.#tokens += 1;
      throw error;
    }
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = now;
  }
}

/** One {@link TokenBucket} per key, created on first use from the limit for that key. */
export class RateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #limitFor: (key: string) => RateLimit;
  readonly #clock: Clock;

  constructor(limitFor: (key: string) => RateLimit, clock: Clock = systemClock) {
    this.#limitFor = limitFor;
    this.#clock = clock;
  }

  take(key: string, signal?: AbortSignal): Promise<void> {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#limitFor(key), this.#clock);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(signal);
  }
}
