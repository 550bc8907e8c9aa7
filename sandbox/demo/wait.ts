/**
 * Polling until something the controller does asynchronously has happened, with a deadline that turns
 * "never happened" into an error naming what was awaited, and an abort signal for Ctrl-C.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";

/** What was awaited never happened in time. */
export class DemoTimeoutError extends Error {
  override readonly name = "DemoTimeoutError";
}

export interface UntilOptions {
  /** "the Service to get an address": completes "timed out after 60 s waiting for ...". */
  readonly what: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Default 100 ms. */
  readonly intervalMs?: number;
}

/**
 * Calls `check` until it returns something other than `undefined`, and resolves to that. A throwing
 * check counts as "not yet" (the API may be briefly unavailable); its last error is quoted on timeout.
 */
export async function until<T>(check: () => Promise<T | undefined>, options: UntilOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
      throw new DemoTimeoutError(
        `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}${detail}`,
      );
    }
    await sleep(options.intervalMs ?? 100, undefined, options.signal ? { signal: options.signal } : {});
  }
}
