/**
 * What this process last knew of each Service's resources: the state a successful reconcile left, when
 * it was recorded, and when its listeners, targets and attributes were last read from AWS. A node change
 * or a periodic resync compares with the record (and the inventory) instead of reading all of it again;
 * a reconcile that fails drops its Service's record, so the next one reads afresh. In memory only: a new
 * process starts without records and reads everything, so nothing kept here can make it wrong.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { LoadBalancerRef } from "../types.ts";
import type { RecordedState } from "./known-state.ts";
import type { Clock } from "./rate-limit.ts";

export interface ServiceRecord {
  readonly state: RecordedState;
  /** When the record last changed (the clock's milliseconds). */
  readonly recordedAt: number;
  /** When listeners, targets and attributes were last read from AWS rather than written. */
  readonly detailReadAt: number;
}

/** Distinct target id lists kept for sharing; a few, because the node set rarely has many versions at once. */
const SHARED_ID_LISTS = 16;

export class ServiceRecords {
  readonly #clock: Clock;
  readonly #detailMaxAgeMs: number;
  readonly #records = new Map<string, ServiceRecord>();
  readonly #idLists = new Map<string, readonly string[]>();

  /**
   * `detailMaxAgeMs`: how long listeners, targets and attributes may go unread; each Service's actual
   * bound is spread over the second half of it, so Services created together are not all read again
   * in the same resync.
   */
  constructor(clock: Clock, detailMaxAgeMs: number) {
    this.#clock = clock;
    this.#detailMaxAgeMs = detailMaxAgeMs;
  }

  /** The record of `ref`, unless its detail is due to be read again. */
  current(ref: LoadBalancerRef): ServiceRecord | undefined {
    const key = keyOf(ref);
    const record = this.#records.get(key);
    if (record === undefined) return undefined;
    const spread = 0.5 + 0.5 * fractionOf(key);
    return this.#clock.now() - record.detailReadAt < this.#detailMaxAgeMs * spread ? record : undefined;
  }

  /** Records `state`; `readAt` when its detail was read from AWS (as of the reconcile's start), else kept. */
  set(ref: LoadBalancerRef, state: RecordedState, readAt: number | "kept"): void {
    const key = keyOf(ref);
    const detailReadAt = readAt === "kept" ? (this.#records.get(key)?.detailReadAt ?? 0) : readAt;
    this.#records.set(key, { state, recordedAt: this.#clock.now(), detailReadAt });
  }

  drop(ref: LoadBalancerRef): void {
    this.#records.delete(keyOf(ref));
  }

  /** One shared array per distinct list of target ids, so thousands of target groups keep one copy. */
  readonly internIds = (ids: readonly string[]): readonly string[] => {
    const key = ids.join("\n");
    const shared = this.#idLists.get(key);
    if (shared !== undefined) {
      this.#idLists.delete(key);
      this.#idLists.set(key, shared);
      return shared;
    }
    this.#idLists.set(key, ids);
    while (this.#idLists.size > SHARED_ID_LISTS) {
      const oldest = this.#idLists.keys().next().value;
      if (oldest === undefined) break;
      this.#idLists.delete(oldest);
    }
    return ids;
  };
}

function keyOf(ref: LoadBalancerRef): string {
  return JSON.stringify([ref.clusterName, ref.service.namespace, ref.service.name]);
}

/** A stable number in [0, 1) per Service. */
function fractionOf(key: string): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) / 2 ** 32;
}
