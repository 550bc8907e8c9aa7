/**
 * Fault injection for the fake cloud: scripted failures, seeded random failures, and latency.
 * Deterministic by construction: the only randomness is a seeded generator.
 *
 * @module
 */
import { ThrottledError, TransientError } from "../errors.ts";
import type { FakeOperation } from "./operations.ts";

/** An error to fail a call with, or a function making a fresh one per failure. */
export type FakeFailure = Error | ((operation: FakeOperation) => Error);

/** Which operations a fault applies to: one, several, or every one (`"*"`). */
export type FakeOperationMatch = FakeOperation | readonly FakeOperation[] | "*";

export interface RandomFailureOptions {
  /** Chance, from 0 to 1, that a matching call fails. */
  readonly probability: number;
  /** Seed of the generator, so a failing run can be replayed. Default 1. */
  readonly seed?: number;
  /** Default `"*"`. */
  readonly operations?: FakeOperationMatch;
  /** Default: a {@link TransientError}. */
  readonly error?: FakeFailure;
}

interface ScriptedFailure {
  readonly match: FakeOperationMatch;
  remaining: number;
  readonly failure: FakeFailure;
}

interface RandomFailure {
  readonly match: FakeOperationMatch;
  readonly probability: number;
  readonly next: () => number;
  readonly failure: FakeFailure;
}

export const injectedTransient: FakeFailure = (operation) =>
  new TransientError(`${operation} failed: injected transient failure`);

export const injectedThrottle: FakeFailure = (operation) =>
  new ThrottledError(`${operation} failed: rate exceeded (injected throttling)`);

export class FaultInjector {
  #scripted: ScriptedFailure[] = [];
  #random: RandomFailure | undefined;
  #latencyMs = 0;
  readonly #latencyByOperation = new Map<FakeOperation, number>();

  failNext(match: FakeOperationMatch, count: number, failure: FakeFailure): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    this.#scripted.push({ match, remaining: count, failure });
  }

  failRandomly(options: RandomFailureOptions): void {
    const { probability } = options;
    if (!(probability >= 0 && probability <= 1)) {
      throw new RangeError(`probability must be between 0 and 1, got ${probability}`);
    }
    this.#random = {
      match: options.operations ?? "*",
      probability,
      next: mulberry32(options.seed ?? 1),
      failure: options.error ?? injectedTransient,
    };
  }

  setLatency(ms: number, operation?: FakeOperation): void {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`latency must be a non-negative number, got ${ms}`);
    if (operation === undefined) this.#latencyMs = ms;
    else this.#latencyByOperation.set(operation, ms);
  }

  latencyOf(operation: FakeOperation): number {
    return this.#latencyByOperation.get(operation) ?? this.#latencyMs;
  }

  /** Removes every scripted and random failure and all latency. */
  clear(): void {
    this.#scripted = [];
    this.#random = undefined;
    this.#latencyMs = 0;
    this.#latencyByOperation.clear();
  }

  /** The error this call of `operation` must fail with, consuming a scripted failure; else undefined. */
  take(operation: FakeOperation): Error | undefined {
    const index = this.#scripted.findIndex((rule) => matches(rule.match, operation));
    const scripted = this.#scripted[index];
    if (scripted !== undefined) {
      scripted.remaining--;
      if (scripted.remaining === 0) this.#scripted.splice(index, 1);
      return make(scripted.failure, operation);
    }
    const random = this.#random;
    if (random !== undefined && matches(random.match, operation) && random.next() < random.probability) {
      return make(random.failure, operation);
    }
    return undefined;
  }
}

function matches(match: FakeOperationMatch, operation: FakeOperation): boolean {
  if (match === "*") return true;
  return typeof match === "string" ? match === operation : match.includes(operation);
}

function make(failure: FakeFailure, operation: FakeOperation): Error {
  return typeof failure === "function" ? failure(operation) : failure;
}

/** A small, well-distributed 32-bit generator; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits `ms`, rejecting with the signal's reason as soon as it aborts. */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
