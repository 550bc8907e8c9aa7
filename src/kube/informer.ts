/**
 * A list-watch cache that keeps going: it lists a collection in pages, watches from the list's
 * resourceVersion (with bookmarks, so a resumed watch starts from a recent point), watches again from
 * where it was when the server ends a watch, relists only when the server says that point is too old
 * (410 Gone), and after any other failure (an API server restart, a 5xx, a dropped connection)
 * restarts after a jittered backoff from where it was. A stop we asked for is not a failure.
 *
 * Update handlers get the previous version too, which is what lets the controller ignore updates that
 * change nothing it cares about. Each object is held once, trimmed by `trim` as it arrives, and lists
 * are read in pages ({@link listInPages}) so a large collection is never decoded all at once.
 *
 * @module
 */
import { setTimeout as wait } from "node:timers/promises";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.ts";
import type { KubeApi, ObjectList, WatchEvent } from "./api-client.ts";
import { apiStatusCode, describeApiError } from "./api-errors.ts";

/** Callbacks for cache changes. They run synchronously inside the watch; keep them cheap (enqueue a key). */
export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, current: T): void;
  onDelete?(object: T): void;
}

export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** For logs: `services`, `nodes`. */
  readonly name: string;
  readonly api: KubeApi;
  /** The collection's API path, e.g. `/api/v1/services`: listed in pages, then watched. */
  readonly path: string;
  /**
   * Strips an arriving object of what no handler or reader of the cache needs, and returns it (it may
   * change the object in place). It must keep `metadata.name`, `namespace` and `resourceVersion`.
   */
  readonly trim?: (object: T) => T;
  readonly logger: Logger;
  /** First restart delay after a failure; doubles per consecutive failure. Default 1 s. */
  readonly restartBaseMs?: number;
  /** Longest restart delay. Default 30 s. */
  readonly restartMaxMs?: number;
  /** The clock that times a watch (see {@link SHORT_WATCH_MS}); default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A watch the server ends sooner than this without a single event is a failure, as client-go counts
 * it: something between us and the API server is closing watches, and watching again at once would
 * spin.
 */
export const SHORT_WATCH_MS = 1_000;

/** Objects per list page, as client-go's reflector pages. */
export const LIST_PAGE_SIZE = 500;

/** One page of a list call: `limit` objects from the `continue` token on. */
export type ListPage<T> = (page: { limit: number; continue?: string }) => Promise<ObjectList<T>>;

/**
 * The whole collection, read {@link LIST_PAGE_SIZE} objects at a time and each page trimmed before the
 * next is read, so a list of thousands of objects never holds them all decoded and untrimmed at once.
 * The pages are one consistent snapshot (the continue token pins it); its resourceVersion is the list's.
 */
export async function listInPages<T>(
  listPage: ListPage<T>,
  trim: (object: T) => T = (object) => object,
): Promise<{ resourceVersion: string | undefined; items: T[] }> {
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let next: string | undefined;
  do {
    const page = await listPage({ limit: LIST_PAGE_SIZE, ...(next ? { continue: next } : {}) });
    for (const item of page.items) items.push(trim(item));
    resourceVersion ??= page.metadata?.resourceVersion;
    next = page.metadata?.continue || undefined;
  } while (next);
  return { resourceVersion, items };
}

/** `path` listed in pages through `api`; see {@link listInPages}. `signal` cancels the page in flight. */
export function listCollection<T>(
  api: KubeApi,
  path: string,
  trim?: (object: T) => T,
  query: Readonly<Record<string, string>> = {},
  signal?: AbortSignal,
): Promise<{ resourceVersion: string | undefined; items: T[] }> {
  return listInPages<T>(
    (page) => api.get<ObjectList<T>>(path, { query: { ...query, ...page }, ...(signal ? { signal } : {}) }),
    trim,
  );
}

/** How long the server may keep a watch open: 5 to 10 minutes, spread so watches do not end together. */
function watchTimeoutSeconds(): number {
  return 300 + Math.floor(Math.random() * 300);
}

/** The cache key of an object: `namespace/name`, or `/name` for cluster-scoped objects. */
export function cacheKey(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly #options: ResilientInformerOptions<T>;
  readonly #logger: Logger;
  readonly #objects = new Map<string, T>();
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #syncWaiters: Array<() => void> = [];
  /** Aborts the running list/watch loop; set while started. */
  #running: AbortController | undefined;
  #loop: Promise<void> | undefined;
  /** Where the next watch resumes; `undefined` means list first. */
  #resourceVersion: string | undefined;
  #synced = false;
  #failures = 0;
  /** Whether the last list/watch attempt succeeded and nothing has failed since. */
  #connected = false;

  constructor(options: ResilientInformerOptions<T>) {
    this.#options = options;
    this.#logger = options.logger.child({ informer: options.name });
  }

  /** Registers callbacks; call before {@link ResilientInformer.start} to see the initial list as adds. */
  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
  }

  /** Whether the first full list has been loaded. Stays true across restarts (the cache is kept). */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once synced, or `false` if `signal` aborts (or the informer stops) first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (signal?.aborted || !this.#running) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.#synced);
      });
    });
  }

  /**
   * Whether the informer is connected: its last list/watch attempt succeeded and no failure has been
   * reported since. False from a failure until a restart succeeds (the cache meanwhile keeps serving
   * what it had) — what readiness reports as "cannot reach the API server".
   */
  isConnected(): boolean {
    return this.#connected;
  }

  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  list(): IterableIterator<T> {
    return this.#objects.values();
  }

  get size(): number {
    return this.#objects.size;
  }

  /** Starts listing and watching. Failures are retried in the background; this never rejects. */
  start(): void {
    if (this.#running) return;
    const running = new AbortController();
    this.#running = running;
    this.#loop = this.#run(running.signal);
  }

  /** Stops watching; errors caused by the stop are not failures. The cache stays readable. */
  async stop(): Promise<void> {
    const running = this.#running;
    if (!running) return;
    this.#running = undefined;
    this.#connected = false;
    running.abort();
    for (const wake of this.#syncWaiters.splice(0)) wake();
    await this.#loop;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let listing = false;
      try {
        if (this.#resourceVersion === undefined) {
          listing = true;
          await this.#relist(signal);
          listing = false;
        }
        await this.#watch(signal);
      } catch (error) {
        if (signal.aborted) return;
        if (apiStatusCode(error) === 410 && !listing) {
          // The watch's starting point was compacted away: list again, at once.
          this.#resourceVersion = undefined;
          continue;
        }
        await this.#backOff(error, signal);
      }
    }
  }

  /**
   * Replaces the cache with a fresh list, telling handlers what was added, changed and deleted. A stop
   * cancels the list: an API server that hangs must not hold up shutdown, and a list that answers
   * after the stop must not reach the handlers.
   */
  async #relist(signal: AbortSignal): Promise<void> {
    const { resourceVersion, items } = await listCollection<T>(
      this.#options.api,
      this.#options.path,
      this.#options.trim,
      {},
      signal,
    );
    signal.throwIfAborted();
    const listed = new Set<string>();
    for (const item of items) {
      listed.add(cacheKey(item));
      this.#store(item);
    }
    for (const [key, object] of this.#objects) if (!listed.has(key)) this.#deleted(object);
    this.#resourceVersion = resourceVersion;
    this.#reachable();
    if (!this.#synced) {
      this.#synced = true;
      this.#logger.debug({ objects: this.#objects.size }, "informer synced");
      for (const wake of this.#syncWaiters.splice(0)) wake();
    }
  }

  /** One watch from the current resourceVersion, until the server ends it. */
  async #watch(signal: AbortSignal): Promise<void> {
    const now = this.#options.now ?? Date.now;
    const startedAt = now();
    let events = 0;
    await this.#options.api.watch<T>(
      this.#options.path,
      {
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: watchTimeoutSeconds(),
      },
      {
        onOpen: () => this.#reachable(),
        onEvent: (event) => {
          events++;
          this.#apply(event);
        },
      },
      signal,
    );
    if (events === 0 && !signal.aborted && now() - startedAt < SHORT_WATCH_MS) {
      throw new Error(`watch ${this.#options.path}: the API server ended it at once, with no events`);
    }
  }

  #apply(event: WatchEvent<T>): void {
    if (event.type === "ERROR") {
      const status = event.object as { code?: number; message?: string };
      throw Object.assign(new Error(`watch ${this.#options.path}: ${status.message ?? "error event"}`), {
        code: status.code,
        body: status,
      });
    }
    const resourceVersion = event.object.metadata?.resourceVersion;
    if (event.type === "ADDED" || event.type === "MODIFIED") this.#store(this.#trim(event.object));
    else if (event.type === "DELETED") this.#deleted(event.object);
    if (resourceVersion) this.#resourceVersion = resourceVersion;
  }

  #reachable(): void {
    this.#failures = 0;
    this.#connected = true;
  }

  async #backOff(error: unknown, signal: AbortSignal): Promise<void> {
    this.#connected = false;
    const base = this.#options.restartBaseMs ?? 1_000;
    const max = this.#options.restartMaxMs ?? 30_000;
    const nominal = Math.min(base * 2 ** Math.min(this.#failures, 30), max);
    const delayMs = Math.round(nominal * (0.75 + Math.random() * 0.5));
    this.#failures++;
    this.#logger.warn(
      { err: describeApiError(error), failures: this.#failures, retryInMs: delayMs },
      "list/watch failed; restarting",
    );
    // A stop ends the wait early (the abort rejects it; that is not a failure).
    await wait(delayMs, undefined, { signal }).catch(() => undefined);
  }

  #trim(object: T): T {
    return this.#options.trim ? this.#options.trim(object) : object;
  }

  /** Puts a trimmed object in the cache and tells the handlers. */
  #store(object: T): void {
    const key = cacheKey(object);
    const previous = this.#objects.get(key);
    this.#objects.set(key, object);
    for (const handlers of this.#handlers) {
      try {
        if (previous === undefined) handlers.onAdd?.(object);
        else handlers.onUpdate?.(previous, object);
      } catch (error) {
        this.#logger.error({ err: error, key }, "informer handler failed");
      }
    }
  }

  #deleted(object: T): void {
    const key = cacheKey(object);
    const previous = this.#objects.get(key) ?? object;
    this.#objects.delete(key);
    for (const handlers of this.#handlers) {
      try {
        handlers.onDelete?.(previous);
      } catch (error) {
        this.#logger.error({ err: error, key }, "informer handler failed");
      }
    }
  }
}
