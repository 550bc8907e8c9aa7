/**
 * Leader election on a `coordination.k8s.io/v1` Lease, so that of several replicas exactly one
 * reconciles. The protocol is client-go's:
 *
 * - Every `retryPeriodMs` a candidate reads the Lease. Absent: it creates it, holding it. Held by
 *   someone else whose record has not changed for `leaseDurationSeconds` (measured on this machine's
 *   clock, never by comparing clocks across machines), or held by nobody: it takes it over. Every write
 *   is a replace carrying the resourceVersion it read, so of two concurrent writers one gets 409 and
 *   loses.
 * - The leader renews every `retryPeriodMs`. If it cannot renew for `renewDeadlineMs` it has lost the
 *   Lease: the work's signal aborts and {@link runWithLeaderElection} rejects with
 *   {@link LeadershipLostError} once the work has stopped — the process should then exit non-zero.
 * - On shutdown (the caller's signal aborts) the work's signal aborts, the work drains, and the Lease is
 *   released (no holder, `leaseDurationSeconds: 1`), so a standby takes over at its next retry instead
 *   of waiting out the lease.
 *
 * Defaults are the upstream controller-manager's: 15 s lease, 10 s renew deadline, 2 s retry period.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as wait } from "node:timers/promises";
import type { V1ObjectMeta } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.ts";
import { apiClientFor, type KubeApi, namespacedPath } from "./api-client.ts";
import { describeApiError, isConflict, isNotFound } from "./api-errors.ts";
import type { ClusterAccess } from "./config.ts";

export interface LeaderElectionOptions {
  readonly kubeConfig: ClusterAccess;
  /** Namespace of the Lease, e.g. the controller's own (`kube-system` upstream). */
  readonly namespace: string;
  /** Name of the Lease; every replica of one deployment must use the same. */
  readonly name: string;
  /** This candidate's identity, unique per process; defaults to {@link defaultLeaderIdentity}. */
  readonly identity?: string;
  /** How long a Lease stays valid after its last renewal. Default 15 000. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leadership. Default 10 000. */
  readonly renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew. Default 2 000. */
  readonly retryPeriodMs?: number;
  readonly logger: Logger;
  /** Aborting it ends the election: stop the work, release the Lease, resolve. */
  readonly signal: AbortSignal;
  /** Called when this candidate becomes the leader, before `work` starts. */
  readonly onStartedLeading?: (signal: AbortSignal) => void;
  /** Called when leadership ends (lost or released), after `work` has stopped. */
  readonly onStoppedLeading?: () => void;
  /** Set to 1 while leading and 0 otherwise (e.g. the `lbp_leader` gauge). */
  readonly leaderGauge?: { set(value: number): void };
}

/** Leadership was lost while working; the process should exit non-zero and let a standby take over. */
export class LeadershipLostError extends Error {
  override readonly name = "LeadershipLostError";
}

/** `<hostname>_<uuid>`: unique per process, and says which Pod holds the Lease. */
export function defaultLeaderIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/** Waits `ms`, or less if `signal` aborts first; never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return wait(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * `promise`, or `false` if it takes longer than `ms`: a hung API call must not keep a leader that can no
 * longer renew believing it still leads.
 */
async function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(ms, 1));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A `coordination.k8s.io/v1` Lease as the API server sends it (times are MicroTime strings). */
interface Lease {
  metadata?: V1ObjectMeta;
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** A MicroTime as the API server writes it: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

const LEASES_API = "/apis/coordination.k8s.io/v1";

class LeaseLock {
  readonly #api: KubeApi;
  readonly #namespace: string;
  readonly #name: string;
  readonly #identity: string;
  readonly #leaseDurationSeconds: number;
  readonly #logger: Logger;
  /** The last record seen, and when (local clock) it was first seen: a lease expires relative to that. */
  #observedRecord = "";
  #observedAt = 0;

  constructor(api: KubeApi, options: LeaderElectionOptions, identity: string, leaseDurationMs: number) {
    this.#api = api;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#identity = identity;
    this.#leaseDurationSeconds = Math.max(1, Math.ceil(leaseDurationMs / 1000));
    this.#logger = options.logger;
  }

  /** One attempt to become or stay the holder. Never throws: `false` means "not the holder now". */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    let lease: Lease;
    try {
      lease = await this.#api.get<Lease>(this.#path());
    } catch (error) {
      if (isNotFound(error)) return this.#create(now);
      this.#logger.warn({ err: describeApiError(error) }, "could not read the leader Lease");
      return false;
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedAt = now;
    }
    const holder = spec.holderIdentity ?? "";
    const mine = holder === this.#identity;
    const validForMs = (spec.leaseDurationSeconds ?? this.#leaseDurationSeconds) * 1000;
    if (holder !== "" && !mine && this.#observedAt + validForMs > now) return false;

    const stamp = microTime(now);
    const body: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.#identity,
        leaseDurationSeconds: this.#leaseDurationSeconds,
        renewTime: stamp,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : stamp,
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    return this.#replace(body, now);
  }

  /** Gives the Lease up if we hold it, so a standby need not wait for it to expire. */
  async release(): Promise<void> {
    try {
      const lease = await this.#api.get<Lease>(this.#path());
      if (lease.spec?.holderIdentity !== this.#identity) return;
      const stamp = microTime(Date.now());
      const { holderIdentity: _released, ...spec } = lease.spec;
      await this.#api.replace(this.#path(), {
        ...lease,
        spec: { ...spec, leaseDurationSeconds: 1, renewTime: stamp, acquireTime: stamp },
      });
      this.#logger.info({ lease: `${this.#namespace}/${this.#name}` }, "released the leader Lease");
    } catch (error) {
      this.#logger.warn({ err: describeApiError(error) }, "could not release the leader Lease; it will expire");
    }
  }

  async #create(now: number): Promise<boolean> {
    const stamp = microTime(now);
    try {
      const body: Lease = {
        metadata: { name: this.#name, namespace: this.#namespace },
        spec: {
          holderIdentity: this.#identity,
          leaseDurationSeconds: this.#leaseDurationSeconds,
          acquireTime: stamp,
          renewTime: stamp,
          leaseTransitions: 0,
        },
      };
      await this.#api.create(namespacedPath(LEASES_API, "leases", this.#namespace), {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        ...body,
      });
      this.#observedAt = now;
      return true;
    } catch (error) {
      if (!isConflict(error)) this.#logger.warn({ err: describeApiError(error) }, "could not create the leader Lease");
      return false;
    }
  }

  #path(): string {
    return namespacedPath(LEASES_API, "leases", this.#namespace, this.#name);
  }

  async #replace(body: Lease, now: number): Promise<boolean> {
    try {
      const updated = await this.#api.replace<Lease>(this.#path(), body);
      const spec = updated.spec ?? {};
      this.#observedRecord = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
      this.#observedAt = now;
      return true;
    } catch (error) {
      // 409: another candidate wrote first; it holds the Lease now.
      if (!isConflict(error)) this.#logger.warn({ err: describeApiError(error) }, "could not update the leader Lease");
      return false;
    }
  }
}

/**
 * Campaigns for the Lease and runs `work` while holding it.
 *
 * Resolves when `options.signal` aborts (after `work` has returned and the Lease is released), whether
 * or not this candidate ever led. Rejects with {@link LeadershipLostError} when the Lease is lost while
 * leading, and with `work`'s own error if `work` fails (after releasing the Lease).
 */
export async function runWithLeaderElection(
  options: LeaderElectionOptions,
  work: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timingsOf(options);
  const identity = options.identity ?? defaultLeaderIdentity();
  const logger = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity });
  const lock = new LeaseLock(apiClientFor(options.kubeConfig), options, identity, leaseDurationMs);
  const { signal } = options;
  options.leaderGauge?.set(0);

  logger.info("waiting to become the leader");
  await campaign(lock, renewDeadlineMs, retryPeriodMs, signal);
  if (signal.aborted) return;

  logger.info("became the leader");
  options.leaderGauge?.set(1);
  const leading = new AbortController();
  options.onStartedLeading?.(leading.signal);
  let workError: unknown;
  let workEnded = false;
  const running = work(leading.signal).then(
    () => {
      workEnded = true;
    },
    (error: unknown) => {
      workEnded = true;
      workError = error ?? new Error("leader work failed");
    },
  );
  const workEndedSignal = new AbortController();
  void running.then(() => workEndedSignal.abort());
  const stopRenewing = AbortSignal.any([signal, workEndedSignal.signal]);

  const lost = await renewUntilStoppedOrLost(lock, renewDeadlineMs, retryPeriodMs, stopRenewing);

  if (lost) logger.error({ renewDeadlineMs }, "lost the leader Lease; stopping work");
  leading.abort(lost ? new LeadershipLostError("leader Lease lost") : signal.reason);
  await running;
  options.leaderGauge?.set(0);
  if (!lost) await lock.release();
  options.onStoppedLeading?.();
  if (lost) throw new LeadershipLostError(`lost the leader Lease ${options.namespace}/${options.name}`);
  if (workError !== undefined) throw workError;
  if (workEnded && !signal.aborted) logger.warn("leader work ended on its own; released the Lease");
}

interface ElectionTimings {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** The options' timings with client-go's defaults, checked against each other. */
function timingsOf(options: LeaderElectionOptions): ElectionTimings {
  const leaseDurationMs = options.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  if (!(leaseDurationMs > renewDeadlineMs)) {
    throw new RangeError(
      `leader election: lease duration (${leaseDurationMs} ms) must exceed the renew deadline (${renewDeadlineMs} ms)`,
    );
  }
  if (!(renewDeadlineMs > retryPeriodMs)) {
    throw new RangeError(
      `leader election: renew deadline (${renewDeadlineMs} ms) must exceed the retry period (${retryPeriodMs} ms)`,
    );
  }
  return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

/** Tries for the Lease every retry period until it is held or `signal` aborts. */
async function campaign(lock: LeaseLock, renewDeadlineMs: number, retryPeriodMs: number, signal: AbortSignal) {
  while (!signal.aborted) {
    if (await within(lock.tryAcquireOrRenew(), renewDeadlineMs)) return;
    // Jitter keeps candidates that started together from retrying in lockstep.
    await sleep(retryPeriodMs * (1 + Math.random() * 0.2), signal);
  }
}

/**
 * Renews the Lease every retry period until `stop` aborts; resolves `true` when no renewal succeeded
 * for a whole renew deadline (the Lease is lost), `false` when stopped.
 */
async function renewUntilStoppedOrLost(
  lock: LeaseLock,
  renewDeadlineMs: number,
  retryPeriodMs: number,
  stop: AbortSignal,
): Promise<boolean> {
  let lastRenewed = Date.now();
  while (!stop.aborted) {
    await sleep(retryPeriodMs, stop);
    if (stop.aborted) return false;
    const remaining = renewDeadlineMs - (Date.now() - lastRenewed);
    if (await within(lock.tryAcquireOrRenew(), remaining)) {
      lastRenewed = Date.now();
    } else if (Date.now() - lastRenewed >= renewDeadlineMs) {
      return true;
    }
  }
  return false;
}
