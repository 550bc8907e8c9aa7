/**
 * A list-watch cache that keeps going. `makeInformer` from the client relists on 410 Gone but stops for
 * good on any other error (an API server restart, a 5xx, a dropped connection); this wrapper restarts
 * it after a jittered backoff, resumes the watch from the last resourceVersion (relisting only when the
 * server says that is too old), and tells a stop we asked for apart from a failure.
 *
 * It also keeps its own view of the objects so update handlers get the previous version too, which is
 * what lets the controller ignore updates that change nothing it cares about. Both views hold the same
 * objects, trimmed in place by `trim` as they arrive, so each object is held once and small; lists are
 * read in pages ({@link listInPages}) so a large collection is never decoded all at once.
 *
 * @module
 */
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.ts";
import { describeApiError } from "./api-errors.ts";

/** Callbacks for cache changes. They run synchronously inside the watch; keep them cheap (enqueue a key). */
export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, current: T): void;
  onDelete?(object: T): void;
}

export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** For logs: `services`, `nodes`. */
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  /** The collection's API path, e.g. `/api/v1/services`. */
  readonly path: string;
  /** Lists the collection (the initial list and every relist); see {@link listInPages}. */
  readonly list: () => Promise<KubernetesListObject<T>>;
  /**
   * Strips an arriving object, in place, of what no handler or reader of the cache needs, and returns
   * it. In place, because the client's own list-watch cache holds the same object. It must keep
   * `metadata.name`, `namespace` and `resourceVersion`.
   */
  readonly trim?: (object: T) => T;
  readonly logger: Logger;
  /** First restart delay after a failure; doubles per consecutive failure. Default 1 s. */
  readonly restartBaseMs?: number;
  /** Longest restart delay. Default 30 s. */
  readonly restartMaxMs?: number;
}

/** Objects per list page, as client-go's reflector pages. */
export const LIST_PAGE_SIZE = 500;

/** One page of a list call: `limit` objects from `continueToken` on. */
export type ListPage<T extends KubernetesObject> = (page: {
  limit: number;
  _continue?: string;
}) => Promise<KubernetesListObject<T>>;

/**
 * The whole collection, read {@link LIST_PAGE_SIZE} objects at a time and each page trimmed before the
 * next is read, so a list of thousands of objects never holds them all decoded and untrimmed at once.
 * The pages are one consistent snapshot (the continue token pins it); its resourceVersion is the list's.
 */
export async function listInPages<T extends KubernetesObject>(
  listPage: ListPage<T>,
  trim: (object: T) => T = (object) => object,
): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let next: string | undefined;
  do {
    const page = await listPage({ limit: LIST_PAGE_SIZE, ...(next ? { _continue: next } : {}) });
    for (const item of page.items) items.push(trim(item));
    resourceVersion ??= page.metadata?.resourceVersion;
    next = page.metadata?._continue || undefined;
  } while (next);
  return { apiVersion: "v1", kind: "List", metadata: { ...(resourceVersion ? { resourceVersion } : {}) }, items };
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
  #informer: ReturnType<typeof makeInformer<T>> | undefined;
  #synced = false;
  #stopping = false;
  #failures = 0;
  #attemptFailed = false;
  /** Whether the last list/watch attempt succeeded and nothing has failed since. */
  #connected = false;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;

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
    if (signal?.aborted || this.#stopping) return Promise.resolve(false);
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
    if (this.#informer) return;
    this.#stopping = false;
    const informer = makeInformer<T>(this.#options.kubeConfig, this.#options.path, this.#options.list);
    informer.on("add", (object) => this.#added(object));
    informer.on("update", (object) => this.#added(object));
    informer.on("delete", (object) => this.#deleted(object));
    informer.on("error", (error) => this.#failed(error));
    this.#informer = informer;
    void this.#attempt();
  }

  /** Stops watching; errors caused by the stop are not failures. The cache stays readable. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#connected = false;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    for (const wake of this.#syncWaiters.splice(0)) wake();
    await this.#informer?.stop();
    this.#informer = undefined;
  }

  async #attempt(): Promise<void> {
    const informer = this.#informer;
    if (!informer || this.#stopping) return;
    this.#attemptFailed = false;
    try {
      // Resolves once the list (when one is needed) is loaded and the watch is open — or after an error
      // has been reported through the "error" callback.
      await informer.start();
    } catch (error) {
      this.#failed(error);
      return;
    }
    if (this.#attemptFailed || this.#stopping) return;
    this.#failures = 0;
    this.#connected = true;
    if (!this.#synced) {
      this.#synced = true;
      this.#logger.debug({ objects: this.#objects.size }, "informer synced");
      for (const wake of this.#syncWaiters.splice(0)) wake();
    }
  }

  #failed(error: unknown): void {
    // Stopping aborts the watch request, which the client reports as an error.
    if (this.#stopping) return;
    this.#attemptFailed = true;
    this.#connected = false;
    if (this.#restartTimer) return; // a restart is already scheduled
    const base = this.#options.restartBaseMs ?? 1_000;
    const max = this.#options.restartMaxMs ?? 30_000;
    const nominal = Math.min(base * 2 ** Math.min(this.#failures, 30), max);
    const delayMs = Math.round(nominal * (0.75 + Math.random() * 0.5));
    this.#failures++;
    this.#logger.warn(
      { err: describeApiError(error), failures: this.#failures, retryInMs: delayMs },
      "list/watch failed; restarting",
    );
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      void this.#attempt();
    }, delayMs);
    this.#restartTimer.unref?.();
  }

  #added(object: T): void {
    this.#options.trim?.(object);
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
