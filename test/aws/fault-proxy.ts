/**
 * A loopback HTTP proxy in front of the AWS endpoint that fails a share of the calls passing through
 * it, the ways AWS does:
 *
 * - `throttle`: refused before reaching the endpoint, with the API's own throttling error — ELBv2 (AWS
 *   Query protocol) `400 <ErrorResponse><Error><Code>Throttling</Code>`, EC2 (its own XML)
 *   `503 <Response><Errors><Error><Code>RequestLimitExceeded</Code>`;
 * - `server-error`: refused with a 5xx in the API's format (`InternalFailure` / `ServiceUnavailable`,
 *   EC2 `InternalError` / `Unavailable`);
 * - `lost-answer`: forwarded, done by the endpoint, and then the connection is dropped before the answer
 *   reaches the caller — the caller cannot tell whether it happened.
 *
 * It can also drop every connection (the whole endpoint unreachable) and slow every call down.
 *
 * Decisions come from a seeded generator, one draw per call in arrival order. Calls are told apart by
 * the `Version` of their form body (ELBv2 `2015-12-01`; everything else here is EC2).
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { type ProxyAnswer, type ProxyDecision, startAwsProxy } from "../harness/aws-proxy.ts";
import type { Random } from "./chaos-random.ts";

export type FaultKind = "throttle" | "server-error" | "lost-answer";

/** Chance of each fault per call; the rest pass through. */
export type FaultRates = Readonly<Record<FaultKind, number>>;

export const NO_FAULTS: FaultRates = { throttle: 0, "server-error": 0, "lost-answer": 0 };

export interface FaultCounts {
  readonly calls: number;
  readonly throttle: number;
  readonly "server-error": number;
  readonly "lost-answer": number;
}

/** One call as the proxy saw it arrive. */
export interface ProxiedCall {
  /** `Date.now()` at arrival. */
  readonly at: number;
  /** The form body's `Action`, e.g. `CreateLoadBalancer`. */
  readonly action: string;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to give the controller. */
  readonly endpoint: string;
  /** Replaces the fault rates (e.g. {@link NO_FAULTS} to stop injecting). */
  setRates(rates: FaultRates): void;
  /**
   * Makes the endpoint unreachable (every connection, open or new, is dropped at once) or reachable
   * again: an outage of the whole API, not of single calls.
   */
  setUnreachable(unreachable: boolean): void;
  /** Holds every call this long before passing it on (a slow cloud). */
  setDelayMs(delayMs: number): void;
  /** Every call that reached the proxy while it was reachable, in arrival order. */
  calls(): readonly ProxiedCall[];
  /** Calls seen and faults injected so far. */
  counts(): FaultCounts;
  close(): Promise<void>;
}

const ELBV2_VERSION = "Version=2015-12-01";
const ELBV2_NAMESPACE = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";

/** An ELBv2 error answer, as AWS (Query protocol) sends it. */
export function elbv2Error(code: string, message: string): string {
  return `<ErrorResponse xmlns="${ELBV2_NAMESPACE}"><Error><Type>${code === "Throttling" ? "Sender" : "Receiver"}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function ec2Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
}

/** The answer AWS sends for `kind` on the API the call was for. */
function refusal(kind: "throttle" | "server-error", elbv2: boolean, random: Random): ProxyAnswer {
  if (kind === "throttle")
    return elbv2
      ? { status: 400, body: elbv2Error("Throttling", "Rate exceeded") }
      : { status: 503, body: ec2Error("RequestLimitExceeded", "Request limit exceeded.") };
  const unavailable = random.next() < 0.5;
  if (elbv2)
    return unavailable
      ? { status: 503, body: elbv2Error("ServiceUnavailable", "Service is unavailable.") }
      : { status: 500, body: elbv2Error("InternalFailure", "An internal error occurred.") };
  return unavailable
    ? { status: 503, body: ec2Error("Unavailable", "The server is overloaded.") }
    : { status: 500, body: ec2Error("InternalError", "An internal error has occurred.") };
}

export async function startFaultProxy(target: string, random: Random): Promise<FaultProxy> {
  let rates: FaultRates = NO_FAULTS;
  let unreachable = false;
  let delayMs = 0;
  const counts = { calls: 0, throttle: 0, "server-error": 0, "lost-answer": 0 };
  const timeline: ProxiedCall[] = [];

  const choose = (): FaultKind | undefined => {
    let draw = random.next();
    for (const kind of ["throttle", "server-error", "lost-answer"] as const) {
      if (draw < rates[kind]) return kind;
      draw -= rates[kind];
    }
    return undefined;
  };

  const proxy = await startAwsProxy(target, async (body): Promise<ProxyDecision> => {
    if (unreachable) return "drop";
    timeline.push({ at: Date.now(), action: /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1] ?? "" });
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    counts.calls++;
    const fault = choose();
    if (fault === undefined) return "forward";
    counts[fault]++;
    if (fault === "lost-answer") return "lose-answer";
    return refusal(fault, body.includes(ELBV2_VERSION), random);
  });
  return {
    endpoint: proxy.endpoint,
    setRates(next) {
      rates = next;
    },
    setUnreachable(next) {
      unreachable = next;
      if (next) proxy.dropConnections();
    },
    setDelayMs(next) {
      delayMs = next;
    },
    calls: () => [...timeline],
    counts: () => ({ ...counts }),
    close: () => proxy.close(),
  };
}
