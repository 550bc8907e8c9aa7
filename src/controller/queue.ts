/**
 * The work queue between the informers and the workers, with client-go's workqueue semantics:
 *
 * - It holds keys (`namespace/name`), never objects: a worker re-reads the current object when it gets
 *   the key, so a burst of updates to one Service costs one reconcile.
 * - A key waiting in the queue is there once, however often it is added.
 * - A key is never handed to two workers at once. Added while a worker has it, it is queued again when
 *   that worker calls {@link WorkQueue.done}, so the change that caused the add is not lost.
 * - Failed keys come back after a per-key exponential backoff ({@link WorkQueue.addRateLimited}); a
 *   provider's retry-after comes back after exactly that delay ({@link WorkQueue.addAfter}).
 * - {@link WorkQueue.shutDown} stops handing out keys at once (queued keys are dropped: the next leader
 *   or process relists everything); {@link WorkQueue.drained} then waits for the keys already handed out.
 *
 * @module
 */
import { type BackoffOptions, DEFAULT_BACKOFF, ExponentialBackoff } from "./backoff.ts";

export interface WorkQueueOptions {
  /** Backoff for {@link WorkQueue.addRateLimited}; defaults to 5 s doubling to 300 s. */
  readonly backoff?: BackoffOptions;
  /** Called whenever the number of keys ready to be handed out changes (for the depth gauge). */
  readonly onDepthChange?: (depth: number) => void;
}

/** A FIFO of string keys with O(1) push and shift, so tens of thousands of keys stay cheap. */
class Fifo {
  #items: string[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(key: string): void {
    this.#items.push(key);
  }

  shift(): string | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const key = this.#items[this.#head++];
    // Compact once the consumed prefix dominates, keeping memory proportional to the live length.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return key;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

export class WorkQueue {
  readonly #ready = new Fifo();
  /** Keys that need processing: waiting in `#ready`, or added again while being processed. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** Keys waiting out a delay, with the time they become ready; the earliest request wins. */
  readonly #delayed = new Map<string, { readyAt: number; timer: ReturnType<typeof setTimeout> }>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #drainWaiters: Array<() => void> = [];
  readonly #backoff: ExponentialBackoff;
  readonly #onDepthChange: ((depth: number) => void) | undefined;
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#backoff = new ExponentialBackoff(options.backoff ?? DEFAULT_BACKOFF);
    this.#onDepthChange = options.onDepthChange;
  }

  /** Keys ready to be handed out (not counting keys being processed or waiting out a delay). */
  get depth(): number {
    return this.#ready.length;
  }

  /** Keys handed to a worker and not yet {@link WorkQueue.done}. */
  get processing(): number {
    return this.#processing.size;
  }

  /** Keys waiting out a backoff or retry-after delay. */
  get delayed(): number {
    return this.#delayed.size;
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Queues `key` now. No-op if it is already waiting, or after shutdown. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // re-queued by done()
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#handOut(key);
      waiter(key);
      return;
    }
    this.#ready.push(key);
    this.#depthChanged();
  }

  /**
   * Queues `key` after `delayMs`. If the key already waits for a delay, the earlier of the two wins, so a
   * fast retry is never postponed by a slower one. A plain {@link WorkQueue.add} in the meantime queues
   * it at once (the pending delay then only re-adds it if it is not waiting already).
   */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = Date.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending && pending.readyAt <= readyAt) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    // A pending retry must not keep a shutting-down process alive.
    timer.unref?.();
    this.#delayed.set(key, { readyAt, timer });
  }

  /** Queues `key` after its next backoff delay (5 s, 10 s, 20 s ... 300 s) and returns that delay. */
  addRateLimited(key: string): number {
    const delayMs = this.#backoff.next(key);
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** Clears `key`'s failure count: call it when the key succeeded or will not be retried. */
  forget(key: string): void {
    this.#backoff.forget(key);
  }

  /** Consecutive {@link WorkQueue.addRateLimited} calls for `key` since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#backoff.failures(key);
  }

  /**
   * The next key to process; waits while the queue is empty. Resolves `undefined` once the queue is
   * shut down: the worker should exit. The caller must call {@link WorkQueue.done} with the key.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#ready.shift();
    if (key !== undefined) {
      this.#handOut(key);
      this.#depthChanged();
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, queues it again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shuttingDown) {
      this.#dirty.delete(key);
      this.add(key);
    }
    if (this.#processing.size === 0) {
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
  }

  /**
   * Stops handing out keys: pending and future {@link WorkQueue.get} calls resolve `undefined`, queued
   * and delayed keys are dropped, and adds are ignored. Keys already handed out stay in flight until
   * their {@link WorkQueue.done}.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#ready.clear();
    this.#dirty.clear();
    for (const resolve of this.#waiters.splice(0)) resolve(undefined);
    this.#depthChanged();
  }

  /** Resolves once no key is being processed. */
  drained(): Promise<void> {
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #handOut(key: string): void {
    this.#dirty.delete(key);
    this.#processing.add(key);
  }

  #depthChanged(): void {
    this.#onDepthChange?.(this.#ready.length);
  }
}
