import { describe, expect, it } from "vitest";
import { CASES, type ConformanceCase } from "../../../providers/conformance/cases.ts";
import { startCaseRun } from "../../../providers/conformance/harness.ts";
import { exampleNodes } from "../../../providers/conformance/index.ts";
import { InvalidConfigurationError } from "../../../providers/errors.ts";
import { FakeProvider } from "../../../providers/fake/index.ts";
import type {
  CallOptions,
  LoadBalancerProvider,
  LoadBalancerRef,
  LoadBalancerSpec,
  LoadBalancerStatus,
  ObservedLoadBalancer,
  ProviderCall,
} from "../../../providers/types.ts";

// The suite is only worth something if it fails for providers that break the contract: each case
// below runs against a provider broken in exactly the way that case exists to catch.

type OnCall = (call: ProviderCall) => void;

async function runCase(
  name: ConformanceCase,
  make: (onCall: OnCall) => LoadBalancerProvider,
  deleteOutOfBand?: (provider: LoadBalancerProvider, ref: LoadBalancerRef) => void,
): Promise<void> {
  const forward: { record?: OnCall } = {};
  const provider = make((call) => forward.record?.(call));
  const run = startCaseRun({
    provider,
    nodes: exampleNodes(5),
    clusterName: "meta",
    namespace: "meta",
    deleteOutOfBand: deleteOutOfBand === undefined ? undefined : (ref) => deleteOutOfBand(provider, ref),
    skip: (reason) => {
      throw new Error(`skipped: ${reason}`);
    },
  });
  forward.record = run.record;
  try {
    await CASES[name](run.harness);
  } finally {
    await run.cleanup();
  }
}

const sound = (onCall: OnCall) => new FakeProvider({ onCall });

class RecreatesEveryTime extends FakeProvider {
  override async ensureLoadBalancer(spec: LoadBalancerSpec, options?: CallOptions): Promise<LoadBalancerStatus> {
    await super.ensureLoadBalancerDeleted(spec);
    return super.ensureLoadBalancer(spec, options);
  }
}

class DropsATarget extends FakeProvider {
  override async ensureLoadBalancer(spec: LoadBalancerSpec, options?: CallOptions): Promise<LoadBalancerStatus> {
    const status = await super.ensureLoadBalancer(spec, options);
    this.mutateOutOfBand(spec, (lb) => {
      for (const group of lb.targetGroups.values()) group.targets = group.targets.slice(1);
    });
    return status;
  }
}

class BuildsBeforeValidating extends FakeProvider {
  override async ensureLoadBalancer(spec: LoadBalancerSpec, options?: CallOptions): Promise<LoadBalancerStatus> {
    const buildable = spec.listeners.filter((l) => l.protocol !== "SCTP");
    await super.ensureLoadBalancer({ ...spec, listeners: buildable }, options);
    return super.ensureLoadBalancer(spec, options);
  }
}

class ThrowsPlainErrors extends FakeProvider {
  override async ensureLoadBalancer(spec: LoadBalancerSpec, options?: CallOptions): Promise<LoadBalancerStatus> {
    try {
      return await super.ensureLoadBalancer(spec, options);
    } catch (error) {
      throw error instanceof InvalidConfigurationError ? new Error(error.message) : error;
    }
  }
}

class IgnoresAbort extends FakeProvider {
  override ensureLoadBalancer(spec: LoadBalancerSpec): Promise<LoadBalancerStatus> {
    return super.ensureLoadBalancer(spec);
  }
}

/** Keys load balancers by name only, so equal names in two namespaces share one. */
class NamespaceBlind extends FakeProvider {
  override ensureLoadBalancer(spec: LoadBalancerSpec, options?: CallOptions): Promise<LoadBalancerStatus> {
    return super.ensureLoadBalancer(blind(spec), options);
  }
  override getLoadBalancer(ref: LoadBalancerRef): Promise<ObservedLoadBalancer | undefined> {
    return super.getLoadBalancer(blind(ref));
  }
  override ensureLoadBalancerDeleted(ref: LoadBalancerRef): Promise<void> {
    return super.ensureLoadBalancerDeleted(blind(ref));
  }
}

function blind<T extends LoadBalancerRef>(ref: T): T {
  return { ...ref, service: { ...ref.service, namespace: "shared" } };
}

class ListsEveryCluster extends FakeProvider {
  override async listLoadBalancers(clusterName: string): Promise<readonly ObservedLoadBalancer[]> {
    return [
      ...(await super.listLoadBalancers(clusterName)),
      ...(await super.listLoadBalancers(`${clusterName}-other`)),
    ];
  }
}

function withoutListing(onCall: OnCall): LoadBalancerProvider {
  const fake = new FakeProvider({ onCall });
  return {
    name: "without-listing",
    ensureLoadBalancer: (spec, options) => fake.ensureLoadBalancer(spec, options),
    getLoadBalancer: (ref, options) => fake.getLoadBalancer(ref, options),
    ensureLoadBalancerDeleted: (ref, options) => fake.ensureLoadBalancerDeleted(ref, options),
  };
}

describe("conformance cases against a sound provider", () => {
  it.each(["creates-from-spec", "second-ensure-changes-nothing", "invalid-spec-sctp", "aborted-mid-ensure"] as const)(
    "%s passes",
    async (name) => {
      await runCase(name, sound);
    },
  );
});

describe("conformance cases catch broken providers", () => {
  it("a second ensure that rebuilds fails second-ensure-changes-nothing", async () => {
    await expect(
      runCase("second-ensure-changes-nothing", (onCall) => new RecreatesEveryTime({ onCall })),
    ).rejects.toThrow(/must make no mutating call/);
  });

  it("a provider that reports no calls is told to wire onCall", async () => {
    await expect(runCase("second-ensure-changes-nothing", () => new FakeProvider())).rejects.toThrow(/ctx\.onCall/);
  });

  it("a missing target fails creates-from-spec", async () => {
    await expect(runCase("creates-from-spec", (onCall) => new DropsATarget({ onCall }))).rejects.toThrow(
      /targets must be exactly the spec's nodes/,
    );
  });

  it("building part of an invalid spec fails invalid-spec-sctp", async () => {
    await expect(runCase("invalid-spec-sctp", (onCall) => new BuildsBeforeValidating({ onCall }))).rejects.toThrow(
      /must leave no load balancer behind/,
    );
  });

  it("a plain Error for an invalid spec fails invalid-spec-duplicate-ports", async () => {
    await expect(
      runCase("invalid-spec-duplicate-ports", (onCall) => new ThrowsPlainErrors({ onCall })),
    ).rejects.toThrow(/InvalidConfigurationError/);
  });

  it("ignoring the signal fails aborted-signal", async () => {
    await expect(runCase("aborted-signal", (onCall) => new IgnoresAbort({ onCall }))).rejects.toThrow(/reject/);
  });

  it("namespace-blind naming fails same-name-different-namespaces", async () => {
    await expect(
      runCase("same-name-different-namespaces", (onCall) => new NamespaceBlind({ onCall })),
    ).rejects.toThrow();
  });

  it("listing another cluster's load balancers fails lists-owned-load-balancers", async () => {
    await expect(runCase("lists-owned-load-balancers", (onCall) => new ListsEveryCluster({ onCall }))).rejects.toThrow(
      /exactly this cluster's/,
    );
  });

  it("a provider without listLoadBalancers is skipped, not passed, with the reason", async () => {
    await expect(runCase("lists-owned-load-balancers", withoutListing)).rejects.toThrow(
      /skipped: the provider does not implement the optional listLoadBalancers/,
    );
  });

  it("without a deleteOutOfBand hook the out-of-band case is skipped with the reason", async () => {
    await expect(runCase("recreates-after-out-of-band-deletion", sound)).rejects.toThrow(
      /skipped: no deleteOutOfBand hook/,
    );
  });

  it("with the hook the out-of-band case passes", async () => {
    await runCase("recreates-after-out-of-band-deletion", sound, (provider, ref) => {
      (provider as FakeProvider).deleteOutOfBand(ref);
    });
  });
});
