/**
 * Free TCP ports on the loopback interface, for the embedded processes to listen on.
 *
 * The kernel picks a port that is free right now; another process may still take it before the child
 * binds it. Launchers detect that race from the child's log and retry with new ports.
 *
 * @module
 */
import { createServer } from "node:net";

/** Resolves to a TCP port that was free on 127.0.0.1 at the time of the call. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("the kernel did not assign a port"))));
    });
  });
}

/** Distinct free ports, `count` of them (never the same port twice in one call). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freeLoopbackPort());
  return [...ports];
}
