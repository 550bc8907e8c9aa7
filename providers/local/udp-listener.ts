/**
 * One UDP listener of the local data plane. Each client `address:port` is a flow: its first datagram
 * picks a target round robin among the healthy ones and opens a socket of its own towards it, so
 * replies can be told apart and sent back to the right client. With ClientIP affinity every flow of one
 * client address goes to the target its last one went to. A flow with no datagram either way for
 * the idle timeout is forgotten. Datagrams from outside the source ranges are dropped.
 *
 * @module
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { ListenerStats } from "./listener-stats.ts";
import type { SourceFilter } from "./source-ranges.ts";
import type { TargetGroup } from "./target-group.ts";

export interface UdpListenerOptions {
  readonly address: string;
  readonly port: number;
  readonly group: TargetGroup;
  readonly stats: ListenerStats;
  readonly allows: () => SourceFilter;
  readonly idleTimeoutMs: number;
}

interface Flow {
  readonly upstream: Socket;
  readonly targetAddress: string;
  readonly targetPort: number;
  readonly idle: ReturnType<typeof setTimeout>;
  readonly end: () => void;
}

export class UdpListener {
  readonly #options: UdpListenerOptions;
  readonly #socket: Socket;
  readonly #flows = new Map<string, Flow>();
  readonly #type: "udp4" | "udp6";

  constructor(options: UdpListenerOptions) {
    this.#options = options;
    this.#type = isIPv6(options.address) ? "udp6" : "udp4";
    this.#socket = createSocket({ type: this.#type });
    this.#socket.on("message", (message, client) => this.#receive(message, client));
  }

  /** Binds `address:port`; rejects with the system error when it cannot. */
  listen(): Promise<void> {
    const { address, port } = this.#options;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#socket.once("error", onError);
      this.#socket.bind({ address, port, exclusive: true }, () => {
        this.#socket.off("error", onError);
        // Send errors (an ICMP unreachable reported late) concern one datagram, not the listener.
        this.#socket.on("error", () => {});
        resolve();
      });
    });
  }

  /** Closes the listener and every flow. */
  close(): void {
    for (const flow of [...this.#flows.values()]) flow.end();
    try {
      this.#socket.close();
    } catch {
      // never bound: nothing to close
    }
  }

  #receive(message: Buffer, client: RemoteInfo): void {
    const { stats } = this.#options;
    const key = `${client.address}|${client.port}`;
    const flow = this.#flows.get(key) ?? this.#startFlow(key, client);
    if (flow === undefined) return;
    flow.idle.refresh();
    stats.bytesIn += message.length;
    flow.upstream.send(message, flow.targetPort, flow.targetAddress);
  }

  #startFlow(key: string, client: RemoteInfo): Flow | undefined {
    const { stats, group } = this.#options;
    if (!this.#options.allows()(client.address)) {
      stats.rejectedBySourceRange++;
      return undefined;
    }
    const target = group.candidates(client.address)[0];
    if (target === undefined) {
      stats.rejectedNoTarget++;
      return undefined;
    }
    group.served(client.address, target);
    const { address: targetAddress, port: targetPort } = target.spec;
    const upstream = createSocket({ type: isIPv6(targetAddress) ? "udp6" : "udp4" });
    upstream.on("error", () => {});
    upstream.on("message", (reply, from) => {
      // Only the target answers for this flow; anything else reaching its ephemeral port is noise.
      if (from.port !== targetPort || from.address !== targetAddress) return;
      const flow = this.#flows.get(key);
      flow?.idle.refresh();
      stats.bytesOut += reply.length;
      this.#socket.send(reply, client.port, client.address);
    });
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(idle);
      detach();
      this.#flows.delete(key);
      stats.active--;
      upstream.close();
    };
    const idle = setTimeout(end, this.#options.idleTimeoutMs);
    idle.unref();
    const detach = group.attach(target, { destroy: end });
    const flow: Flow = { upstream, targetAddress, targetPort, idle, end };
    this.#flows.set(key, flow);
    stats.total++;
    stats.active++;
    return flow;
  }
}
