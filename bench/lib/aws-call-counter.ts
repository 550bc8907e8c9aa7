/**
 * Counts the AWS API calls a controller makes: a loopback proxy in front of the AWS endpoint that
 * forwards every request unchanged and counts it by its `Action` (ELBv2 and EC2 speak the AWS query
 * protocol: each request is a form post naming its action). Counting on the wire, not through a
 * controller's own reporting, measures any controller the same way, retries included.
 *
 * @module
 */
import { startAwsProxy } from "../../test/harness/aws-proxy.ts";

/** Calls by operation, e.g. `{ DescribeLoadBalancers: 20, CreateLoadBalancer: 20 }`. */
export type CallCounts = Readonly<Record<string, number>>;

export interface AwsCallCounter {
  /** `http://127.0.0.1:<port>`: the endpoint to give the controller. */
  readonly endpoint: string;
  /** Counts since the last {@link take} (or the start). */
  counts(): CallCounts;
  /** Returns the counts so far and starts counting from zero. */
  take(): CallCounts;
  /** When the last mutating call arrived (`performance.now()`), or `undefined` when none yet. */
  readonly lastMutationAt: number | undefined;
  close(): Promise<void>;
}

/** By AWS naming: everything but `Describe*`, `Get*` and `List*` changes something. */
export function isMutating(operation: string): boolean {
  return !/^(Describe|Get|List)/.test(operation);
}

export function totalOf(counts: CallCounts, which: "all" | "reads" | "mutating" = "all"): number {
  let total = 0;
  for (const [operation, count] of Object.entries(counts)) {
    if (which === "all" || (which === "mutating") === isMutating(operation)) total += count;
  }
  return total;
}

/** Starts the counter in front of `target` (e.g. the moto endpoint). */
export async function startAwsCallCounter(target: string): Promise<AwsCallCounter> {
  let counts = new Map<string, number>();
  let lastMutationAt: number | undefined;
  const proxy = await startAwsProxy(target, (body) => {
    const operation = new URLSearchParams(body).get("Action") ?? "(unknown)";
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    if (isMutating(operation)) lastMutationAt = performance.now();
    return "forward";
  });
  return {
    endpoint: proxy.endpoint,
    counts: () => Object.fromEntries(counts),
    take() {
      const taken = Object.fromEntries(counts);
      counts = new Map();
      return taken;
    },
    get lastMutationAt() {
      return lastMutationAt;
    },
    close: () => proxy.close(),
  };
}
