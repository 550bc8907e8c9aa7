/**
 * The loop: informers -> queue -> workers -> {@link reconcileService}.
 *
 * - Service events enqueue a `namespace/name` key when the change can matter (see
 *   `service-filters.ts`); workers re-read the Service from the cache.
 * - Node events that change the eligible node set, or a field a spec carries (addresses, providerID,
 *   labels, zone), mark the node snapshot stale and, after a short quiet period
 *   (`nodeSyncDelayMs`), enqueue every Service that wants a load balancer — once per burst, however
 *   many nodes changed in it. Node events during the initial list are not acted on: the first
 *   reconcile of every Service already sees the full node set.
 * - Every `resyncPeriodMs` every managed Service is re-ensured with a forced provider call, which
 *   repairs drift and, when nothing drifted, makes no mutating cloud call (the provider's contract).
 * - Outcomes map to the queue: success forgets the key's backoff; a provider retry-after requeues after
 *   exactly that delay; invalid input is not requeued (a change to the Service or nodes brings it
 *   back); anything else requeues with per-key exponential backoff.
 * - Stopping: the queue stops handing out keys, in-flight reconciles get `drainTimeoutMs` to finish,
 *   then their provider calls are aborted; informers stop last. When the stop is a lost Lease (the
 *   signal's reason is a `LeadershipLostError`), provider calls are aborted at once: another replica may
 *   already be leading.
 *
 * @module
 */
import type { V1Node, V1Service } from "@kubernetes/client-node";
import type { LoadBalancerProvider } from "../../providers/index.ts";
import { apiClientFor } from "../kube/api-client.ts";
import type { ClusterAccess } from "../kube/config.ts";
import { EventRecorder } from "../kube/event-recorder.ts";
import { ResilientInformer } from "../kube/informer.ts";
import { LeadershipLostError } from "../kube/leader-election.ts";
import { ServiceWriter } from "../kube/service-writer.ts";
import type { Logger } from "../observability/logger.ts";
import type { ControllerMetrics } from "../observability/metrics.ts";
import type { BackoffOptions } from "./backoff.ts";
import { trimNode, trimService } from "./cached-objects.ts";
import { deepEqual } from "./deep-equal.ts";
import { errorMessage } from "./events.ts";
import { fingerprint } from "./fingerprint.ts";
import { eligibleNodeSpec, eligibleNodeSpecs, isNodeEligible } from "./node-eligibility.ts";
import { WorkQueue } from "./queue.ts";
import {
  type NodeSnapshot,
  type ReconcileContext,
  type ReconcileOutcome,
  reconcileService,
  type ServiceMemory,
} from "./reconcile.ts";
import {
  needsCleanup,
  objectKey,
  type ServiceSelection,
  shouldEnqueueAddedService,
  shouldEnqueueUpdatedService,
  wantsLoadBalancer,
} from "./service-filters.ts";

export interface ServiceControllerOptions {
  /** Where the cluster is; see `loadKubeConfig` in `src/kube/config.ts`. */
  readonly kubeConfig: ClusterAccess;
  /** The cloud. The controller never closes it: the caller owns its lifetime. */
  readonly provider: LoadBalancerProvider;
  /** `--cluster-name`, passed to the provider in every ref and spec. */
  readonly clusterName: string;
  /** `--load-balancer-class`; omit to manage class-less Services (cloud-controller-manager mode). */
  readonly loadBalancerClass?: string | undefined;
  /** `--concurrent-service-syncs`: how many Services reconcile at once. */
  readonly workers: number;
  /** `--resync-period`: how often every managed Service is re-ensured; 0 turns it off. */
  readonly resyncPeriodMs: number;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  /** How long in-flight reconciles may run on after stop before their provider calls are aborted. Default 10 000. */
  readonly drainTimeoutMs?: number;
  /** Per-key retry backoff. Default 5 s doubling to 300 s. */
  readonly backoff?: BackoffOptions;
  /** Quiet period that coalesces a burst of node changes into one pass over the Services. Default 1 000. */
  readonly nodeSyncDelayMs?: number;
  /** `source.component` of recorded Events. Default `lb-provisioner`. */
  readonly eventComponent?: string;
  /** `--event-qps`, `--event-burst`: the Event write rate. Default 20 a second, 30 at once. */
  readonly events?: { readonly qps: number; readonly burst: number };
}

export interface ServiceController {
  /**
   * Starts the informers, waits until both caches are synced, runs the workers until `signal` aborts,
   * then drains (see {@link ServiceControllerOptions.drainTimeoutMs}) and stops. Resolves when stopped;
   * rejects only on misuse (running one controller twice at once).
   */
  run(signal: AbortSignal): Promise<void>;
  /** Whether a run's caches are synced and workers are running: the readiness signal. */
  hasSynced(): boolean;
  /**
   * Whether a run's Service and Node watches are connected to the API server. False while it cannot
   * be reached: the workers go on from the caches, and the watches resume (from where they were) when
   * it is back.
   */
  isConnected(): boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

const RESULT_LABEL: Record<ReconcileOutcome["kind"], string> = {
  ensured: "success",
  unchanged: "skipped",
  deleted: "deleted",
  ignored: "skipped",
  invalid: "invalid",
  "retry-after": "retry_after",
  failed: "error",
};

function checkOptions(options: ServiceControllerOptions): void {
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new RangeError(`workers must be a positive integer, got ${options.workers}`);
  }
  if (!(options.resyncPeriodMs >= 0))
    throw new RangeError(`resyncPeriodMs must be >= 0, got ${options.resyncPeriodMs}`);
  if (options.drainTimeoutMs !== undefined && !(options.drainTimeoutMs >= 0)) {
    throw new RangeError(`drainTimeoutMs must be >= 0, got ${options.drainTimeoutMs}`);
  }
  if (options.nodeSyncDelayMs !== undefined && !(options.nodeSyncDelayMs >= 0)) {
    throw new RangeError(`nodeSyncDelayMs must be >= 0, got ${options.nodeSyncDelayMs}`);
  }
  if (options.clusterName === "") throw new RangeError("clusterName must not be empty");
}

class Run {
  readonly #options: ServiceControllerOptions;
  readonly #log: Logger;
  readonly #selection: ServiceSelection;
  readonly #services: ResilientInformer<V1Service>;
  readonly #nodes: ResilientInformer<V1Node>;
  readonly #queue: WorkQueue;
  readonly #recorder: EventRecorder;
  readonly #stopWork = new AbortController();
  readonly #memory = new Map<string, ServiceMemory>();
  /** Keys queued by the resync, whose next reconcile must call the provider. */
  readonly #forced = new Set<string>();
  /** Keys whose load balancer this run last saw ensured (the managed gauge). */
  readonly #managed = new Set<string>();
  /** Keys whose last reconcile did not succeed: failed, invalid, or waiting to retry (the unsynced gauge). */
  readonly #unsynced = new Set<string>();
  readonly #ctx: ReconcileContext;
  #started = false;
  #nodesStale = true;
  #snapshot: NodeSnapshot = { nodes: [], fingerprint: "" };
  #nodeTimer: ReturnType<typeof setTimeout> | undefined;
  #nodeBurstStart: number | undefined;
  #resyncTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ServiceControllerOptions) {
    this.#options = options;
    this.#log = options.logger.child({ controller: "service" });
    this.#selection = { loadBalancerClass: options.loadBalancerClass };
    const api = apiClientFor(options.kubeConfig);
    this.#services = new ResilientInformer<V1Service>({
      name: "services",
      api,
      path: "/api/v1/services",
      trim: trimService,
      logger: this.#log,
    });
    this.#nodes = new ResilientInformer<V1Node>({
      name: "nodes",
      api,
      path: "/api/v1/nodes",
      trim: trimNode,
      logger: this.#log,
    });
    const metrics = options.metrics;
    this.#queue = new WorkQueue({
      ...(options.backoff ? { backoff: options.backoff } : {}),
      onDepthChange: (depth) => metrics.queueDepth.set(depth),
    });
    this.#recorder = new EventRecorder({
      api,
      component: options.eventComponent ?? "lb-provisioner",
      logger: this.#log,
      ...(options.events ? { qps: options.events.qps, writeBurst: options.events.burst } : {}),
      onOutcome: (outcome) => metrics.events.inc({ outcome }),
    });
    this.#ctx = {
      selection: this.#selection,
      clusterName: options.clusterName,
      provider: options.provider,
      getService: (key) => this.#services.get(key),
      getNodes: () => this.#nodeSnapshot(),
      writer: new ServiceWriter(api),
      events: this.#recorder,
      memory: this.#memory,
      signal: this.#stopWork.signal,
      logger: this.#log,
    };
    this.#watchServices();
    this.#watchNodes();
  }

  get started(): boolean {
    return this.#started;
  }

  get connected(): boolean {
    return this.#services.isConnected() && this.#nodes.isConnected();
  }

  async run(signal: AbortSignal): Promise<void> {
    const { workers, resyncPeriodMs } = this.#options;
    this.#services.start();
    this.#nodes.start();
    this.#log.info(
      {
        provider: this.#options.provider.name,
        cluster: this.#options.clusterName,
        class: this.#selection.loadBalancerClass ?? null,
      },
      "waiting for Service and Node caches to sync",
    );
    const synced = (await this.#services.waitForSync(signal)) && (await this.#nodes.waitForSync(signal));
    if (!synced || signal.aborted) {
      await this.#stopInformers();
      return;
    }
    this.#started = true;
    this.#log.info(
      { services: this.#services.size, nodes: this.#nodes.size, workers },
      "caches synced; starting workers",
    );
    const loops = Array.from({ length: workers }, () => this.#worker());
    if (resyncPeriodMs > 0) {
      this.#resyncTimer = setInterval(() => this.#resync(), resyncPeriodMs);
      this.#resyncTimer.unref?.();
    }

    await waitForAbort(signal);
    this.#log.info({ inFlight: this.#queue.processing }, "stopping: taking no new keys, draining in-flight reconciles");
    this.#started = false;
    clearInterval(this.#resyncTimer);
    clearTimeout(this.#nodeTimer);
    this.#queue.shutDown();
    // After losing the Lease another replica may already be leading: stop cloud calls at once rather
    // than drain (every provider call is idempotent, so the new leader converges from wherever we were).
    const drainTimeoutMs = signal.reason instanceof LeadershipLostError ? 0 : (this.#options.drainTimeoutMs ?? 10_000);
    const drained = await Promise.race([
      this.#queue.drained().then(() => true),
      sleep(drainTimeoutMs).then(() => false),
    ]);
    if (!drained) {
      this.#log.warn(
        { inFlight: this.#queue.processing, drainTimeoutMs },
        "drain timed out; aborting in-flight provider calls",
      );
      this.#stopWork.abort(new Error("controller stopped"));
      // A provider that ignores the abort must not keep the process from exiting.
      await Promise.race([Promise.all(loops), sleep(5_000)]);
    } else {
      this.#stopWork.abort(new Error("controller stopped"));
      await Promise.all(loops);
    }
    await this.#stopInformers();
    await Promise.race([this.#recorder.flush({ queued: true }), sleep(2_000)]);
    this.#options.metrics.managedLoadBalancers.set(0);
    this.#options.metrics.unsyncedServices.set(0);
    this.#log.info("stopped");
  }

  async #stopInformers(): Promise<void> {
    await Promise.all([this.#services.stop(), this.#nodes.stop()]);
  }

  #watchServices(): void {
    this.#services.addHandlers({
      onAdd: (service) => {
        if (shouldEnqueueAddedService(service, this.#selection)) this.#queue.add(objectKey(service));
      },
      onUpdate: (previous, current) => {
        if (shouldEnqueueUpdatedService(previous, current, this.#selection)) this.#queue.add(objectKey(current));
      },
      // Only matters when a Service we ensured vanished without our finalizer (see reconcile), or one
      // counted as unsynced: its reconcile finds it gone and stops counting it.
      onDelete: (service) => {
        const key = objectKey(service);
        if (this.#memory.get(key)?.ensured || this.#unsynced.has(key)) this.#queue.add(key);
      },
    });
  }

  #watchNodes(): void {
    this.#nodes.addHandlers({
      onAdd: (node) => {
        if (isNodeEligible(node)) this.#nodesChanged();
      },
      onUpdate: (previous, current) => {
        if (!deepEqual(eligibleNodeSpec(previous), eligibleNodeSpec(current))) this.#nodesChanged();
      },
      onDelete: (node) => {
        if (isNodeEligible(node)) this.#nodesChanged();
      },
    });
  }

  #nodeSnapshot(): NodeSnapshot {
    if (this.#nodesStale) {
      this.#nodesStale = false;
      const nodes = eligibleNodeSpecs(this.#nodes.list());
      this.#snapshot = { nodes, fingerprint: fingerprint(nodes) };
    }
    return this.#snapshot;
  }

  #nodesChanged(): void {
    this.#nodesStale = true;
    if (!this.#started) return;
    const delay = this.#options.nodeSyncDelayMs ?? 1_000;
    const now = Date.now();
    this.#nodeBurstStart ??= now;
    // Trailing quiet period, but a burst that never quiets down is still acted on after 10 periods.
    const wait = Math.max(0, Math.min(delay, this.#nodeBurstStart + 10 * delay - now));
    clearTimeout(this.#nodeTimer);
    this.#nodeTimer = setTimeout(() => this.#syncAfterNodeChange(), wait);
    this.#nodeTimer.unref?.();
  }

  #syncAfterNodeChange(): void {
    this.#nodeTimer = undefined;
    this.#nodeBurstStart = undefined;
    let count = 0;
    for (const service of this.#services.list()) {
      if (!wantsLoadBalancer(service, this.#selection)) continue;
      this.#queue.add(objectKey(service));
      count++;
    }
    this.#log.info(
      { services: count, eligibleNodes: this.#nodeSnapshot().nodes.length },
      "node set changed; updating load balancers",
    );
  }

  #resync(): void {
    let count = 0;
    for (const service of this.#services.list()) {
      if (!wantsLoadBalancer(service, this.#selection) && !needsCleanup(service, this.#selection)) continue;
      const key = objectKey(service);
      this.#forced.add(key);
      this.#queue.add(key);
      count++;
    }
    this.#log.debug({ services: count }, "periodic resync");
  }

  async #worker(): Promise<void> {
    const { metrics } = this.#options;
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      const started = performance.now();
      let outcome: ReconcileOutcome;
      try {
        outcome = await reconcileService(key, this.#ctx, { force: this.#forced.delete(key) });
      } catch (error) {
        this.#log.error({ key, err: errorMessage(error) }, "reconcile threw; retrying with backoff");
        outcome = { kind: "failed", message: errorMessage(error) };
      }
      this.#apply(key, outcome);
      const result = RESULT_LABEL[outcome.kind];
      metrics.reconcileDuration.observe({ result }, (performance.now() - started) / 1000);
      metrics.reconcileTotal.inc({ result });
      metrics.managedLoadBalancers.set(this.#managed.size);
      metrics.unsyncedServices.set(this.#unsynced.size);
      this.#queue.done(key);
    }
  }

  #apply(key: string, outcome: ReconcileOutcome): void {
    const { metrics } = this.#options;
    switch (outcome.kind) {
      case "ensured":
      case "unchanged":
        this.#managed.add(key);
        this.#unsynced.delete(key);
        this.#queue.forget(key);
        return;
      case "deleted":
      case "ignored":
        this.#managed.delete(key);
        this.#unsynced.delete(key);
        this.#queue.forget(key);
        return;
      case "invalid":
        this.#unsynced.add(key);
        this.#queue.forget(key);
        return;
      case "retry-after":
        this.#unsynced.add(key);
        metrics.queueRetries.inc({ kind: "retry_after" });
        this.#queue.addAfter(key, outcome.delayMs);
        return;
      case "failed": {
        this.#unsynced.add(key);
        if (this.#queue.isShuttingDown) return;
        metrics.queueRetries.inc({ kind: "backoff" });
        const delayMs = this.#queue.addRateLimited(key);
        this.#log.info(
          { key, retryInMs: delayMs, attempts: this.#queue.numRequeues(key) },
          "reconcile failed; will retry",
        );
        return;
      }
    }
  }
}

/** Builds the service controller. Nothing starts until {@link ServiceController.run}. */
export function createServiceController(options: ServiceControllerOptions): ServiceController {
  checkOptions(options);
  let current: Run | undefined;
  return {
    async run(signal: AbortSignal): Promise<void> {
      if (current) throw new Error("this service controller is already running");
      current = new Run(options);
      try {
        await current.run(signal);
      } finally {
        current = undefined;
      }
    },
    hasSynced(): boolean {
      return current?.started ?? false;
    },
    isConnected(): boolean {
      return current?.connected ?? false;
    },
  };
}
