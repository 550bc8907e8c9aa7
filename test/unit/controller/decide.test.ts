import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { LoadBalancerSpec, ProviderCapabilities, ValidationIssue } from "../../../providers/index.ts";
import { LOAD_BALANCER_CONDITION } from "../../../src/controller/condition.ts";
import {
  type Decision,
  type DecisionInput,
  decide,
  type NodeSnapshot,
  type ServiceMemory,
  specFingerprint,
} from "../../../src/controller/decide.ts";
import { fingerprint } from "../../../src/controller/fingerprint.ts";
import { buildLoadBalancerSpec } from "../../../src/controller/load-balancer-spec.ts";
import { eligibleNodeSpecs } from "../../../src/controller/node-eligibility.ts";
import { CLASSED_CLEANUP_FINALIZER, UPSTREAM_CLEANUP_FINALIZER } from "../../../src/controller/service-filters.ts";
import {
  newNode,
  newService,
  tweakAnnotations,
  tweakClass,
  tweakDeleting,
  tweakFinalizers,
  tweakSpec,
  tweakType,
} from "./fixtures.ts";

function snapshot(count: number): NodeSnapshot {
  const nodes = eligibleNodeSpecs(
    Array.from({ length: count }, (_, index) => newNode(`node-${index + 1}`, `192.168.1.${index + 2}`)),
  );
  return { nodes, fingerprint: fingerprint(nodes) };
}

const THREE_NODES = snapshot(3);
const FOUR_NODES = snapshot(4);
const NO_NODES = snapshot(0);
const STATUS = { ingress: [{ hostname: "lb.example" }] };
const KEY = "default/myapp";

const ours = tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER);
const published = (service: V1Service): void => {
  service.status = { loadBalancer: STATUS };
};
const WARNING: ValidationIssue = { field: "metadata.annotations[x]", message: "ignored", severity: "warning" };
const ERROR: ValidationIssue = { field: "spec.ports[0].protocol", message: "not served", severity: "error" };

/** Memory of a successful ensure of `service` on `nodes`, as the act step stores it. */
function ensuredMemory(service: V1Service, nodes: NodeSnapshot, extra: Partial<ServiceMemory> = {}): ServiceMemory {
  const built = buildLoadBalancerSpec(service, nodes.nodes, "kubernetes");
  if (!built.ok) throw new Error("fixture Service must build");
  return {
    uid: service.metadata?.uid ?? "",
    ensured: { specFingerprint: specFingerprint(built.spec), nodesFingerprint: nodes.fingerprint, status: STATUS },
    ...extra,
  };
}

/** The Service's part and input fingerprints, as the decision computes them. */
function fingerprintsOf(service: V1Service, nodes: NodeSnapshot) {
  const serviceFingerprint = fingerprint({
    uid: service.metadata?.uid,
    spec: service.spec,
    annotations: service.metadata?.annotations ?? {},
  });
  return { service: serviceFingerprint, input: `${serviceFingerprint}:${nodes.fingerprint}` };
}

const converged = newService("myapp", ours, published);
const convergedMemory = ensuredMemory(converged, THREE_NODES);

interface Case {
  readonly what: string;
  readonly input: Partial<DecisionInput>;
  /** The parts of the decision that matter for the case. */
  readonly expected: Record<string, unknown>;
}

const cases: Case[] = [
  // Gone, or not ours.
  {
    what: "a Service that is gone, nothing ensured: forget",
    input: { service: undefined },
    expected: { kind: "forget" },
  },
  {
    what: "a Service that vanished after we ensured it: forget, deleting its load balancer first",
    input: { service: undefined, memory: convergedMemory },
    expected: {
      kind: "forget",
      deleteLoadBalancer: {
        clusterName: "kubernetes",
        service: { namespace: "default", name: "myapp", uid: "uid-myapp" },
      },
    },
  },
  {
    what: "being deleted without our finalizer: forget",
    input: { service: newService("myapp", tweakDeleting) },
    expected: { kind: "forget" },
  },
  {
    what: "a ClusterIP Service: ignore",
    input: { service: newService("myapp", tweakType("ClusterIP")) },
    expected: { kind: "ignore" },
  },
  {
    what: "another controller's class: ignore",
    input: { service: newService("myapp", tweakClass("example.com/other")) },
    expected: { kind: "ignore" },
  },
  {
    what: "a classed Service when running without a class: ignore",
    input: { service: newService("myapp", tweakClass("example.com/ours")), selection: {} },
    expected: { kind: "ignore" },
  },
  // Clean up.
  {
    what: "being deleted with our finalizer: clean up",
    input: { service: newService("myapp", ours, tweakDeleting) },
    expected: {
      kind: "clean-up",
      ref: { clusterName: "kubernetes", service: { namespace: "default", name: "myapp", uid: "uid-myapp" } },
    },
  },
  {
    what: "switched to NodePort with our finalizer: clean up",
    input: { service: newService("myapp", ours, tweakType("NodePort")) },
    expected: { kind: "clean-up" },
  },
  {
    what: "class changed away from ours, with our classed finalizer: clean up",
    input: {
      service: newService("myapp", tweakFinalizers(CLASSED_CLEANUP_FINALIZER), tweakClass("example.com/other")),
      selection: { loadBalancerClass: "example.com/ours" },
    },
    expected: { kind: "clean-up" },
  },
  // Invalid.
  {
    what: "no nodePort: invalid, announced",
    input: { service: newService("myapp", tweakSpec({ ports: [{ port: 80, protocol: "TCP" }] })) },
    expected: {
      kind: "invalid",
      announce: true,
      issues: [expect.objectContaining({ field: "spec.ports[0].nodePort" })],
    },
  },
  {
    what: "the same invalid input again: invalid, not announced again",
    input: {
      service: newService("myapp", tweakSpec({ ports: [{ port: 80, protocol: "TCP" }] })),
      memory: {
        uid: "uid-myapp",
        invalidFingerprint: fingerprintsOf(
          newService("myapp", tweakSpec({ ports: [{ port: 80, protocol: "TCP" }] })),
          THREE_NODES,
        ).input,
      },
    },
    expected: { kind: "invalid", announce: false },
  },
  {
    what: "an error from the provider's validate: invalid, with its message",
    input: { service: newService("myapp"), validate: () => [ERROR] },
    expected: {
      kind: "invalid",
      announce: true,
      issues: [ERROR],
      message: "invalid configuration: spec.ports[0].protocol: not served",
    },
  },
  {
    what: "an input the provider rejected on an earlier ensure: invalid without asking again",
    input: {
      service: newService("myapp"),
      memory: { uid: "uid-myapp", invalidFingerprint: fingerprintsOf(newService("myapp"), THREE_NODES).input },
    },
    expected: { kind: "invalid", announce: false, message: "unchanged since rejected", issues: [] },
  },
  {
    what: "a rejected input whose nodes changed since: ensure again",
    input: {
      service: newService("myapp"),
      nodes: FOUR_NODES,
      memory: { uid: "uid-myapp", invalidFingerprint: fingerprintsOf(newService("myapp"), THREE_NODES).input },
    },
    expected: { kind: "ensure" },
  },
  // Unchanged.
  {
    what: "spec, nodes, finalizer and status as last ensured: unchanged",
    input: { service: converged, memory: convergedMemory },
    expected: { kind: "unchanged", warnings: [] },
  },
  // Ensure.
  {
    what: "a new Service: ensure because it changed (announced as a build), add the finalizer",
    input: { service: newService("myapp") },
    expected: { kind: "ensure", reason: "changed", announce: true, addFinalizer: true, noNodes: false, warnings: [] },
  },
  {
    what: "our finalizer and an address, nothing remembered (a restart): ensure as changed, quietly",
    input: { service: converged },
    expected: { kind: "ensure", reason: "changed", announce: false, addFinalizer: false },
  },
  {
    what: "our finalizer and an address, but a condition saying the last attempt failed (a restart): announced",
    input: {
      service: newService("myapp", ours, (service) => {
        service.status = {
          loadBalancer: STATUS,
          conditions: [
            {
              type: LOAD_BALANCER_CONDITION,
              status: "False",
              reason: "CloudError",
              message: "throttled",
              lastTransitionTime: new Date(0),
            },
          ],
        };
      }),
    },
    expected: { kind: "ensure", reason: "changed", announce: true },
  },
  {
    what: "our finalizer and an address, remembered from a failed attempt: ensure as changed, announced",
    input: { service: converged, memory: { uid: "uid-myapp" } },
    expected: { kind: "ensure", reason: "changed", announce: true },
  },
  {
    what: "nothing changed but forced (resync): ensure as a resync (quietly)",
    input: { service: converged, memory: convergedMemory, force: true },
    expected: { kind: "ensure", reason: "resync", announce: false, addFinalizer: false, noNodes: false },
  },
  {
    what: "only the node set changed: ensure for the nodes (announced as an update)",
    input: { service: converged, memory: convergedMemory, nodes: FOUR_NODES },
    expected: { kind: "ensure", reason: "nodes", announce: true },
  },
  {
    what: "the Service's port changed: ensure because it changed (a rebuild)",
    input: {
      service: newService(
        "myapp",
        ours,
        published,
        tweakSpec({ ports: [{ port: 8080, protocol: "TCP", nodePort: 30008 }] }),
      ),
      memory: convergedMemory,
    },
    expected: { kind: "ensure", reason: "changed" },
  },
  {
    what: "the published status differs from what was ensured: ensure (quietly) to write it again",
    input: { service: newService("myapp", ours), memory: convergedMemory },
    expected: { kind: "ensure", reason: "resync" },
  },
  {
    what: "our finalizer was removed: ensure, adding it back",
    input: { service: newService("myapp", published), memory: convergedMemory },
    expected: { kind: "ensure", addFinalizer: true, reason: "resync" },
  },
  {
    what: "no eligible node: ensure, warning that there is none",
    input: { service: newService("myapp"), nodes: NO_NODES },
    expected: { kind: "ensure", noNodes: true },
  },
  {
    what: "a provider warning, first time: ensure, reporting it",
    input: { service: newService("myapp"), validate: () => [WARNING] },
    expected: { kind: "ensure", warnings: [WARNING], allWarnings: [WARNING] },
  },
  {
    what: "a provider warning already reported for this Service: ensure, not reporting it again",
    input: {
      service: newService("myapp"),
      validate: () => [WARNING],
      memory: { uid: "uid-myapp", warnedFingerprint: fingerprintsOf(newService("myapp"), THREE_NODES).service },
    },
    expected: { kind: "ensure", warnings: [], allWarnings: [WARNING] },
  },
  {
    what: "the controller's own warning (source-ranges annotation beside the field): ensure, reporting it",
    input: {
      service: newService(
        "myapp",
        tweakSpec({ loadBalancerSourceRanges: ["203.0.113.0/24"] }),
        tweakAnnotations({ "service.beta.kubernetes.io/load-balancer-source-ranges": "198.51.100.0/24" }),
      ),
    },
    expected: {
      kind: "ensure",
      warnings: [expect.objectContaining({ message: "is ignored because spec.loadBalancerSourceRanges is set" })],
    },
  },
  {
    what: "validate throws: ensure anyway, saying so",
    input: {
      service: newService("myapp"),
      validate: () => {
        throw new Error("validator bug");
      },
    },
    expected: { kind: "ensure", validateError: "validator bug" },
  },
];

function run(partial: Partial<DecisionInput>): Decision {
  return decide({
    key: KEY,
    service: undefined,
    selection: {},
    clusterName: "kubernetes",
    nodes: THREE_NODES,
    ...partial,
  });
}

describe("decide", () => {
  it.each(cases)("$what", ({ input, expected }) => {
    expect(run(input)).toMatchObject(expected);
  });

  it("hands the ensure the spec the controller builds", () => {
    const decision = run({ service: newService("myapp") });
    const built = buildLoadBalancerSpec(newService("myapp"), THREE_NODES.nodes, "kubernetes");
    expect(decision.kind === "ensure" && decision.spec).toEqual(built.ok && (built.spec as LoadBalancerSpec));
  });

  it("warns about each Service API field the provider does not declare, and not about one it declares", () => {
    const service = newService(
      "myapp",
      tweakSpec({
        ipFamilies: ["IPv6"],
        ipFamilyPolicy: "SingleStack",
        sessionAffinity: "ClientIP",
        loadBalancerIP: "192.0.2.10",
      }),
    );
    const fieldsWarned = (capabilities: ProviderCapabilities | undefined) => {
      const decision = run({ service, provider: { name: "plain", ...(capabilities ? { capabilities } : {}) } });
      return decision.kind === "ensure" ? decision.allWarnings.map((issue) => issue.field) : decision.kind;
    };
    expect(fieldsWarned(undefined)).toEqual(["spec.ipFamilies", "spec.sessionAffinity", "spec.loadBalancerIP"]);
    expect(
      fieldsWarned({ ipFamilies: ["IPv4", "IPv6"], sessionAffinity: "answered", loadBalancerIP: "honoured" }),
    ).toEqual([]);
  });

  it("never changes its input", () => {
    const service = newService("myapp", ours, published);
    const memory = ensuredMemory(service, THREE_NODES);
    const copies = structuredClone({ service, memory });
    run({ service, memory, force: true });
    expect({ service, memory }).toEqual(copies);
  });
});
