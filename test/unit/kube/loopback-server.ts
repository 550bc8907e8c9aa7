/**
 * A stand-in API server for the Kubernetes client's unit tests: a `node:http` server on a real loopback
 * socket (127.0.0.1, a free port) answering with the test's handler, counting the TCP connections it
 * accepts so a test can see the client's connection pool at work.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Cluster, User } from "@kubernetes/client-node";
import type { ClusterAccess } from "../../../src/kube/config.ts";

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Cuts every open connection (watches included) and stops listening. */
  close(): Promise<void>;
}

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export async function startLoopbackServer(handle: Handler): Promise<LoopbackServer> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer(handle);
  server.on("connection", (socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the loopback server has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The request body, parsed as JSON. */
export async function jsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

/** A Kubernetes `Status` object, as the API server sends with a refusal. */
export function status(code: number, reason: string, message: string): object {
  return { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message };
}

/** A cluster access pointing at `server` as `user` (no user: anonymous). */
export function accessTo(server: string, user?: Omit<User, "name">): ClusterAccess {
  const cluster: Cluster = { name: "loopback", server, skipTLSVerify: false };
  return {
    getCurrentCluster: () => cluster,
    getCurrentUser: () => (user ? { name: "tester", ...user } : null),
    getCurrentContext: () => "loopback",
  };
}
