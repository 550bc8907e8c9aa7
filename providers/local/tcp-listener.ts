/**
 * One TCP listener of the local data plane: accepts on `address:port`, drops clients outside the
 * source ranges at once (reset), and pipes each connection to a target chosen round robin among the
 * healthy ones (or the one the client is pinned to, with ClientIP affinity). Piping keeps backpressure (a slow reader pauses the other side) and half-close (a FIN
 * from one side is passed on while the other direction keeps flowing).
 *
 * A connection that cannot reach its pick is tried on the next eligible target: the client has sent
 * nothing upstream yet (its socket stays paused until a target answers), so the retry is invisible.
 *
 * @module
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import type { ListenerStats } from "./listener-stats.ts";
import type { SourceFilter } from "./source-ranges.ts";
import type { RegisteredTarget, TargetGroup } from "./target-group.ts";

export interface TcpListenerOptions {
  readonly address: string;
  readonly port: number;
  readonly group: TargetGroup;
  readonly stats: ListenerStats;
  /** Read on every connection, so a change of ranges applies to the next one. */
  readonly allows: () => SourceFilter;
  /** How long to wait for a target to accept before trying the next one. */
  readonly connectTimeoutMs: number;
}

export class TcpListener {
  readonly #options: TcpListenerOptions;
  readonly #server: Server;
  readonly #open = new Set<Socket>();

  constructor(options: TcpListenerOptions) {
    this.#options = options;
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) =>
      this.#accept(client),
    );
  }

  /** Binds `address:port`; rejects with the system error (`EACCES`, `EADDRINUSE`...) when it cannot. */
  listen(): Promise<void> {
    const { address, port } = this.#options;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#server.once("error", onError);
      this.#server.listen({ host: address, port, exclusive: true, backlog: 511 }, () => {
        this.#server.off("error", onError);
        // Once listening, an error (a failed accept when out of file descriptors) concerns one client;
        // unhandled, it would take the whole controller down.
        this.#server.on("error", () => {});
        resolve();
      });
    });
  }

  /** Stops accepting and cuts every open connection. */
  close(): void {
    this.#server.close();
    for (const socket of this.#open) socket.destroy();
    this.#open.clear();
  }

  #accept(client: Socket): void {
    const { stats } = this.#options;
    if (!this.#options.allows()(client.remoteAddress)) {
      stats.rejectedBySourceRange++;
      client.resetAndDestroy();
      return;
    }
    stats.total++;
    stats.active++;
    this.#open.add(client);
    client.once("close", () => {
      stats.active--;
      this.#open.delete(client);
    });
    // Until piped, errors (a client reset while connecting upstream) must not crash the process.
    client.on("error", () => client.destroy());
    this.#connectUpstream(client, this.#options.group.candidates(client.remoteAddress));
  }

  #connectUpstream(client: Socket, candidates: RegisteredTarget[]): void {
    const target = candidates.shift();
    if (target === undefined || client.destroyed) {
      if (!client.destroyed) {
        this.#options.stats.rejectedNoTarget++;
        client.resetAndDestroy();
      }
      return;
    }
    const upstream = tcpConnect({
      host: target.spec.address,
      port: target.spec.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    this.#open.add(upstream);
    upstream.once("close", () => this.#open.delete(upstream));
    const timer = setTimeout(() => upstream.destroy(new Error("connect timeout")), this.#options.connectTimeoutMs);
    const onConnectFailed = (): void => {
      clearTimeout(timer);
      upstream.destroy();
      this.#connectUpstream(client, candidates);
    };
    const abandon = (): void => {
      clearTimeout(timer);
      upstream.destroy();
    };
    upstream.once("error", onConnectFailed);
    client.once("close", abandon);
    upstream.once("connect", () => {
      clearTimeout(timer);
      upstream.off("error", onConnectFailed);
      client.off("close", abandon);
      this.#options.group.served(client.remoteAddress, target);
      this.#pipe(client, upstream, target);
    });
  }

  #pipe(client: Socket, upstream: Socket, target: RegisteredTarget): void {
    const { stats, group } = this.#options;
    const detach = group.attach(target, {
      destroy: () => {
        client.destroy();
        upstream.destroy();
      },
    });
    // A clean close of one side needs nothing from the other: piping already passed its FIN on, and
    // destroying would drop bytes still queued for writing. Only a failure cuts both.
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.once("close", (hadError) => {
      detach();
      if (hadError) client.destroy();
    });
    client.once("close", (hadError) => {
      if (hadError) upstream.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("data", (chunk: Buffer) => {
      stats.bytesIn += chunk.length;
    });
    upstream.on("data", (chunk: Buffer) => {
      stats.bytesOut += chunk.length;
    });
  }
}
