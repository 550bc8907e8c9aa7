/**
 * The processes of the `local-data-plane` benchmark, one role each so the load generator, the proxy and
 * the node stand-in do not share an event loop:
 *
 *   node bench/lib/data-plane-child.ts target <address> <pingPort> <sinkPort>
 *     ping: answers the first byte of a connection with one byte and closes (a request, a response);
 *     sink: reads a connection to its end, then answers `ok` (a bulk upload).
 *   node bench/lib/data-plane-child.ts proxy <pool address> <node address> <listenPort:nodePort>...
 *     the local provider, one listener per pair, forwarding to the node address.
 *
 * Each prints one line `ready <address>` when it listens, and runs until its stdin closes.
 *
 * @module
 */
import { createServer } from "node:net";
import { listener, refOf } from "../../providers/conformance/index.ts";
import { LocalProvider, parseLocalSettings } from "../../providers/local/index.ts";
import type { LoadBalancerSpec } from "../../providers/types.ts";

async function target(address: string, pingPort: number, sinkPort: number): Promise<string> {
  const ping = createServer((socket) => {
    socket.once("data", () => socket.end("."));
    socket.on("error", () => socket.destroy());
  });
  const sink = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("data", () => {});
    socket.on("end", () => socket.end("ok"));
    socket.on("error", () => socket.destroy());
  });
  ping.maxConnections = 10_000;
  await Promise.all([
    new Promise<void>((resolve) => ping.listen({ host: address, port: pingPort, backlog: 4096 }, resolve)),
    new Promise<void>((resolve) => sink.listen({ host: address, port: sinkPort, backlog: 4096 }, resolve)),
  ]);
  return address;
}

async function proxy(pool: string, nodeAddress: string, pairs: readonly string[]): Promise<string> {
  const provider = new LocalProvider({ settings: parseLocalSettings({ addresses: pool }) });
  const spec: LoadBalancerSpec = {
    clusterName: "bench",
    service: { namespace: "bench", name: "data-plane" },
    listeners: pairs.map((pair) => {
      const [port, nodePort] = pair.split(":").map(Number);
      return listener(port as number, nodePort as number);
    }),
    nodes: [{ name: "node-1", addresses: [{ type: "InternalIP", address: nodeAddress }], labels: {} }],
    healthCheck: { kind: "traffic-port", protocol: "TCP" },
    externalTrafficPolicy: "Cluster",
    sourceRanges: [],
    annotations: {},
  };
  const status = await provider.ensureLoadBalancer(spec);
  process.stdin.once("close", () => void provider.ensureLoadBalancerDeleted(refOf(spec)));
  return status.ingress[0]?.ip ?? "?";
}

const [role, ...args] = process.argv.slice(2);
const ready =
  role === "target"
    ? target(args[0] as string, Number(args[1]), Number(args[2]))
    : proxy(args[0] as string, args[1] as string, args.slice(2));
ready.then(
  (address) => {
    process.stdout.write(`ready ${address}\n`);
    process.stdin.resume();
    process.stdin.once("close", () => setTimeout(() => process.exit(0), 100));
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
