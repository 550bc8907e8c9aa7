/**
 * `sessionAffinity: ClientIP` in the local data plane: the target each client address last went to,
 * kept while the client keeps coming back within the timeout (measured from its latest connection or
 * UDP flow, as kube-proxy measures it). Keys are client addresses, not ports, so every connection and
 * flow of one client lands on the same node while that node can take it.
 *
 * @module
 */

interface Pin {
  readonly targetId: string;
  lastSeenMs: number;
}

/** Expired pins are swept after this many new ones, so a stream of one-off clients cannot grow the map forever. */
const SWEEP_EVERY = 1024;

export class ClientAffinity {
  readonly timeoutMs: number;
  readonly #now: () => number;
  readonly #pins = new Map<string, Pin>();
  #sinceSweep = 0;

  constructor(timeoutMs: number, now: () => number = Date.now) {
    this.timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** The target `client` is pinned to, if its pin has not expired. */
  pinned(client: string): string | undefined {
    const pin = this.#pins.get(client);
    if (pin === undefined) return undefined;
    if (this.#now() - pin.lastSeenMs > this.timeoutMs) {
      this.#pins.delete(client);
      return undefined;
    }
    return pin.targetId;
  }

  /** `client` went to `targetId` just now: pins it there, or keeps the pin fresh. */
  remember(client: string, targetId: string): void {
    const now = this.#now();
    const pin = this.#pins.get(client);
    if (pin !== undefined && pin.targetId === targetId) {
      pin.lastSeenMs = now;
      return;
    }
    this.#pins.set(client, { targetId, lastSeenMs: now });
    if (++this.#sinceSweep >= SWEEP_EVERY) this.#sweep(now);
  }

  /** Number of pins held (expired ones included until swept). */
  get size(): number {
    return this.#pins.size;
  }

  #sweep(now: number): void {
    this.#sinceSweep = 0;
    for (const [client, pin] of this.#pins) if (now - pin.lastSeenMs > this.timeoutMs) this.#pins.delete(client);
  }
}
