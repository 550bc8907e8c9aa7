/**
 * Turns a Service and the eligible nodes into the provider-neutral {@link LoadBalancerSpec}, rejecting
 * what the controller itself can tell is unbuildable — before any cloud call, with the field to fix:
 *
 * - a port without a nodePort (`allocateLoadBalancerNodePorts: false`): every provider here sends
 *   traffic to node ports;
 * - a protocol that is not TCP, UDP or SCTP (which of those a cloud serves is the provider's call);
 * - `externalTrafficPolicy: Local` without a `healthCheckNodePort`;
 * - a source range that is not a CIDR, in `spec.loadBalancerSourceRanges` or, when that is empty, in
 *   the `service.beta.kubernetes.io/load-balancer-source-ranges` annotation it supersedes.
 *
 * @module
 */
import type { V1Service } from "@kubernetes/client-node";
import type {
  HealthCheckSpec,
  ListenerSpec,
  LoadBalancerRef,
  LoadBalancerSpec,
  NodeSpec,
  Protocol,
  ValidationIssue,
} from "../../providers/index.ts";
import { parseCidr } from "./cidr.ts";
import { publishedStatusOf } from "./status.ts";

/** The pre-`spec.loadBalancerSourceRanges` way to restrict clients; still honoured when the field is empty. */
export const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

/** Path kube-proxy serves the `healthCheckNodePort` on. */
export const HEALTH_CHECK_PATH = "/healthz";

const PROTOCOLS: ReadonlySet<string> = new Set<Protocol>(["TCP", "UDP", "SCTP"]);

export type SpecResult =
  | { readonly ok: true; readonly spec: LoadBalancerSpec }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

function error(field: string, message: string): ValidationIssue {
  return { field, message, severity: "error" };
}

function buildListeners(service: V1Service, issues: ValidationIssue[]): ListenerSpec[] {
  const ports = service.spec?.ports ?? [];
  if (ports.length === 0) {
    issues.push(error("spec.ports", "a LoadBalancer Service needs at least one port; add one"));
  }
  const nodePortsDisabled = service.spec?.allocateLoadBalancerNodePorts === false;
  const listeners: ListenerSpec[] = [];
  for (const [index, port] of ports.entries()) {
    const protocol = port.protocol ?? "TCP";
    if (!PROTOCOLS.has(protocol)) {
      issues.push(
        error(`spec.ports[${index}].protocol`, `"${protocol}" is not a Service protocol; use TCP, UDP or SCTP`),
      );
    }
    const nodePort = port.nodePort ?? 0;
    if (nodePort <= 0) {
      issues.push(
        nodePortsDisabled
          ? error(
              "spec.allocateLoadBalancerNodePorts",
              `is false, so spec.ports[${index}] has no nodePort, and the load balancer forwards to node ports; ` +
                "remove the field (or set it to true), or set spec.ports[].nodePort explicitly",
            )
          : error(
              `spec.ports[${index}].nodePort`,
              "has no node port allocated; set one or let the API server allocate it",
            ),
      );
    }
    listeners.push({ name: port.name ?? "", port: port.port, protocol: protocol as Protocol, nodePort });
  }
  return listeners;
}

function buildHealthCheck(service: V1Service, issues: ValidationIssue[]): HealthCheckSpec {
  if (service.spec?.externalTrafficPolicy !== "Local") return { kind: "traffic-port", protocol: "TCP" };
  const port = service.spec.healthCheckNodePort ?? 0;
  if (port <= 0) {
    issues.push(
      error(
        "spec.healthCheckNodePort",
        "is not set although externalTrafficPolicy is Local; let the API server allocate it or set one",
      ),
    );
  }
  return { kind: "http", protocol: "HTTP", port, path: HEALTH_CHECK_PATH };
}

/** The source ranges in canonical form; the field wins over the annotation, as upstream. */
export function resolveSourceRanges(service: V1Service, issues: ValidationIssue[]): string[] {
  const fromSpec = service.spec?.loadBalancerSourceRanges ?? [];
  const ranges: string[] = [];
  if (fromSpec.length > 0) {
    for (const [index, text] of fromSpec.entries()) {
      const cidr = parseCidr(text);
      if (cidr) ranges.push(cidr);
      else {
        issues.push(
          error(`spec.loadBalancerSourceRanges[${index}]`, `"${text}" is not a CIDR; use a form like 203.0.113.0/24`),
        );
      }
    }
    return ranges;
  }
  const annotation = service.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION]?.trim();
  if (!annotation) return ranges;
  for (const text of annotation.split(",")) {
    const cidr = parseCidr(text);
    if (cidr) ranges.push(cidr);
    else {
      issues.push(
        error(
          `metadata.annotations[${SOURCE_RANGES_ANNOTATION}]`,
          `"${text.trim()}" is not a CIDR; use a comma-separated list like 203.0.113.0/24,198.51.100.0/24`,
        ),
      );
    }
  }
  return ranges;
}

/** The provider's name for `service`'s load balancer: cluster, namespace, name and (when known) uid. */
export function loadBalancerRefOf(service: V1Service, clusterName: string): LoadBalancerRef {
  const uid = service.metadata?.uid;
  return {
    clusterName,
    service: {
      namespace: service.metadata?.namespace ?? "",
      name: service.metadata?.name ?? "",
      ...(uid ? { uid } : {}),
    },
  };
}

/**
 * The neutral spec for `service`, or every issue that stops it from being built. `nodes` must already be
 * the eligible nodes, sorted by name; the array is used as is (not copied), so one node list can be
 * shared by every Service's spec.
 */
export function buildLoadBalancerSpec(service: V1Service, nodes: readonly NodeSpec[], clusterName: string): SpecResult {
  const issues: ValidationIssue[] = [];
  const listeners = buildListeners(service, issues);
  const healthCheck = buildHealthCheck(service, issues);
  const sourceRanges = resolveSourceRanges(service, issues);
  if (issues.length > 0) return { ok: false, issues };
  const publishedStatus = publishedStatusOf(service.status?.loadBalancer);
  return {
    ok: true,
    spec: {
      ...loadBalancerRefOf(service, clusterName),
      listeners,
      nodes,
      healthCheck,
      externalTrafficPolicy: service.spec?.externalTrafficPolicy === "Local" ? "Local" : "Cluster",
      sourceRanges,
      annotations: { ...(service.metadata?.annotations ?? {}) },
      ...(publishedStatus === undefined ? {} : { publishedStatus }),
    },
  };
}

/** One line naming every issue, for a Warning event or a log line. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ");
}
