/**
 * Records core/v1 Events on objects (what `kubectl describe` shows), without flooding the API server:
 *
 * - Aggregation: the same (object, type, reason, message) seen again within `aggregationWindowMs`
 *   increments the existing Event's `count` and `lastTimestamp` by a merge patch instead of creating a
 *   new Event, like client-go's event correlator.
 * - Spam filter: each object has a token bucket (`burst` events, refilled one per `refillIntervalMs`);
 *   events beyond it are dropped.
 * - Write rate: every write (create or count patch) takes a token from one bucket for the whole
 *   recorder (`qps`, `writeBurst`). Events beyond it wait in a bounded queue, where an identical event
 *   joins the one already waiting (its count grows, no second write); a full queue drops the event, or
 *   for a Warning, the oldest waiting Normal one (a failure is what a user must not miss).
 *   So a burst of thousands of Services never puts thousands of writes, and their memory, in flight.
 *
 * Each event's fate is reported to `onOutcome` (the controller counts them in a metric).
 *
 * Recording never throws and never blocks the caller: a failure to write an Event is logged and
 * forgotten, since an Event is a courtesy to the user, not part of the reconcile.
 *
 * @module
 */
import { hostname } from "node:os";
import type { CoreV1Event } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.ts";
import { type KubeApi, namespacedPath } from "./api-client.ts";
import { describeApiError, isNotFound } from "./api-errors.ts";

/** The object an Event is about. */
export interface EventSubject {
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
}

export type EventType = "Normal" | "Warning";

/** What the controller needs from a recorder (a seam for tests of the reconcile logic). */
export interface EventSink {
  record(subject: EventSubject, type: EventType, reason: string, message: string): void;
}

export interface EventRecorderOptions {
  readonly api: KubeApi;
  /** `source.component` / `reportingComponent`, e.g. `service-controller`. */
  readonly component: string;
  /** `reportingInstance` / `source.host`; defaults to the host name. */
  readonly instance?: string;
  readonly logger: Logger;
  /** How long an identical event is folded into the previous one. Default 10 minutes. */
  readonly aggregationWindowMs?: number;
  /** Events an object may get in a burst. Default 25. */
  readonly burst?: number;
  /** One more event is allowed per object every this many ms. Default 5 minutes. */
  readonly refillIntervalMs?: number;
  /** Upper bound on tracked (object, event) pairs, oldest forgotten first. Default 4096. */
  readonly maxTracked?: number;
  /** Event writes per second across all objects. Default {@link DEFAULT_EVENT_QPS}. */
  readonly qps?: number;
  /** Writes allowed at once before `qps` applies. Default {@link DEFAULT_EVENT_BURST}. */
  readonly writeBurst?: number;
  /** Events waiting for the write rate, beyond which new ones are dropped. Default 1024. */
  readonly maxQueued?: number;
  /** Told what became of every recorded event. */
  readonly onOutcome?: (outcome: EventOutcome) => void;
  readonly now?: () => number;
  /** Schedules the next queued write; tests replace it with a fake clock's. */
  readonly setTimer?: (callback: () => void, ms: number) => void;
}

/**
 * What became of one recorded event: `written` (created, or its count patched), `aggregated` (joined an
 * identical event still waiting for the write rate), `dropped-spam` (the object's spam filter),
 * `dropped-rate` (the write queue was full), `failed` (the API server refused or was unreachable).
 */
export type EventOutcome = "written" | "aggregated" | "dropped-spam" | "dropped-rate" | "failed";

/** The cloud-controller-manager's default client rate (`--kube-api-qps`, `--kube-api-burst`), which upstream's Events share. */
export const DEFAULT_EVENT_QPS = 20;
export const DEFAULT_EVENT_BURST = 30;

/** The API server rejects longer messages on core/v1 Events. */
const MAX_MESSAGE_LENGTH = 1024;

interface Aggregate {
  name: string;
  namespace: string;
  count: number;
  lastSeen: number;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

/** An event waiting for the write rate; `count` identical ones folded into it. */
interface Queued {
  readonly key: string;
  readonly subject: EventSubject;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  count: number;
}

export class EventRecorder implements EventSink {
  readonly #api: KubeApi;
  readonly #component: string;
  readonly #instance: string;
  readonly #logger: Logger;
  readonly #windowMs: number;
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  /** Insertion-ordered, so the first entries are the least recently written. */
  readonly #aggregates = new Map<string, Aggregate>();
  readonly #buckets = new Map<string, Bucket>();
  /** Writes for the same aggregate run one after another, so two identical events never both create. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #qps: number;
  readonly #writeBurst: number;
  readonly #maxQueued: number;
  readonly #onOutcome: (outcome: EventOutcome) => void;
  readonly #setTimer: (callback: () => void, ms: number) => void;
  /** Waiting for the write rate, in order, by aggregate key. */
  readonly #queued = new Map<string, Queued>();
  #writeTokens: number;
  #writeTokensAt: number;
  #timerSet = false;
  #sequence = 0;

  constructor(options: EventRecorderOptions) {
    this.#api = options.api;
    this.#component = options.component;
    this.#instance = options.instance ?? hostname();
    this.#logger = options.logger;
    this.#windowMs = options.aggregationWindowMs ?? 10 * 60_000;
    this.#burst = options.burst ?? 25;
    this.#refillMs = options.refillIntervalMs ?? 5 * 60_000;
    this.#maxTracked = options.maxTracked ?? 4096;
    this.#now = options.now ?? Date.now;
    this.#qps = options.qps ?? DEFAULT_EVENT_QPS;
    this.#writeBurst = Math.max(1, options.writeBurst ?? DEFAULT_EVENT_BURST);
    this.#maxQueued = options.maxQueued ?? 1024;
    this.#onOutcome = options.onOutcome ?? (() => {});
    this.#setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms).unref?.());
    if (!(this.#qps > 0)) throw new RangeError(`qps must be > 0, got ${this.#qps}`);
    this.#writeTokens = this.#writeBurst;
    this.#writeTokensAt = this.#now();
  }

  record(subject: EventSubject, type: EventType, reason: string, message: string): void {
    const text = message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : message;
    const objectKey = `${subject.namespace}/${subject.name}/${subject.uid ?? ""}`;
    if (!this.#takeToken(objectKey)) {
      this.#logger.debug({ object: objectKey, reason }, "event dropped by the spam filter");
      this.#onOutcome("dropped-spam");
      return;
    }
    const key = `${objectKey}\u0000${type}\u0000${reason}\u0000${text}`;
    const waiting = this.#queued.get(key);
    if (waiting) {
      waiting.count++;
      this.#onOutcome("aggregated");
      return;
    }
    if (this.#queued.size >= this.#maxQueued && !(type === "Warning" && this.#evictNormal())) {
      this.#logger.debug({ object: objectKey, reason }, "event dropped: too many waiting for the write rate");
      this.#onOutcome("dropped-rate");
      return;
    }
    this.#queued.set(key, { key, subject, type, reason, message: text, count: 1 });
    this.#pump();
  }

  /** Events waiting for the write rate. */
  get queued(): number {
    return this.#queued.size;
  }

  /**
   * Waits for every write started so far (for shutdown and tests), and for the queued ones when
   * `queued` is true (they go out at the write rate).
   */
  async flush(options: { queued?: boolean } = {}): Promise<void> {
    for (;;) {
      if (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      else if (options.queued && this.#queued.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      else return;
    }
  }

  /** Drops the oldest waiting Normal event to make room for a Warning; false when all are Warnings. */
  #evictNormal(): boolean {
    for (const queued of this.#queued.values()) {
      if (queued.type !== "Normal") continue;
      this.#queued.delete(queued.key);
      this.#onOutcome("dropped-rate");
      return true;
    }
    return false;
  }

  /** Starts the queued writes the write rate allows now; sets a timer for the rest. */
  #pump(): void {
    const now = this.#now();
    this.#writeTokens = Math.min(
      this.#writeBurst,
      this.#writeTokens + ((now - this.#writeTokensAt) * this.#qps) / 1000,
    );
    this.#writeTokensAt = now;
    for (const queued of this.#queued.values()) {
      if (this.#writeTokens < 1) break;
      this.#writeTokens--;
      this.#queued.delete(queued.key);
      this.#start(queued);
    }
    if (this.#queued.size === 0 || this.#timerSet) return;
    this.#timerSet = true;
    this.#setTimer(
      () => {
        this.#timerSet = false;
        this.#pump();
      },
      Math.ceil(((1 - this.#writeTokens) * 1000) / this.#qps),
    );
  }

  #start(queued: Queued): void {
    const { key } = queued;
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const write = previous.then(() => this.#write(queued));
    this.#chains.set(key, write);
    this.#inFlight.add(write);
    void write.finally(() => {
      this.#inFlight.delete(write);
      if (this.#chains.get(key) === write) this.#chains.delete(key);
    });
  }

  #takeToken(objectKey: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(objectKey) ?? { tokens: this.#burst, refilledAt: now };
    const refills = Math.floor((now - bucket.refilledAt) / this.#refillMs);
    if (refills > 0) {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + refills);
      bucket.refilledAt += refills * this.#refillMs;
    }
    this.#buckets.delete(objectKey);
    this.#buckets.set(objectKey, bucket);
    this.#trim(this.#buckets);
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  async #write({ key, subject, type, reason, message, count }: Queued): Promise<void> {
    const now = this.#now();
    const existing = this.#aggregates.get(key);
    try {
      if (existing && now - existing.lastSeen < this.#windowMs) {
        existing.count += count;
        existing.lastSeen = now;
        this.#touch(key, existing);
        try {
          await this.#api.patch(
            namespacedPath("/api/v1", "events", existing.namespace, existing.name),
            { count: existing.count, lastTimestamp: new Date(now).toISOString() },
            "merge",
          );
          this.#onOutcome("written");
          return;
        } catch (error) {
          // The Event expired (events have a TTL) or was deleted: start a new one.
          if (!isNotFound(error)) throw error;
        }
      }
      const created = await this.#api.create<CoreV1Event>(
        namespacedPath("/api/v1", "events", subject.namespace),
        this.#newEvent(subject, type, reason, message, now, count),
      );
      this.#touch(key, {
        name: created.metadata?.name ?? "",
        namespace: subject.namespace,
        count: created.count ?? count,
        lastSeen: now,
      });
      this.#onOutcome("written");
    } catch (error) {
      this.#aggregates.delete(key);
      this.#onOutcome("failed");
      this.#logger.warn(
        { err: describeApiError(error), object: `${subject.namespace}/${subject.name}`, reason },
        "could not record event",
      );
    }
  }

  #newEvent(
    subject: EventSubject,
    type: EventType,
    reason: string,
    message: string,
    now: number,
    count: number,
  ): CoreV1Event {
    const timestamp = new Date(now);
    // Unique per recorder and time, like upstream's "<object>.<unix-nanos in hex>".
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.#sequence++ % 1_000_000)).toString(16);
    return {
      metadata: { name: `${subject.name}.${suffix}`, namespace: subject.namespace },
      involvedObject: {
        kind: subject.kind,
        apiVersion: subject.apiVersion,
        namespace: subject.namespace,
        name: subject.name,
        ...(subject.uid ? { uid: subject.uid } : {}),
        ...(subject.resourceVersion ? { resourceVersion: subject.resourceVersion } : {}),
      },
      type,
      reason,
      message,
      count,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: this.#component, host: this.#instance },
      reportingComponent: this.#component,
      reportingInstance: this.#instance,
    };
  }

  #touch(key: string, aggregate: Aggregate): void {
    this.#aggregates.delete(key);
    this.#aggregates.set(key, aggregate);
    this.#trim(this.#aggregates);
  }

  #trim(map: Map<string, unknown>): void {
    while (map.size > this.#maxTracked) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }
}
