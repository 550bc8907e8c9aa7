/**
 * Waiting for something that happens asynchronously (an informer event, a controller's status patch),
 * with a deadline that turns "never happened" into a failure that says what was awaited. Deadlines here
 * bound a hang; they assert nothing about speed.
 *
 * @module
 */

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** What is awaited, for the failure message ("Service default/x to get an ingress"). */
  readonly description: string;
  /** Default 30 s. */
  readonly timeoutMs?: number;
  /** Default 100 ms. */
  readonly intervalMs?: number;
}

/**
 * Calls `check` until it returns something other than `undefined` or `false`, and resolves to that.
 * A throwing `check` counts as "not yet"; its last error is quoted if the deadline passes.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitForOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError === undefined ? "" : `; last error: ${String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${options.description}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
