/**
 * What a user of the cluster sees: a watch on the benchmark namespace's Services that records, per
 * Service, when the apiserver first delivered it and when it first delivered it with an address in
 * `status.loadBalancer.ingress`. Times are `performance.now()` in this process, comparable with the
 * times create calls return.
 *
 * @module
 */
import { CoreV1Api, type KubeConfig, type V1Service, Watch } from "@kubernetes/client-node";
import { pollUntil } from "./concurrency.ts";
import { BENCH_NAMESPACE } from "./objects.ts";

export class AddressWatch {
  readonly #kubeConfig: KubeConfig;
  readonly #seen = new Map<string, number>();
  readonly #addressed = new Map<string, number>();
  readonly #finalized = new Map<string, number>();
  readonly #waiters = new Map<string, (at: number) => void>();
  #resourceVersion = "";
  #abort: AbortController | undefined;
  #stopped = false;
  #expired = false;
  #restarts = 0;
  #modified = 0;

  private constructor(kubeConfig: KubeConfig) {
    this.#kubeConfig = kubeConfig;
  }

  /** Lists the namespace (recording what is already addressed) and starts watching from there. */
  static async start(kubeConfig: KubeConfig): Promise<AddressWatch> {
    const watch = new AddressWatch(kubeConfig);
    await watch.#list();
    await watch.#watch();
    return watch;
  }

  /** Services delivered with an address so far. */
  get addressedCount(): number {
    return this.#addressed.size;
  }

  /** MODIFIED events delivered so far: every write to a Service (finalizer, status, spec) is one. */
  get modifiedEvents(): number {
    return this.#modified;
  }

  /** Times the watch had to be reopened (the client closes idle watches after 30 s). */
  get restarts(): number {
    return this.#restarts;
  }

  /** When `name` was first delivered at all (its ADDED event), if it was. */
  seenAt(name: string): number | undefined {
    return this.#seen.get(name);
  }

  /** When `name` was first delivered carrying a finalizer (the controller's first write), if it was. */
  finalizedAt(name: string): number | undefined {
    return this.#finalized.get(name);
  }

  /** When `name` was first delivered with an address, if it was. */
  addressedAt(name: string): number | undefined {
    return this.#addressed.get(name);
  }

  /** Resolves with the time `name` was first delivered with an address. */
  waitForAddress(name: string, timeoutMs = 60_000): Promise<number> {
    const at = this.#addressed.get(name);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(name);
        reject(new Error(`Service ${BENCH_NAMESPACE}/${name} got no address within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(name, (time) => {
        clearTimeout(timer);
        resolve(time);
      });
    });
  }

  /** Resolves once `count` Services have been delivered with an address. */
  waitForCount(count: number, timeoutMs: number): Promise<void> {
    return pollUntil(
      `${count} Services to get an address (have ${this.addressedCount})`,
      () => this.addressedCount >= count,
      {
        timeoutMs,
        intervalMs: 5,
      },
    );
  }

  /** Resolves once `quietMs` pass without a MODIFIED event (no Service written). */
  waitForNoWrites(quietMs: number, timeoutMs: number): Promise<void> {
    let modified = this.#modified;
    let quietSince = performance.now();
    return pollUntil(
      `${quietMs} ms without a Service write`,
      () => {
        if (this.#modified !== modified) {
          modified = this.#modified;
          quietSince = performance.now();
        }
        return performance.now() - quietSince >= quietMs;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }

  #observe(service: V1Service, at: number): void {
    const name = service.metadata?.name;
    if (!name) return;
    if (!this.#seen.has(name)) this.#seen.set(name, at);
    if ((service.metadata?.finalizers?.length ?? 0) > 0 && !this.#finalized.has(name)) this.#finalized.set(name, at);
    if ((service.status?.loadBalancer?.ingress?.length ?? 0) === 0 || this.#addressed.has(name)) return;
    this.#addressed.set(name, at);
    const waiter = this.#waiters.get(name);
    if (waiter) {
      this.#waiters.delete(name);
      waiter(at);
    }
  }

  async #list(): Promise<void> {
    const list = await this.#kubeConfig.makeApiClient(CoreV1Api).listNamespacedService({ namespace: BENCH_NAMESPACE });
    const at = performance.now();
    for (const service of list.items) this.#observe(service, at);
    this.#resourceVersion = list.metadata?.resourceVersion ?? "";
  }

  async #watch(): Promise<void> {
    this.#abort = await new Watch(this.#kubeConfig).watch(
      `/api/v1/namespaces/${BENCH_NAMESPACE}/services`,
      { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true },
      (type, object: V1Service) => {
        const at = performance.now();
        if (object.metadata?.resourceVersion) this.#resourceVersion = object.metadata.resourceVersion;
        if (type === "MODIFIED") this.#modified++;
        if (type === "ADDED" || type === "MODIFIED") this.#observe(object, at);
        // The server ends a watch whose resourceVersion is too old with an ERROR event (410 Gone).
        if (type === "ERROR") this.#expired = true;
      },
      () => void this.#reopen(),
    );
  }

  async #reopen(): Promise<void> {
    if (this.#stopped) return;
    this.#restarts++;
    try {
      // A closed idle watch resumes where it was; an expired resourceVersion needs a fresh list.
      if (this.#expired) {
        this.#expired = false;
        await this.#list();
      }
      await this.#watch();
    } catch (reopenError) {
      if (!this.#stopped) process.emitWarning(`benchmark Service watch could not reopen: ${String(reopenError)}`);
    }
  }
}
