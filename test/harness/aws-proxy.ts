/**
 * A loopback HTTP proxy in front of an AWS endpoint that shows every request's body to a handler before
 * forwarding it unchanged (AWS query-protocol requests — ELBv2, EC2 — are plain form posts; emulators
 * ignore signatures). The handler may instead drop a request (its connection is destroyed, as a
 * network failure would), answer it itself (an error AWS could have sent), or forward it and lose the
 * answer (the endpoint did the work; the caller never hears of it). Tests interrupt controllers and
 * inject faults with it; benchmarks count calls with it.
 *
 * @module
 */
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** An answer the proxy sends itself, without asking the endpoint. */
export interface ProxyAnswer {
  readonly status: number;
  readonly body: string;
}

/** What to do with one request, given its body. */
export type ProxyDecision = "forward" | "drop" | "lose-answer" | ProxyAnswer;

export interface AwsProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to give the client under test. */
  readonly endpoint: string;
  /** Destroys every open connection (kept-alive ones included), as an outage would. */
  dropConnections(): void;
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

/** Starts a proxy in front of `target`, asking `decide` (which may take its time) about each request. */
export async function startAwsProxy(
  target: string,
  decide: (body: string) => ProxyDecision | Promise<ProxyDecision>,
): Promise<AwsProxy> {
  const upstream = new URL(target);
  const server: Server = createServer(async (incoming, outgoing) => {
    const body = await readBody(incoming);
    const decision = await decide(body.toString("utf8"));
    if (decision === "drop") {
      incoming.socket.destroy();
      return;
    }
    if (typeof decision === "object") {
      outgoing.writeHead(decision.status, {
        "content-type": "text/xml",
        "content-length": Buffer.byteLength(decision.body),
      });
      outgoing.end(decision.body);
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
        if (decision === "lose-answer") {
          response.resume();
          response.on("end", () => incoming.socket.destroy());
          return;
        }
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
    dropConnections: () => server.closeAllConnections(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
