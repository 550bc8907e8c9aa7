/**
 * A loopback HTTP proxy in front of an AWS endpoint that shows every request's body to a handler before
 * forwarding it unchanged (AWS query-protocol requests — ELBv2, EC2 — are plain form posts; emulators
 * ignore signatures). The handler may drop a request instead: its connection is then destroyed, as a
 * network failure would. Tests interrupt controllers with it; benchmarks count calls with it.
 *
 * @module
 */
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What to do with one request, given its body. */
export type ProxyDecision = "forward" | "drop";

export interface AwsProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to give the client under test. */
  readonly endpoint: string;
  close(): Promise<void>;
}

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => resolve(Buffer.concat(chunks)));
    incoming.on("error", reject);
  });
}

/** Starts a proxy in front of `target`, asking `decide` about each request. */
export async function startAwsProxy(target: string, decide: (body: string) => ProxyDecision): Promise<AwsProxy> {
  const upstream = new URL(target);
  const server: Server = createServer(async (incoming, outgoing) => {
    const body = await readBody(incoming);
    if (decide(body.toString("utf8")) === "drop") {
      incoming.socket.destroy();
      return;
    }
    const forwarded = request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    forwarded.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
