/**
 * Running conformance cases against one provider, with or without vitest's `describe`: the options an
 * author gives, the provider created once for every case, and the state of one case (recorded calls,
 * the refs it built specs for, the providers and foreign resources it made), which is cleaned up whether
 * the case passed or not.
 *
 * `describeProviderConformance` (suite.ts) registers each case as a test; {@link runConformanceCases}
 * runs them in a loop and returns each outcome, which is how the suite's own tests prove that every
 * case fails the providers it exists to catch.
 *
 * @module
 */
import { expect } from "vitest";
import type { LoadBalancerProvider, LoadBalancerRef, NodeSpec, ProviderCall } from "../types.ts";
import { CASES, type CaseHarness, CONFORMANCE_CASES, type ConformanceCase, type ForeignResource } from "./cases.ts";
import { CONFORMANCE_NAMESPACE, conformanceSpec, refOf } from "./specs.ts";

/** Handed to {@link ConformanceOptions.create}: wire `onCall` into the provider so calls can be counted. */
export interface ConformanceContext {
  readonly onCall: (call: ProviderCall) => void;
}

/** What {@link ConformanceOptions.create} returns. */
export interface ConformanceSetup<P extends LoadBalancerProvider = LoadBalancerProvider> {
  readonly provider: P;
  /** A pool of at least five eligible nodes the provider can target (real instances for a real cloud). */
  readonly nodes: readonly NodeSpec[];
  /** Cluster the suite's load balancers belong to. Default `conformance`. */
  readonly clusterName?: string;
  /** Runs once after every case; releases what `create` made. Default: `provider.close()`, if any. */
  readonly teardown?: () => Promise<void>;
}

export interface ConformanceOptions<P extends LoadBalancerProvider = LoadBalancerProvider> {
  /** Shown in the `describe` title. */
  readonly name: string;
  /** Creates the provider once for all cases. It must report its cloud calls through `ctx.onCall`. */
  readonly create: (ctx: ConformanceContext) => Promise<ConformanceSetup<P>> | ConformanceSetup<P>;
  /**
   * Deletes a load balancer behind the provider's back (as an operator in the cloud console would).
   * Without it `recreates-after-out-of-band-deletion` is skipped, saying so.
   */
  readonly deleteOutOfBand?: (ref: LoadBalancerRef, setup: ConformanceSetup<P>) => Promise<void> | void;
  /**
   * Creates a second provider over the same cloud, as the controller does when its process restarts (pass
   * `ctx.onCall` to it too); the suite closes it. Without it `same-ref-after-restart` is skipped, saying so.
   */
  readonly restart?: (
    ctx: ConformanceContext,
    setup: ConformanceSetup<P>,
  ) => Promise<LoadBalancerProvider> | LoadBalancerProvider;
  /**
   * Puts a resource this provider did not make where `ref`'s load balancer would go (the cloud name the
   * provider would use, without its ownership tags), as another tool or cluster might. Without it
   * `leaves-foreign-resources-alone` is skipped, saying so.
   */
  readonly occupy?: (ref: LoadBalancerRef, setup: ConformanceSetup<P>) => Promise<ForeignResource> | ForeignResource;
  /** Cases this provider knowingly cannot pass, each with the reason shown in the skipped test's title. */
  readonly skip?: Partial<Record<ConformanceCase, string>>;
  /** Per-case (and setup) timeout; vitest's default when absent. Real clouds need minutes. */
  readonly timeoutMs?: number;
  /** Namespace of the suite's Services. Default `lbp-conformance`. */
  readonly namespace?: string;
  /**
   * An address the provider can give a load balancer when `spec.loadBalancerIP` asks for it (e.g. one
   * from its pool). Needed by `load-balancer-ip` when the provider declares `loadBalancerIP: "honoured"`;
   * without it that case is skipped, saying so.
   */
  readonly loadBalancerIP?: string;
}

const MIN_NODES = 5;
const DEFAULT_CLUSTER_NAME = "conformance";

/** The hook each hook-dependent case needs; without it the case is skipped before it runs. */
const HOOK_OF_CASE = {
  "recreates-after-out-of-band-deletion": "deleteOutOfBand",
  "same-ref-after-restart": "restart",
  "leaves-foreign-resources-alone": "occupy",
} as const satisfies Partial<Record<ConformanceCase, keyof ConformanceOptions>>;

/**
 * The cases `options` skips, by name, with their reasons: the ones it names (each must be a known case
 * with a written reason) and the ones whose hook it does not give.
 *
 * @throws {Error} for an unknown case name or an empty reason.
 */
export function checkedSkips<P extends LoadBalancerProvider>(
  options: ConformanceOptions<P>,
): Map<ConformanceCase, string> {
  const skips = new Map<ConformanceCase, string>();
  for (const [name, reason] of Object.entries(options.skip ?? {})) {
    if (!(CONFORMANCE_CASES as readonly string[]).includes(name)) {
      throw new Error(
        `describeProviderConformance(${options.name}): skip names unknown case "${name}"; cases are ${CONFORMANCE_CASES.join(", ")}`,
      );
    }
    if (typeof reason !== "string" || reason.trim() === "") {
      throw new Error(`describeProviderConformance(${options.name}): skip["${name}"] needs a written reason`);
    }
    skips.set(name as ConformanceCase, reason.trim());
  }
  for (const [name, hook] of Object.entries(HOOK_OF_CASE) as [ConformanceCase, keyof ConformanceOptions][]) {
    if (options[hook] === undefined && !skips.has(name)) skips.set(name, `no ${hook} hook was given`);
  }
  return skips;
}

/** A case's run-time skip: marks the case skipped with `reason`, and never returns. */
export type SkipCase = (reason: string) => never;

/** The provider under test: created once, every case run against it in turn, then closed. */
export class ProviderUnderTest<P extends LoadBalancerProvider = LoadBalancerProvider> {
  readonly #options: ConformanceOptions<P>;
  readonly #setup: ConformanceSetup<P>;
  readonly #context: ConformanceContext;
  readonly #current: { run: CaseRun | undefined };

  private constructor(
    options: ConformanceOptions<P>,
    setup: ConformanceSetup<P>,
    context: ConformanceContext,
    current: { run: CaseRun | undefined },
  ) {
    this.#options = options;
    this.#setup = setup;
    this.#context = context;
    this.#current = current;
  }

  /** Calls `options.create` and checks what it returned. */
  static async create<P extends LoadBalancerProvider>(options: ConformanceOptions<P>): Promise<ProviderUnderTest<P>> {
    // Calls are routed to whichever case is running; calls between cases (cleanup) are not counted.
    const current: { run: CaseRun | undefined } = { run: undefined };
    const context: ConformanceContext = { onCall: (call) => current.run?.record(call) };
    const setup = await options.create(context);
    if (setup.nodes.length < MIN_NODES) {
      throw new Error(
        `describeProviderConformance(${options.name}): create() returned ${setup.nodes.length} nodes; the suite needs at least ${MIN_NODES}`,
      );
    }
    return new ProviderUnderTest(options, setup, context, current);
  }

  /** Runs one case and then deletes everything it made; rejects with the case's failure, if any. */
  async runCase(name: ConformanceCase, skip: SkipCase): Promise<void> {
    const setup = this.#setup;
    const { deleteOutOfBand, restart, occupy } = this.#options;
    const run = startCaseRun({
      provider: setup.provider,
      nodes: setup.nodes,
      clusterName: setup.clusterName ?? DEFAULT_CLUSTER_NAME,
      namespace: this.#options.namespace ?? CONFORMANCE_NAMESPACE,
      deleteOutOfBand: deleteOutOfBand && ((ref) => deleteOutOfBand(ref, setup)),
      restart: restart && (() => restart(this.#context, setup)),
      occupy: occupy && ((ref) => occupy(ref, setup)),
      skip,
      loadBalancerIP: this.#options.loadBalancerIP,
    });
    this.#current.run = run;
    let failed = true;
    try {
      await CASES[name](run.harness);
      failed = false;
    } finally {
      this.#current.run = undefined;
      // A cleanup failure after a failed case would hide why the case failed; the case's error wins.
      await run.cleanup().catch((error: unknown) => {
        if (!failed) throw error;
      });
    }
  }

  /** Releases what `create` made: `teardown`, or else `provider.close()`. */
  async close(): Promise<void> {
    if (this.#setup.teardown !== undefined) await this.#setup.teardown();
    else await this.#setup.provider.close?.();
  }
}

/** How one case ended when run by {@link runConformanceCases}. */
export interface CaseOutcome {
  readonly name: ConformanceCase;
  readonly status: "passed" | "failed" | "skipped";
  /** The failure's message, or the reason for a skip. */
  readonly message?: string;
}

class CaseSkipped extends Error {
  override readonly name = "CaseSkipped";
}

/**
 * Runs `cases` (default: all) against the provider `options` creates, one after another, exactly as
 * `describeProviderConformance` would, and returns how each ended instead of registering tests.
 * Rejects only when the provider cannot be created or closed.
 */
export async function runConformanceCases<P extends LoadBalancerProvider>(
  options: ConformanceOptions<P>,
  cases: readonly ConformanceCase[] = CONFORMANCE_CASES,
): Promise<CaseOutcome[]> {
  const skips = checkedSkips(options);
  const underTest = await ProviderUnderTest.create(options);
  const outcomes: CaseOutcome[] = [];
  try {
    for (const name of cases) {
      const reason = skips.get(name);
      if (reason !== undefined) {
        outcomes.push({ name, status: "skipped", message: reason });
        continue;
      }
      try {
        await underTest.runCase(name, (note) => {
          throw new CaseSkipped(note);
        });
        outcomes.push({ name, status: "passed" });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcomes.push({ name, status: error instanceof CaseSkipped ? "skipped" : "failed", message });
      }
    }
  } finally {
    await underTest.close();
  }
  return outcomes;
}

interface CaseRunOptions {
  readonly provider: LoadBalancerProvider;
  readonly nodes: readonly NodeSpec[];
  readonly clusterName: string;
  readonly namespace: string;
  /** Each hook is absent when the options do not give it. */
  readonly deleteOutOfBand: ((ref: LoadBalancerRef) => Promise<void> | void) | undefined;
  readonly restart: (() => Promise<LoadBalancerProvider> | LoadBalancerProvider) | undefined;
  readonly occupy: ((ref: LoadBalancerRef) => Promise<ForeignResource> | ForeignResource) | undefined;
  readonly skip: SkipCase;
  readonly loadBalancerIP: string | undefined;
}

interface CaseRun {
  readonly harness: CaseHarness;
  /** Feeds one reported call to the case; wire the provider's `onCall` here. */
  record(call: ProviderCall): void;
  /** Deletes every load balancer the case built a spec for, then what `occupy` and `restart` made. */
  cleanup(): Promise<void>;
}

function startCaseRun(options: CaseRunOptions): CaseRun {
  const { provider, clusterName, namespace, skip } = options;
  const pool = [...options.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const refs = new Map<string, LoadBalancerRef>();
  const restarted: LoadBalancerProvider[] = [];
  const foreign: ForeignResource[] = [];
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
    get: (ref, through = provider) => through.getLoadBalancer(ref, { nodes: [...knownNodes.values()] }),
    getConverged: async (spec) => {
      const observed = await harness.get(spec);
      expect(
        observed,
        `getLoadBalancer found no load balancer for ${spec.service.namespace}/${spec.service.name}`,
      ).toBeDefined();
      return observed as NonNullable<typeof observed>;
    },
    deleteOutOfBand: async (ref) => {
      if (options.deleteOutOfBand === undefined) return skip("no deleteOutOfBand hook was given");
      await options.deleteOutOfBand(ref);
    },
    restart: async () => {
      if (options.restart === undefined) return skip("no restart hook was given");
      const second = await options.restart();
      restarted.push(second);
      return second;
    },
    occupy: async (ref) => {
      if (options.occupy === undefined) return skip("no occupy hook was given");
      const resource = await options.occupy(ref);
      foreign.push(resource);
      return resource;
    },
    skip,
    loadBalancerIP: options.loadBalancerIP,
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
      for (const resource of foreign) await resource.remove();
      for (const second of restarted) await second.close?.();
    },
  };
}
