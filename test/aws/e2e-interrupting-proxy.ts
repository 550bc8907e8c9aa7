/**
 * A loopback HTTP proxy in front of the AWS endpoint that can interrupt the controller at an exact
 * point of provisioning: when armed, the first request whose form body matches (e.g. the
 * `CreateTargetGroup` that follows a `CreateLoadBalancer`) is never forwarded; `onMatch` runs instead
 * (the test SIGKILLs the controller there) and the connection is dropped. Everything else is passed
 * through unchanged (see `test/harness/aws-proxy.ts`).
 *
 * @module
 */
import { startAwsProxy } from "../harness/aws-proxy.ts";

export interface InterruptingProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to give the controller. */
  readonly endpoint: string;
  /** The next request whose body satisfies `matches` triggers `onMatch` and is dropped. */
  arm(matches: (body: string) => boolean, onMatch: () => void): void;
  /** Resolves once an armed match has happened. */
  readonly interrupted: () => Promise<void>;
  close(): Promise<void>;
}

export async function startInterruptingProxy(target: string): Promise<InterruptingProxy> {
  let armed: { matches: (body: string) => boolean; onMatch: () => void } | undefined;
  let signalInterrupted: () => void = () => {};
  let interrupted = new Promise<void>((resolve) => {
    signalInterrupted = resolve;
  });

  const proxy = await startAwsProxy(target, (body) => {
    if (!armed?.matches(body)) return "forward";
    const { onMatch } = armed;
    armed = undefined;
    onMatch();
    signalInterrupted();
    return "drop";
  });
  return {
    endpoint: proxy.endpoint,
    arm(matches, onMatch) {
      interrupted = new Promise<void>((resolve) => {
        signalInterrupted = resolve;
      });
      armed = { matches, onMatch };
    },
    interrupted: () => interrupted,
    close: () => proxy.close(),
  };
}
