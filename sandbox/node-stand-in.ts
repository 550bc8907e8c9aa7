/**
 * Node stand-ins for the local provider (the demo, its tests and the data-plane benchmark): HTTP servers
 * on a node's address and nodePort that answer with the node's name, as kube-proxy plus a pod would;
 * plain HTTP requests (a fresh connection each, optionally from a chosen source address) and their
 * spread over nodes; and whether this process may listen on ports below 1024.
 *
 * @module
 */
import { createServer, request, type Server } from "node:http";
import { connect, createServer as createTcpServer } from "node:net";

/** An HTTP server on `address:port` answering every request with `name`; `/healthz` answers `healthz`. */
export interface NodeStandIn {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Status `/healthz` answers with (kube-proxy's healthCheckNodePort: 200 with a local endpoint, else 503). */
  healthz: number;
  stop(): Promise<void>;
}

function listen(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts a stand-in for node `name` on `address:port`. */
export async function startStandIn(name: string, address: string, port: number): Promise<NodeStandIn> {
  const standIn: NodeStandIn = {
    name,
    address,
    port,
    healthz: 200,
    stop: () => stopServer(server),
  };
  const server = createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(standIn.healthz).end("healthz");
      return;
    }
    res.end(name);
  });
  await listen(server, address, port);
  return standIn;
}

/** Whether this process may listen on a port below 1024 (root, CAP_NET_BIND_SERVICE, or a low sysctl). */
export function canBindPrivilegedPorts(address = "127.0.0.1"): Promise<boolean> {
  const server = createTcpServer();
  return new Promise((resolve) => {
    // Taken by someone else still means the privilege check passed.
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE"));
    server.listen(1023, address, () => server.close(() => resolve(true)));
  });
}

/** GET `http://address:port/path` with a fresh connection, optionally from `localAddress`; resolves the body. */
export function httpGet(address: string, port: number, options: { localAddress?: string; path?: string } = {}) {
  return new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: address,
        port,
        path: options.path ?? "/",
        agent: false,
        headers: { connection: "close" },
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        timeout: 5_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve(body));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${address}:${port} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** The answers of `count` sequential requests, tallied by body. */
export async function spread(
  address: string,
  port: number,
  count: number,
  options: { localAddress?: string } = {},
): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const body = await httpGet(address, port, options);
    tally[body] = (tally[body] ?? 0) + 1;
  }
  return tally;
}

/** Whether `address:port` accepts a TCP connection. */
export function answers(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    socket.setTimeout(2_000, () => socket.destroy(new Error("timeout")));
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
