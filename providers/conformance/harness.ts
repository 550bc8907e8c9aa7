/**
 * The state one conformance case runs with: recorded calls, call listeners, and the refs it created,
 * which {@link CaseRun.cleanup} deletes whether the case passed or not.
 *
 * @module
 */
import type { LoadBalancerProvider, LoadBalancerRef, NodeSpec, ProviderCall } from "../types.ts";
import type { CaseHarness } from "./cases.ts";
import { conformanceSpec, refOf } from "./specs.ts";

export interface CaseRunOptions {
  readonly provider: LoadBalancerProvider;
  readonly nodes: readonly NodeSpec[];
  readonly clusterName: string;
  readonly namespace: string;
  /** Absent when the provider offers no way to delete behind its back. */
  readonly deleteOutOfBand: ((ref: LoadBalancerRef) => Promise<void> | void) | undefined;
  /** Marks the running test skipped; must throw. */
  readonly skip: (reason: string) => never;
}

export interface CaseRun {
  readonly harness: CaseHarness;
  /** Feeds one reported call to the case; wire the provider's `onCall` here. */
  record(call: ProviderCall): void;
  /** Deletes every load balancer the case built a spec for. */
  cleanup(): Promise<void>;
}

export function startCaseRun(options: CaseRunOptions): CaseRun {
  const { provider, clusterName, namespace, skip } = options;
  const pool = [...options.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const refs = new Map<string, LoadBalancerRef>();
  // Every version of every node a spec of this case mentioned, so getLoadBalancer can map targets back
  // to nodes whichever address they were registered by.
  const knownNodes = new Map<string, NodeSpec>();
  const remember = (node: NodeSpec) => knownNodes.set(JSON.stringify([node.name, node.addresses]), node);
  pool.forEach(remember);
  let calls: ProviderCall[] = [];
  let listeners: ((call: ProviderCall) => void)[] = [];

  const harness: CaseHarness = {
    provider,
    clusterName,
    namespace,
    nodes: pool,
    get calls() {
      return calls;
    },
    resetCalls: () => {
      calls = [];
    },
    onCall: (listener) => {
      listeners.push(listener);
    },
    spec: (input) => {
      const spec = conformanceSpec({ clusterName, namespace, nodes: pool.slice(0, 3), ...input });
      refs.set(JSON.stringify([spec.clusterName, spec.service.namespace, spec.service.name]), refOf(spec));
      spec.nodes.forEach(remember);
      return spec;
    },
    get: (ref) => provider.getLoadBalancer(ref, { nodes: [...knownNodes.values()] }),
    deleteOutOfBand: async (ref) => {
      if (options.deleteOutOfBand === undefined) return skip("no deleteOutOfBand hook was given");
      await options.deleteOutOfBand(ref);
    },
    skip,
  };

  return {
    harness,
    record: (call) => {
      calls.push(call);
      for (const listener of listeners) listener(call);
    },
    cleanup: async () => {
      listeners = [];
      await Promise.all([...refs.values()].map((ref) => provider.ensureLoadBalancerDeleted(ref)));
    },
  };
}
