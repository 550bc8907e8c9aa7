/**
 * Runs tasks one at a time per key and concurrently across keys: calls for one Service never
 * interleave, while different Services proceed in parallel. Shared by the built-in providers.
 *
 * @module
 */
export class KeyedSerializer {
  readonly #tails = new Map<string, Promise<void>>();

  /** Number of keys with a task running or waiting. */
  get activeKeys(): number {
    return this.#tails.size;
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    let release = (): void => {};
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous === undefined ? current : previous.then(() => current);
    this.#tails.set(key, tail);
    try {
      if (previous !== undefined) await previous;
      return await task();
    } finally {
      release();
      // Only the last task in the chain removes the key, so the map holds busy keys only.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
