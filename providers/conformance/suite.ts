/**
 * `describeProviderConformance`: registers the conformance cases as a vitest `describe` block around a
 * provider the caller creates. Skips are by case name with a written reason and show up as skipped
 * tests, never as passes.
 *
 * @module
 */
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import type { LoadBalancerProvider, LoadBalancerRef, NodeSpec, ProviderCall } from "../types.ts";
import { CASES, CONFORMANCE_CASES, type ConformanceCase } from "./cases.ts";
import { type CaseRun, startCaseRun } from "./harness.ts";
import { CONFORMANCE_NAMESPACE } from "./specs.ts";

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
  /** Cases this provider knowingly cannot pass, each with the reason shown in the skipped test's title. */
  readonly skip?: Partial<Record<ConformanceCase, string>>;
  /** Per-case (and setup) timeout; vitest's default when absent. Real clouds need minutes. */
  readonly timeoutMs?: number;
  /** Namespace of the suite's Services. Default `lbp-conformance`. */
  readonly namespace?: string;
}

const MIN_NODES = 5;
const DEFAULT_CLUSTER_NAME = "conformance";

/** Registers the conformance suite for one provider. Call it at the top level of a test file. */
export function describeProviderConformance<P extends LoadBalancerProvider>(options: ConformanceOptions<P>): void {
  const skips = checkedSkips(options);
  const namespace = options.namespace ?? CONFORMANCE_NAMESPACE;

  describe(`provider conformance: ${options.name}`, () => {
    let setup: ConformanceSetup<P> | undefined;
    let run: CaseRun | undefined;

    beforeAll(async () => {
      setup = await options.create({ onCall: (call) => run?.record(call) });
      if (setup.nodes.length < MIN_NODES) {
        throw new Error(
          `describeProviderConformance(${options.name}): create() returned ${setup.nodes.length} nodes; the suite needs at least ${MIN_NODES}`,
        );
      }
    }, options.timeoutMs);

    afterAll(async () => {
      if (setup === undefined) return;
      if (setup.teardown !== undefined) await setup.teardown();
      else await setup.provider.close?.();
    }, options.timeoutMs);

    afterEach(async () => {
      const finished = run;
      run = undefined;
      await finished?.cleanup();
    }, options.timeoutMs);

    for (const name of CONFORMANCE_CASES) {
      const reason = skips.get(name);
      if (reason !== undefined) {
        it.skip(`${name} [skipped: ${reason}]`, () => {});
        continue;
      }
      it(
        name,
        async (context) => {
          if (setup === undefined) throw new Error("the provider was not created; see the beforeAll failure");
          const current = setup;
          const { deleteOutOfBand } = options;
          run = startCaseRun({
            provider: current.provider,
            nodes: current.nodes,
            clusterName: current.clusterName ?? DEFAULT_CLUSTER_NAME,
            namespace,
            deleteOutOfBand: deleteOutOfBand === undefined ? undefined : (ref) => deleteOutOfBand(ref, current),
            skip: (note) => {
              context.skip(note);
              throw new Error("unreachable: context.skip throws");
            },
          });
          await CASES[name](run.harness);
        },
        options.timeoutMs,
      );
    }
  });
}

function checkedSkips<P extends LoadBalancerProvider>(options: ConformanceOptions<P>): Map<ConformanceCase, string> {
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
  if (options.deleteOutOfBand === undefined && !skips.has("recreates-after-out-of-band-deletion")) {
    skips.set("recreates-after-out-of-band-deletion", "no deleteOutOfBand hook was given");
  }
  return skips;
}
