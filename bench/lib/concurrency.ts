/**
 * Bounded concurrency for bulk API calls: creating 1,000 objects one at a time is needlessly slow, and
 * all at once floods a 2-core machine's apiserver.
 *
 * @module
 */

/** Runs `task` for every item with at most `limit` in flight; resolves with the results in input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs` with `what` in the message. */
export async function pollUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: { readonly timeoutMs: number; readonly intervalMs?: number },
): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
