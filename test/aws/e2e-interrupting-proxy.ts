/**
 * A loopback HTTP proxy in front of the AWS endpoint that can interrupt the controller at an exact
 * point of provisioning: when armed, the first request whose form body matches (e.g. the
 * `CreateTargetGroup` that follows a `CreateLoadBalancer`) is never forwarded; `onMatch` runs instead
 * (the test SIGKILLs the controller there) and the connection is dropped. Everything else is passed
 * through unchanged (AWS query-protocol requests are plain form posts; emulators ignore signatures).
 *
 * @module
 */
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface InterruptingProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to give the controller. */
  readonly endpoint: string;
  /** The next request whose body satisfies `matches` triggers `onMatch` and is dropped. */
  arm(matches: (body: string) => boolean, onMatch: () => void): void;
  /** Resolves once an armed match has happened. */
  readonly interrupted: () => Promise<void>;
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

export async function startInterruptingProxy(target: string): Promise<InterruptingProxy> {
  const upstream = new URL(target);
  let armed: { matches: (body: string) => boolean; onMatch: () => void } | undefined;
  let signalInterrupted: () => void = () => {};
  let interrupted = new Promise<void>((resolve) => {
    signalInterrupted = resolve;
  });

  const server: Server = createServer(async (incoming, outgoing) => {
    const body = await readBody(incoming);
    if (armed?.matches(body.toString("utf8"))) {
      const { onMatch } = armed;
      armed = undefined;
      onMatch();
      signalInterrupted();
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
    arm(matches, onMatch) {
      interrupted = new Promise<void>((resolve) => {
        signalInterrupted = resolve;
      });
      armed = { matches, onMatch };
    },
    interrupted: () => interrupted,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
