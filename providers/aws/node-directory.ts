/**
 * Maps AWS target ids (instance ids, node IPs of either family) back to Node names, so observed load balancers name their
 * targets as Kubernetes does. Learns from every node the controller shows the provider (ensure specs and
 * `GetOptions.nodes`), because AWS itself cannot know Node names; `listLoadBalancers` has no node list of
 * its own and relies on what was learned. Bounded: the oldest entries go first.
 *
 * @module
 */
import { internalAddressOf } from "../rules/index.ts";
import type { NodeSpec } from "../types.ts";
import { instanceIdOf } from "./model.ts";

const DEFAULT_CAPACITY = 20_000;

export class NodeDirectory {
  readonly #names = new Map<string, string>();
  readonly #capacity: number;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#capacity = capacity;
  }

  /** Remembers the target ids of `nodes` (later calls win). */
  learn(nodes: readonly NodeSpec[]): void {
    for (const node of nodes)
      for (const id of [
        instanceIdOf(node.providerID),
        internalAddressOf(node, "IPv4"),
        internalAddressOf(node, "IPv6"),
      ]) {
        if (id === undefined) continue;
        this.#names.delete(id);
        this.#names.set(id, node.name);
      }
    while (this.#names.size > this.#capacity) {
      const oldest = this.#names.keys().next().value;
      if (oldest === undefined) break;
      this.#names.delete(oldest);
    }
  }

  /** A resolver preferring `nodes` (when given) over what was learned before. */
  resolver(nodes?: readonly NodeSpec[]): (targetId: string) => string | undefined {
    if (nodes === undefined) return (id) => this.#names.get(id);
    const local = new NodeDirectory(Number.POSITIVE_INFINITY);
    local.learn(nodes);
    return (id) => local.#names.get(id) ?? this.#names.get(id);
  }
}
