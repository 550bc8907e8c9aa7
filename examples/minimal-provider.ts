/**
 * The smallest complete provider: its "cloud" is a Map. docs/providers.md shows this file verbatim, and
 * a unit test runs it through the conformance suite.
 *
 * @module
 */
// A published plugin imports from "lb-provisioner/providers".
import {
  InvalidConfigurationError,
  type LoadBalancerRef,
  type LoadBalancerSpec,
  type ObservedLoadBalancer,
  type ProviderFactory,
  type ValidationIssue,
} from "../providers/index.ts";

/** The provider API this plugin implements; the loader refuses to run it under another. */
export const providerApiVersion = 1;

const createMinimalProvider: ProviderFactory = ({ onCall }) => {
  const cloud = new Map<string, ObservedLoadBalancer>();
  const keyOf = (ref: LoadBalancerRef) => `${ref.clusterName}/${ref.service.namespace}/${ref.service.name}`;

  // Every cloud call goes through here: it stops once the signal aborts and reports the call for metrics.
  const call = <T>(operation: string, mutating: boolean, signal: AbortSignal | undefined, run: () => T): T => {
    signal?.throwIfAborted();
    const result = run();
    onCall?.({ operation, mutating, outcome: "success", durationMs: 0 });
    return result;
  };

  const validate = (spec: LoadBalancerSpec): ValidationIssue[] => {
    const seen = new Set<string>();
    return spec.listeners.flatMap((listener, i): ValidationIssue[] => {
      const id = `${listener.port}/${listener.protocol}`;
      const fail = (field: string, message: string): ValidationIssue[] => [
        { field: `spec.ports[${i}].${field}`, message, severity: "error" },
      ];
      if (listener.protocol === "SCTP") return fail("protocol", "SCTP is not supported; use TCP or UDP");
      if (!listener.nodePort) return fail("nodePort", "a nodePort is required; allow nodePort allocation");
      if (seen.has(id)) return fail("port", `${id} appears twice; remove one`);
      seen.add(id);
      return [];
    });
  };

  // The load balancer a spec asks for, in the neutral terms getLoadBalancer reports.
  const build = (spec: LoadBalancerSpec): ObservedLoadBalancer => {
    const { clusterName, service, healthCheck } = spec;
    return {
      ref: { clusterName, service: { ...service } },
      status: { ingress: [{ hostname: `${service.name}.${service.namespace}.${clusterName}.lb.example.invalid` }] },
      listeners: spec.listeners
        .map((listener) => ({
          port: listener.port,
          protocol: listener.protocol,
          targetPort: listener.nodePort,
          targets: spec.nodes.map((node) => ({ id: node.name, port: listener.nodePort, node: node.name })),
          healthCheck:
            healthCheck.kind === "http"
              ? { protocol: "HTTP" as const, port: healthCheck.port, path: healthCheck.path }
              : { protocol: "TCP" as const, port: "traffic-port" as const },
        }))
        .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol)),
      sourceRanges: [...spec.sourceRanges],
    };
  };

  return {
    name: "minimal",
    validate,

    async ensureLoadBalancer(spec, { signal } = {}) {
      signal?.throwIfAborted();
      const problem = validate(spec)[0];
      if (problem !== undefined) throw new InvalidConfigurationError(problem.field, problem.message);
      const wanted = build(spec);
      const existing = call("Get", false, signal, () => cloud.get(keyOf(spec)));
      // Converge by comparison: an unchanged spec makes no mutating call.
      if (JSON.stringify(existing) !== JSON.stringify(wanted)) {
        call("Put", true, signal, () => cloud.set(keyOf(spec), wanted));
      }
      return wanted.status;
    },

    async getLoadBalancer(ref, { signal } = {}) {
      return call("Get", false, signal, () => cloud.get(keyOf(ref)));
    },

    async ensureLoadBalancerDeleted(ref, { signal } = {}) {
      if (call("Get", false, signal, () => cloud.has(keyOf(ref)))) {
        call("Delete", true, signal, () => cloud.delete(keyOf(ref)));
      }
    },

    async listLoadBalancers(clusterName, { signal } = {}) {
      return call("List", false, signal, () => [...cloud.values()].filter((lb) => lb.ref.clusterName === clusterName));
    },
  };
};

export default createMinimalProvider;
