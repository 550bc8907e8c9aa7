/**
 * Records core/v1 Events on objects (what `kubectl describe` shows), without flooding the API server:
 *
 * - Aggregation: the same (object, type, reason, message) seen again within `aggregationWindowMs`
 *   increments the existing Event's `count` and `lastTimestamp` by a merge patch instead of creating a
 *   new Event, like client-go's event correlator.
 * - Spam filter: each object has a token bucket (`burst` events, refilled one per `refillIntervalMs`);
 *   events beyond it are dropped and counted in the log.
 *
 * Recording never throws and never blocks the caller: a failure to write an Event is logged and
 * forgotten, since an Event is a courtesy to the user, not part of the reconcile.
 *
 * @module
 */
import { hostname } from "node:os";
import { type CoreV1Api, type CoreV1Event, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.ts";
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
  readonly core: CoreV1Api;
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
  readonly now?: () => number;
}

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

export class EventRecorder implements EventSink {
  readonly #core: CoreV1Api;
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
  #sequence = 0;

  constructor(options: EventRecorderOptions) {
    this.#core = options.core;
    this.#component = options.component;
    this.#instance = options.instance ?? hostname();
    this.#logger = options.logger;
    this.#windowMs = options.aggregationWindowMs ?? 10 * 60_000;
    this.#burst = options.burst ?? 25;
    this.#refillMs = options.refillIntervalMs ?? 5 * 60_000;
    this.#maxTracked = options.maxTracked ?? 4096;
    this.#now = options.now ?? Date.now;
  }

  record(subject: EventSubject, type: EventType, reason: string, message: string): void {
    const text = message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : message;
    const objectKey = `${subject.namespace}/${subject.name}/${subject.uid ?? ""}`;
    if (!this.#takeToken(objectKey)) {
      this.#logger.debug({ object: objectKey, reason }, "event dropped by the spam filter");
      return;
    }
    const key = `${objectKey}\u0000${type}\u0000${reason}\u0000${text}`;
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const write = previous.then(() => this.#write(key, subject, type, reason, text));
    this.#chains.set(key, write);
    this.#inFlight.add(write);
    void write.finally(() => {
      this.#inFlight.delete(write);
      if (this.#chains.get(key) === write) this.#chains.delete(key);
    });
  }

  /** Waits for every write started so far (for shutdown and tests). */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
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

  async #write(key: string, subject: EventSubject, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.#now();
    const existing = this.#aggregates.get(key);
    try {
      if (existing && now - existing.lastSeen < this.#windowMs) {
        existing.count++;
        existing.lastSeen = now;
        this.#touch(key, existing);
        try {
          await this.#core.patchNamespacedEvent(
            {
              name: existing.name,
              namespace: existing.namespace,
              body: { count: existing.count, lastTimestamp: new Date(now).toISOString() },
            },
            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
          );
          return;
        } catch (error) {
          // The Event expired (events have a TTL) or was deleted: start a new one.
          if (!isNotFound(error)) throw error;
        }
      }
      const created = await this.#core.createNamespacedEvent({
        namespace: subject.namespace,
        body: this.#newEvent(subject, type, reason, message, now),
      });
      this.#touch(key, {
        name: created.metadata?.name ?? "",
        namespace: subject.namespace,
        count: created.count ?? 1,
        lastSeen: now,
      });
    } catch (error) {
      this.#aggregates.delete(key);
      this.#logger.warn(
        { err: describeApiError(error), object: `${subject.namespace}/${subject.name}`, reason },
        "could not record event",
      );
    }
  }

  #newEvent(subject: EventSubject, type: EventType, reason: string, message: string, now: number): CoreV1Event {
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
      count: 1,
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
