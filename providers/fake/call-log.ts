/**
 * What the fake cloud was asked to do: a bounded log of calls plus running counters, so tests can
 * assert "no mutating call" and benchmarks can run millions of calls without the log growing forever.
 *
 * @module
 */
import type { ProviderCall } from "../types.ts";
import type { FakeOperation } from "./operations.ts";

/** One call to the fake cloud. */
export interface FakeCall {
  readonly operation: FakeOperation;
  readonly mutating: boolean;
  /** `namespace/name` of the Service the call was for; absent for calls about no one Service (listing). */
  readonly serviceKey?: string;
  readonly clusterName: string;
  readonly outcome: ProviderCall["outcome"];
  /** Wall-clock time the call finished (`Date.now()`). */
  readonly time: number;
  readonly durationMs: number;
}

/** Calls kept by default; counters keep counting past it. */
export const DEFAULT_CALL_LOG_LIMIT = 100_000;

export class CallLog {
  readonly #limit: number;
  #entries: FakeCall[] = [];
  #counts = new Map<FakeOperation, number>();
  #mutating = 0;
  #reads = 0;

  constructor(limit: number = DEFAULT_CALL_LOG_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`callLogLimit must be a positive integer`);
    this.#limit = limit;
  }

  get entries(): readonly FakeCall[] {
    return this.#entries;
  }

  record(call: FakeCall): void {
    this.#entries.push(call);
    // Trim in batches so recording stays O(1) amortized.
    if (this.#entries.length > this.#limit * 2) this.#entries = this.#entries.slice(-this.#limit);
    this.#counts.set(call.operation, (this.#counts.get(call.operation) ?? 0) + 1);
    if (call.mutating) this.#mutating++;
    else this.#reads++;
  }

  count(operation: FakeOperation): number {
    return this.#counts.get(operation) ?? 0;
  }

  counts(): Partial<Record<FakeOperation, number>> {
    return Object.fromEntries(this.#counts);
  }

  /** Mutating calls since the last reset; for one Service when `serviceKey` is given (scans the log). */
  mutating(serviceKey?: string): number {
    if (serviceKey === undefined) return this.#mutating;
    return this.#entries.filter((call) => call.mutating && call.serviceKey === serviceKey).length;
  }

  reads(serviceKey?: string): number {
    if (serviceKey === undefined) return this.#reads;
    return this.#entries.filter((call) => !call.mutating && call.serviceKey === serviceKey).length;
  }

  reset(): void {
    this.#entries = [];
    this.#counts = new Map();
    this.#mutating = 0;
    this.#reads = 0;
  }
}
