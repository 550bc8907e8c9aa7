/**
 * A provider plugin for lb-provisioner, ready to copy: it passes the conformance suite as it is. Replace
 * `./cloud.ts` with your cloud's SDK and keep the rules this file follows (lb-provisioner's
 * docs/providers.md): identity from the ref, ownership by tags, validation before any cloud call, change
 * only what differs, every cloud call through one place that honours the abort signal, reports the call
 * and sorts the cloud's errors into the provider error classes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  type CallOptions,
  ConflictError,
  type GetOptions,
  InvalidConfigurationError,
  type IPFamily,
  ipFamilyIssues,
  type LoadBalancerProvider,
  type LoadBalancerRef,
  type LoadBalancerSpec,
  type LoadBalancerStatus,
  type NodeSpec,
  type ObservedLoadBalancer,
  type ProviderCall,
  type ProviderCapabilities,
  type ProviderFactory,
  type ProviderSettingsDeclaration,
  readProviderSettings,
  ThrottledError,
  TransientError,
  type ValidationIssue,
} from "lb-provisioner/providers";
import {
  CloudApiError,
  type CloudLoadBalancer,
  type CloudLoadBalancerInput,
  type ExampleCloud,
  exampleCloud,
} from "./cloud.ts";

/** The provider API this plugin implements, written out: the loader refuses to run it under another. */
export const providerApiVersion = 1;

/** The families this cloud's load balancers serve clients on. */
const IP_FAMILIES: readonly IPFamily[] = ["IPv4"];

const CLUSTER_TAG = "lb-provisioner/cluster";
const SERVICE_TAG = "lb-provisioner/service";

/** The cloud name of `ref`'s load balancer: a hash of the whole ref, so stable, short and never shared. */
export function loadBalancerName(ref: LoadBalancerRef): string {
  const identity = JSON.stringify([ref.clusterName, ref.service.namespace, ref.service.name]);
  return `lbp-${createHash("sha256").update(identity).digest("hex").slice(0, 24)}`;
}

/** Tags proving a load balancer was made for `ref` in its cluster. */
function ownershipTags(ref: LoadBalancerRef): Record<string, string> {
  return { [CLUSTER_TAG]: ref.clusterName, [SERVICE_TAG]: `${ref.service.namespace}/${ref.service.name}` };
}

function isOwnedBy(loadBalancer: CloudLoadBalancer, ref: LoadBalancerRef): boolean {
  const tags = ownershipTags(ref);
  return loadBalancer.tags[CLUSTER_TAG] === tags[CLUSTER_TAG] && loadBalancer.tags[SERVICE_TAG] === tags[SERVICE_TAG];
}

/** Pure: every problem with `spec`, naming the Service field to fix. */
function validate(spec: LoadBalancerSpec): ValidationIssue[] {
  return [...listenerIssues(spec), ...ipFamilyIssues(spec, IP_FAMILIES), ...unbuiltFieldIssues(spec)];
}

/** The answers to the fields this cloud cannot build, as `capabilities` says it gives them. */
function unbuiltFieldIssues(spec: LoadBalancerSpec): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (spec.sessionAffinity !== undefined) {
    issues.push({
      field: "spec.sessionAffinity",
      severity: "warning",
      message: "ClientIP is not applied by this cloud's load balancers; a client's connections may reach any node",
    });
  }
  if (spec.loadBalancerIP !== undefined) {
    issues.push({
      field: "spec.loadBalancerIP",
      severity: "error",
      message: "this cloud gives every load balancer an address of its own; remove the field",
    });
  }
  return issues;
}

function listenerIssues(spec: LoadBalancerSpec): ValidationIssue[] {
  const seen = new Set<string>();
  return spec.listeners.flatMap((listener, i): ValidationIssue[] => {
    const issue = (field: string, message: string): ValidationIssue[] => [
      { field: `spec.ports[${i}].${field}`, message, severity: "error" },
    ];
    const id = `${listener.port}/${listener.protocol}`;
    if (listener.protocol !== "TCP" && listener.protocol !== "UDP") {
      return issue("protocol", `${listener.protocol} is not supported; use TCP or UDP`);
    }
    if (!listener.nodePort) return issue("nodePort", "a nodePort is required; allow nodePort allocation");
    if (seen.has(id)) return issue("port", `${id} appears twice; remove one`);
    seen.add(id);
    return [];
  });
}

function targetAddress(node: NodeSpec): string {
  return (node.addresses.find((a) => a.type === "InternalIP") ?? node.addresses[0])?.address ?? node.name;
}

/** The load balancer `spec` asks for, in the cloud's terms. */
function desired(spec: LoadBalancerSpec): CloudLoadBalancerInput {
  const targets = spec.nodes.map(targetAddress).sort();
  const check = spec.healthCheck;
  const healthCheck =
    check.kind === "http"
      ? { protocol: "HTTP" as const, port: check.port, path: check.path }
      : { protocol: "TCP" as const, port: "traffic-port" as const };
  const listeners = spec.listeners.map((l) => ({
    port: l.port,
    protocol: l.protocol as "TCP" | "UDP",
    targetPort: l.nodePort,
    targets,
    healthCheck,
  }));
  return {
    name: loadBalancerName(spec),
    tags: ownershipTags(spec),
    listeners: listeners.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol)),
    allowedSourceRanges: [...spec.sourceRanges].sort(),
  };
}

function differs(actual: CloudLoadBalancer, wanted: CloudLoadBalancerInput): boolean {
  const { address: _assignedByTheCloud, ipFamilies: _alsoTheCloud, ...comparable } = actual;
  return JSON.stringify(comparable) !== JSON.stringify(wanted);
}

function statusOf(loadBalancer: CloudLoadBalancer): LoadBalancerStatus {
  return { ingress: [{ hostname: loadBalancer.address }] };
}

/** The neutral view of a cloud load balancer; `nodes` maps target addresses back to Node names. */
function observe(loadBalancer: CloudLoadBalancer, nodes: readonly NodeSpec[]): ObservedLoadBalancer {
  const nodeByAddress = new Map(nodes.map((node) => [targetAddress(node), node.name]));
  const service = loadBalancer.tags[SERVICE_TAG] ?? "";
  const slash = service.indexOf("/");
  return {
    ref: {
      clusterName: loadBalancer.tags[CLUSTER_TAG] ?? "",
      service: { namespace: service.slice(0, slash), name: service.slice(slash + 1) },
    },
    status: statusOf(loadBalancer),
    listeners: loadBalancer.listeners.map((listener) => ({
      port: listener.port,
      protocol: listener.protocol,
      targetPort: listener.targetPort,
      healthCheck: listener.healthCheck,
      targets: listener.targets.map((address) => {
        const node = nodeByAddress.get(address);
        const target = { id: address, port: listener.targetPort };
        return node === undefined ? target : { ...target, node };
      }),
    })),
    sourceRanges: loadBalancer.allowedSourceRanges,
    ipFamilies: loadBalancer.ipFamilies,
    resources: { name: loadBalancer.name },
  };
}

/** Sorts the cloud's errors into the provider error classes, by code (never by message). */
function classify(operation: string, cause: unknown): { error: Error; outcome: ProviderCall["outcome"] } {
  const message = `${operation}: ${cause instanceof Error ? cause.message : String(cause)}`;
  const code = cause instanceof CloudApiError ? cause.code : undefined;
  if (code === "Throttled") return { error: new ThrottledError(message, { cause }), outcome: "throttled" };
  const outcome = code === "NotFound" ? "not_found" : "transient";
  return { error: new TransientError(message, { cause }), outcome };
}

class TemplateProvider implements LoadBalancerProvider {
  readonly name = "template";
  /** What it does with the spec fields that came after version 1's first release (see `validate`). */
  readonly capabilities: ProviderCapabilities = {
    ipFamilies: IP_FAMILIES,
    sessionAffinity: "answered",
    loadBalancerIP: "answered",
  };
  readonly #cloud: ExampleCloud;
  readonly #onCall: ((call: ProviderCall) => void) | undefined;

  constructor(cloud: ExampleCloud, onCall: ((call: ProviderCall) => void) | undefined) {
    this.#cloud = cloud;
    this.#onCall = onCall;
  }

  validate(spec: LoadBalancerSpec): ValidationIssue[] {
    return validate(spec);
  }

  async ensureLoadBalancer(spec: LoadBalancerSpec, { signal }: CallOptions = {}): Promise<LoadBalancerStatus> {
    const problem = validate(spec).find((issue) => issue.severity === "error");
    if (problem !== undefined) throw new InvalidConfigurationError(problem.field, problem.message);
    const wanted = desired(spec);
    const existing = await this.#call("DescribeLoadBalancer", false, signal, (cloud) => cloud.describe(wanted.name));
    if (existing === undefined) {
      return statusOf(await this.#call("CreateLoadBalancer", true, signal, (cloud) => cloud.create(wanted)));
    }
    if (!isOwnedBy(existing, spec)) {
      throw new ConflictError(existing.name, `${existing.name} exists but is not tagged as this Service's; left alone`);
    }
    if (!differs(existing, wanted)) return statusOf(existing);
    return statusOf(await this.#call("UpdateLoadBalancer", true, signal, (cloud) => cloud.update(wanted)));
  }

  async getLoadBalancer(
    ref: LoadBalancerRef,
    { signal, nodes = [] }: GetOptions = {},
  ): Promise<ObservedLoadBalancer | undefined> {
    const found = await this.#call("DescribeLoadBalancer", false, signal, (cloud) =>
      cloud.describe(loadBalancerName(ref)),
    );
    return found !== undefined && isOwnedBy(found, ref) ? observe(found, nodes) : undefined;
  }

  async ensureLoadBalancerDeleted(ref: LoadBalancerRef, { signal }: CallOptions = {}): Promise<void> {
    const name = loadBalancerName(ref);
    const found = await this.#call("DescribeLoadBalancer", false, signal, (cloud) => cloud.describe(name));
    if (found === undefined || !isOwnedBy(found, ref)) return;
    await this.#call("DeleteLoadBalancer", true, signal, (cloud) => cloud.delete(name));
  }

  async listLoadBalancers(clusterName: string, { signal }: CallOptions = {}): Promise<ObservedLoadBalancer[]> {
    const all = await this.#call("ListLoadBalancers", false, signal, (cloud) => cloud.list());
    return all
      .filter((lb) => lb.tags[CLUSTER_TAG] === clusterName && SERVICE_TAG in lb.tags)
      .map((lb) => observe(lb, []));
  }

  /** The one way to the cloud: stops once the signal aborts, reports the call, classifies its errors. */
  async #call<T>(
    operation: string,
    mutating: boolean,
    signal: AbortSignal | undefined,
    run: (cloud: ExampleCloud) => Promise<T>,
  ): Promise<T> {
    signal?.throwIfAborted();
    const started = performance.now();
    const report = (outcome: ProviderCall["outcome"]) =>
      this.#onCall?.({ operation, mutating, outcome, durationMs: performance.now() - started });
    try {
      const result = await run(this.#cloud);
      report("success");
      return result;
    } catch (cause) {
      const { error, outcome } = classify(operation, cause);
      report(outcome);
      throw error;
    }
  }
}

/**
 * The `--provider-config` settings this plugin takes: none. Declare yours here (name, type, default,
 * help); the controller checks the operator's settings against it before the factory runs.
 */
export const providerSettings = [] as const satisfies ProviderSettingsDeclaration;

/** The plugin's default export. */
const createProvider: ProviderFactory = ({ settings, onCall }) => {
  readProviderSettings("template", providerSettings, settings);
  return new TemplateProvider(exampleCloud, onCall);
};

export default createProvider;
