/**
 * Loopback helpers for the local provider's tests: the sandbox's node stand-ins and requests, and
 * NodeSpecs pointing at them.
 *
 * @module
 */
import type { NodeSpec } from "../../../providers/index.ts";

export * from "../../../sandbox/node-stand-in.ts";

/** A NodeSpec whose InternalIP is `address`. */
export function loopbackNode(name: string, address: string): NodeSpec {
  return {
    name,
    addresses: [
      { type: "InternalIP", address },
      { type: "Hostname", address: name },
    ],
    labels: { "kubernetes.io/hostname": name },
  };
}
