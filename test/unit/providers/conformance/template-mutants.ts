/**
 * Broken providers for the conformance suite's own tests: each is the provider template
 * (examples/provider-template/src/index.ts) with a few exact source edits that break one obligation of
 * the contract, and the cases that must fail because of it. Every edit must match the template exactly
 * once, so a change to the template that a mutant no longer fits fails loudly instead of testing nothing.
 *
 * @module
 */
import { CONFORMANCE_CASES, type ConformanceCase } from "../../../../providers/conformance/index.ts";

export interface Mutant {
  /** The obligation it breaks, as the test title shows it. */
  readonly breaks: string;
  /** `[find, replace]` pairs, applied in order. */
  readonly edits: readonly (readonly [find: string, replace: string])[];
  /** Exactly the cases that fail; every other case passes. */
  readonly caughtBy: readonly ConformanceCase[];
}

/** The call choke point's report, used by the mutants that change what is reported. */
const REPORT = "this.#onCall?.({ operation, mutating, outcome, durationMs: performance.now() - started });";
const CREATE =
  'return statusOf(await this.#call("CreateLoadBalancer", true, signal, (cloud) => cloud.create(wanted)));';
const UPDATE =
  'return statusOf(await this.#call("UpdateLoadBalancer", true, signal, (cloud) => cloud.update(wanted)));';
const VALIDATE_FIRST =
  "if (problem !== undefined) throw new InvalidConfigurationError(problem.field, problem.message);";
const DELETE_UNLESS_ABSENT_OR_FOREIGN = "if (found === undefined || !isOwnedBy(found, ref)) return;";
const GET_OWNED = "return found !== undefined && isOwnedBy(found, ref) ? observe(found, nodes) : undefined;";

/** The cases that build a load balancer and check its address: all but those that only read, refuse or abort. */
const BUILDING_CASES = everyCaseExcept(
  "reads-never-mutate",
  "leaves-foreign-resources-alone",
  "delete-never-created",
  "invalid-spec-sctp",
  "invalid-spec-duplicate-ports",
  "aborted-signal",
  "aborted-mid-ensure",
  "validate-reports-issues",
  "load-balancer-ip",
);

export const MUTANTS: readonly Mutant[] = [
  {
    breaks: "identity: names load balancers without the cluster name",
    edits: [["JSON.stringify([ref.clusterName, ref.service.namespace,", "JSON.stringify([ref.service.namespace,"]],
    caughtBy: ["same-name-different-clusters"],
  },
  {
    breaks: "identity and ownership: ignores the cluster name, so two clusters share one load balancer",
    edits: [
      ["JSON.stringify([ref.clusterName, ref.service.namespace,", "JSON.stringify([ref.service.namespace,"],
      ["return loadBalancer.tags[CLUSTER_TAG] === tags[CLUSTER_TAG] && ", "return "],
    ],
    caughtBy: ["same-name-different-clusters"],
  },
  {
    breaks: "identity: names load balancers without the namespace",
    edits: [["JSON.stringify([ref.clusterName, ref.service.namespace,", "JSON.stringify([ref.clusterName,"]],
    caughtBy: ["same-name-different-namespaces"],
  },
  {
    breaks: "identity: truncates long names instead of hashing them",
    edits: [
      [
        "  const identity = JSON.stringify(",
        '  return ["lbp", ref.clusterName, ref.service.namespace, ref.service.name].join("-").slice(0, 64);\n  const identity = JSON.stringify(',
      ],
    ],
    caughtBy: ["names-at-length-limits"],
  },
  {
    breaks: "identity: answers getLoadBalancer from memory instead of the cloud",
    edits: [
      ["readonly #cloud: ExampleCloud;", "readonly #cloud: ExampleCloud;\n  readonly #made = new Map();"],
      [
        CREATE,
        'const made = await this.#call("CreateLoadBalancer", true, signal, (cloud) => cloud.create(wanted));\n      this.#made.set(wanted.name, made);\n      return statusOf(made);',
      ],
      [
        GET_OWNED,
        "return this.#made.has(loadBalancerName(ref)) ? observe(this.#made.get(loadBalancerName(ref)), nodes) : undefined;",
      ],
    ],
    caughtBy: everyCaseExcept(
      "creates-from-spec",
      "second-ensure-changes-nothing",
      "reads-never-mutate",
      "node-address-changed",
      "leaves-foreign-resources-alone",
      "delete-never-created",
      "invalid-spec-sctp",
      "invalid-spec-duplicate-ports",
      "names-at-length-limits",
      "aborted-signal",
      "aborted-mid-ensure",
      "lists-owned-load-balancers",
      "validate-reports-issues",
      "ip-families",
      "session-affinity",
      "load-balancer-ip",
    ),
  },
  {
    breaks: "inputs are read-only: sorts the spec's source ranges in place",
    edits: [
      [
        "allowedSourceRanges: [...spec.sourceRanges].sort()",
        "allowedSourceRanges: (spec.sourceRanges as string[]).sort()",
      ],
    ],
    caughtBy: ["source-ranges"],
  },
  {
    breaks: "idempotent: writes the load balancer on every ensure",
    edits: [["if (!differs(existing, wanted)) return statusOf(existing);", ""]],
    caughtBy: ["second-ensure-changes-nothing", "same-ref-after-restart"],
  },
  {
    breaks: "converges by diff: rebuilds the load balancer on every change",
    edits: [
      [
        UPDATE,
        `await this.#call("DeleteLoadBalancer", true, signal, (cloud) => cloud.delete(wanted.name));\n    ${CREATE}`,
      ],
    ],
    caughtBy: ["node-added", "node-removed"],
  },
  {
    breaks: "targets: follows only the first three nodes",
    edits: [["const targets = spec.nodes.map(", "const targets = spec.nodes.slice(0, 3).map("]],
    caughtBy: ["node-added", "concurrent-ensures"],
  },
  {
    breaks: "targets: forwards to the Service port instead of the nodePort",
    edits: [["targetPort: l.nodePort,", "targetPort: l.port,"]],
    caughtBy: BUILDING_CASES,
  },
  {
    breaks: "observed targets: does not map them back to nodes",
    edits: [["const node = nodeByAddress.get(address);", "const node = undefined;"]],
    caughtBy: everyCaseExcept(
      "reads-never-mutate",
      "lists-owned-load-balancers",
      "leaves-foreign-resources-alone",
      "delete-never-created",
      "invalid-spec-sctp",
      "invalid-spec-duplicate-ports",
      "aborted-signal",
      "aborted-mid-ensure",
      "validate-reports-issues",
      "load-balancer-ip",
    ),
  },
  {
    breaks: "observed listeners: keeps the Service's order instead of sorting by port and protocol",
    edits: [
      ["listeners: listeners.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol)),", "listeners,"],
    ],
    caughtBy: ["creates-from-spec", "second-ensure-changes-nothing"],
  },
  {
    breaks: "status: publishes no address",
    edits: [["return { ingress: [{ hostname: loadBalancer.address }] };", "return { ingress: [] };"]],
    caughtBy: BUILDING_CASES,
  },
  {
    breaks: "health check: probes TCP whatever the traffic policy",
    edits: [['check.kind === "http"\n', 'check.kind === ("Local" as string)\n']],
    caughtBy: ["health-check-follows-traffic-policy"],
  },
  {
    breaks: "source ranges: ignores them",
    edits: [["allowedSourceRanges: [...spec.sourceRanges].sort()", "allowedSourceRanges: []"]],
    caughtBy: ["source-ranges"],
  },
  {
    breaks: "nodes: refuses a spec without eligible nodes",
    edits: [
      [
        'const problem = validate(spec).find((issue) => issue.severity === "error");',
        'const problem = spec.nodes.length === 0 ? { field: "spec.nodes", message: "no nodes" } : validate(spec).find((issue) => issue.severity === "error");',
      ],
    ],
    caughtBy: ["no-eligible-nodes"],
  },
  {
    breaks: "invalid spec: builds the load balancer before rejecting it",
    edits: [
      [VALIDATE_FIRST, ""],
      [
        CREATE,
        'const made = await this.#call("CreateLoadBalancer", true, signal, (cloud) => cloud.create(wanted));\n      ' +
          VALIDATE_FIRST +
          "\n      return statusOf(made);",
      ],
    ],
    caughtBy: ["invalid-spec-sctp", "invalid-spec-duplicate-ports", "ip-families", "load-balancer-ip"],
  },
  {
    breaks: "invalid spec: rejects it with a plain Error",
    edits: [[VALIDATE_FIRST, 'if (problem !== undefined) throw new Error(problem.field + ": " + problem.message);']],
    caughtBy: ["invalid-spec-sctp", "invalid-spec-duplicate-ports", "ip-families", "load-balancer-ip"],
  },
  {
    breaks: "validate: misses a duplicate port, which ensure then builds",
    edits: [["if (seen.has(id)) return issue(", "if (seen.size < 0) return issue("]],
    caughtBy: ["invalid-spec-duplicate-ports", "validate-reports-issues"],
  },
  {
    breaks: "validate: calls the cloud",
    edits: [
      [
        "  validate(spec: LoadBalancerSpec): ValidationIssue[] {\n",
        '  validate(spec: LoadBalancerSpec): ValidationIssue[] {\n    this.#onCall?.({ operation: "DescribeQuotas", mutating: false, outcome: "success", durationMs: 0 });\n',
      ],
    ],
    caughtBy: ["validate-reports-issues"],
  },
  {
    breaks: "reads: getLoadBalancer re-tags what it reads",
    edits: [
      [
        GET_OWNED,
        'if (found === undefined || !isOwnedBy(found, ref)) return undefined;\n    await this.#call("TagLoadBalancer", true, signal, (cloud) => cloud.update(found));\n    return observe(found, nodes);',
      ],
    ],
    caughtBy: ["reads-never-mutate"],
  },
  {
    breaks: "abort: ignores the signal",
    edits: [["    signal?.throwIfAborted();\n    const started", "    const started"]],
    caughtBy: ["aborted-signal", "aborted-mid-ensure"],
  },
  {
    breaks: "abort: finishes the whole ensure, then rejects with the reason",
    edits: [
      [
        "async ensureLoadBalancer(spec: LoadBalancerSpec, { signal }: CallOptions = {}): Promise<LoadBalancerStatus> {",
        "async ensureLoadBalancer(spec: LoadBalancerSpec, options: CallOptions = {}): Promise<LoadBalancerStatus> {\n    const status = await this.ensureIgnoringSignal(spec);\n    options.signal?.throwIfAborted();\n    return status;\n  }\n\n  async ensureIgnoringSignal(spec: LoadBalancerSpec, { signal }: CallOptions = {}): Promise<LoadBalancerStatus> {",
      ],
    ],
    caughtBy: ["aborted-signal", "aborted-mid-ensure"],
  },
  {
    breaks: "calls: reports none through onCall",
    edits: [[REPORT, "undefined;"]],
    caughtBy: ["second-ensure-changes-nothing", "same-ref-after-restart", "delete-twice", "aborted-mid-ensure"],
  },
  {
    breaks: "calls: reports mutating calls as reads",
    edits: [[REPORT, REPORT.replace("mutating,", "mutating: false,")]],
    caughtBy: ["second-ensure-changes-nothing", "delete-twice"],
  },
  {
    breaks: "delete: calls the cloud's delete even when nothing is there",
    edits: [
      [DELETE_UNLESS_ABSENT_OR_FOREIGN, "if (found !== undefined && !isOwnedBy(found, ref)) return;"],
      ["(cloud) => cloud.delete(name));", "(cloud) => cloud.delete(name).catch(() => undefined));"],
    ],
    caughtBy: ["delete-twice", "delete-never-created"],
  },
  {
    breaks: "delete: does not delete",
    edits: [['await this.#call("DeleteLoadBalancer", true, signal, (cloud) => cloud.delete(name));', ""]],
    caughtBy: [
      "same-ref-after-restart",
      "delete-twice",
      "get-after-delete-is-undefined",
      "same-name-different-namespaces",
      "same-name-different-clusters",
      "concurrent-ensures",
      "lists-owned-load-balancers",
    ],
  },
  {
    breaks: "ownership: deletes a foreign resource that has the load balancer's name",
    edits: [[DELETE_UNLESS_ABSENT_OR_FOREIGN, "if (found === undefined) return;"]],
    caughtBy: ["leaves-foreign-resources-alone"],
  },
  {
    breaks: "ownership: takes over a foreign resource that has the load balancer's name",
    edits: [["if (!isOwnedBy(existing, spec)) {", "if (existing.name === undefined) {"]],
    caughtBy: ["leaves-foreign-resources-alone"],
  },
  {
    breaks: "ownership: reports a foreign resource as the Service's load balancer",
    edits: [[GET_OWNED, "return found !== undefined ? observe(found, nodes) : undefined;"]],
    caughtBy: ["leaves-foreign-resources-alone"],
  },
  {
    breaks: "ip families: declares IPv6, which its cloud does not serve",
    edits: [
      [
        "  readonly capabilities: ProviderCapabilities = {\n    ipFamilies: IP_FAMILIES,",
        '  readonly capabilities: ProviderCapabilities = {\n    ipFamilies: ["IPv4", "IPv6"],',
      ],
    ],
    caughtBy: ["ip-families"],
  },
  {
    breaks: "ip families: builds an IPv4 load balancer for an IPv6 Service",
    edits: [["...ipFamilyIssues(spec, IP_FAMILIES), ", ""]],
    caughtBy: ["ip-families"],
  },
  {
    breaks: "session affinity: declares it answered and says nothing",
    edits: [["if (spec.sessionAffinity !== undefined) {", "if (spec.sessionAffinity === null) {"]],
    caughtBy: ["session-affinity"],
  },
  {
    breaks: "loadBalancerIP: declares it answered and builds with another address",
    edits: [["if (spec.loadBalancerIP !== undefined) {", "if (spec.loadBalancerIP === null) {"]],
    caughtBy: ["load-balancer-ip"],
  },
  {
    breaks: "ipMode: sets it beside a hostname, which the API server refuses",
    edits: [
      [
        "return { ingress: [{ hostname: loadBalancer.address }] };",
        'return { ingress: [{ hostname: loadBalancer.address, ipMode: "VIP" }] };',
      ],
    ],
    caughtBy: BUILDING_CASES,
  },
  {
    breaks: "listing: lists every cluster's load balancers",
    edits: [["lb.tags[CLUSTER_TAG] === clusterName && SERVICE_TAG in lb.tags", "SERVICE_TAG in lb.tags"]],
    caughtBy: ["same-name-different-clusters", "lists-owned-load-balancers"],
  },
];

/** Every case but `passing`, in the suite's order. */
function everyCaseExcept(...passing: ConformanceCase[]): ConformanceCase[] {
  return CONFORMANCE_CASES.filter((name) => !passing.includes(name));
}

/** The template's source with `mutant`'s edits applied. */
export function mutate(source: string, mutant: Mutant): string {
  let result = source;
  for (const [find, replace] of mutant.edits) {
    const count = result.split(find).length - 1;
    if (count !== 1) {
      throw new Error(`mutant "${mutant.breaks}": ${JSON.stringify(find)} occurs ${count} times in the template`);
    }
    result = result.replace(find, () => replace);
  }
  return result;
}
