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
 * The source ranges are decided here, once, for every provider: the field, else the annotation, in
 * canonical form in `spec.sourceRanges`; a provider reads only that. The Service's IP families,
 * `sessionAffinity: ClientIP` and `loadBalancerIP` are handed on as they are: what a provider does with
 * them is its own declaration (`capabilities`), and {@link serviceApiIssues} warns where it declares
 * nothing. An annotation set beside the field
 * is ignored with a warning, which the controller records as a Warning event.
 * Listener and CIDR rules are the shared ones of `providers/rules/`.
 *
 * @module
 */
import type { V1Service } from "@kubernetes/client-node";
import type {
  HealthCheckSpec,
  IPFamily,
  IPFamilyPolicy,
  ListenerSpec,
  LoadBalancerProvider,
  LoadBalancerRef,
  LoadBalancerSpec,
  NodeSpec,
  Protocol,
  SessionAffinitySpec,
  ValidationIssue,
} from "../../providers/index.ts";
import { canonicalCidr, listenerIssues, undeclaredFieldIssues } from "../../providers/rules/index.ts";
import { publishedStatusOf } from "./status.ts";

/** The pre-`spec.loadBalancerSourceRanges` way to restrict clients; still honoured when the field is empty. */
export const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

/** Path kube-proxy serves the `healthCheckNodePort` on. */
export const HEALTH_CHECK_PATH = "/healthz";

/** The protocols of a Service port; which of them a cloud serves is its provider's call. */
const SERVICE_PORT_RULES = { protocols: ["TCP", "UDP", "SCTP"], servedBy: "Kubernetes Services" } as const;

/** A built spec with what the controller warns about it, or every issue that stops it from being built. */
export type SpecResult =
  | { readonly ok: true; readonly spec: LoadBalancerSpec; readonly warnings: readonly ValidationIssue[] }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

function error(field: string, message: string): ValidationIssue {
  return { field, message, severity: "error" };
}

function warning(field: string, message: string): ValidationIssue {
  return { field, message, severity: "warning" };
}

function buildListeners(service: V1Service, issues: ValidationIssue[]): ListenerSpec[] {
  const listeners: ListenerSpec[] = (service.spec?.ports ?? []).map((port) => ({
    name: port.name ?? "",
    port: port.port,
    protocol: (port.protocol ?? "TCP") as Protocol,
    nodePort: port.nodePort ?? 0,
  }));
  const nodePortsDisabled = service.spec?.allocateLoadBalancerNodePorts === false;
  for (const issue of listenerIssues(listeners, SERVICE_PORT_RULES)) {
    // The usual cause of a missing nodePort is the Service asking for none: name that field instead.
    const index = /^spec\.ports\[(\d+)\]\.nodePort$/.exec(issue.field)?.[1];
    issues.push(
      nodePortsDisabled && index !== undefined
        ? error(
            "spec.allocateLoadBalancerNodePorts",
            `is false, so spec.ports[${index}] has no nodePort, and the load balancer forwards to node ports; ` +
              "remove the field (or set it to true), or set spec.ports[].nodePort explicitly",
          )
        : issue,
    );
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

const SOURCE_RANGES_FIELD = "spec.loadBalancerSourceRanges";
const SOURCE_RANGES_ANNOTATION_FIELD = `metadata.annotations[${SOURCE_RANGES_ANNOTATION}]`;

/** Canonical CIDRs of `texts`, with an error naming `fieldOf(index)` for each that is not one. */
function canonicalRanges(
  texts: readonly string[],
  fieldOf: (index: number) => string,
  example: string,
  issues: ValidationIssue[],
): string[] {
  const ranges: string[] = [];
  for (const [index, text] of texts.entries()) {
    const cidr = canonicalCidr(text);
    if (cidr !== undefined) ranges.push(cidr);
    else issues.push(error(fieldOf(index), `"${text.trim()}" is not a CIDR; use ${example}`));
  }
  return ranges;
}

/**
 * The Service's source ranges in canonical form, decided once for every provider: the field wins over
 * the annotation, as upstream; an annotation beside the field gets a warning that it is ignored.
 */
export function resolveSourceRanges(
  service: V1Service,
  issues: ValidationIssue[],
  warnings: ValidationIssue[] = [],
): string[] {
  const fromSpec = service.spec?.loadBalancerSourceRanges ?? [];
  const annotation = service.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION]?.trim();
  if (fromSpec.length > 0) {
    if (annotation)
      warnings.push(warning(SOURCE_RANGES_ANNOTATION_FIELD, `is ignored because ${SOURCE_RANGES_FIELD} is set`));
    return canonicalRanges(
      fromSpec,
      (index) => `${SOURCE_RANGES_FIELD}[${index}]`,
      "a form like 203.0.113.0/24",
      issues,
    );
  }
  if (!annotation) return [];
  return canonicalRanges(
    annotation.split(","),
    () => SOURCE_RANGES_ANNOTATION_FIELD,
    "a comma-separated list like 203.0.113.0/24,198.51.100.0/24",
    issues,
  );
}

/** Kubernetes' default `sessionAffinityConfig.clientIP.timeoutSeconds` (three hours). */
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10_800;

/**
 * The fields of the Service API added to the spec within version 1, as the API server stored them:
 * families, ClientIP affinity with its timeout, and a non-empty `loadBalancerIP`. Absent when unset.
 */
function serviceApiFields(
  service: V1Service,
): Pick<LoadBalancerSpec, "ipFamilies" | "ipFamilyPolicy" | "sessionAffinity" | "loadBalancerIP"> {
  const spec = service.spec;
  const ipFamilies = (spec?.ipFamilies ?? []) as IPFamily[];
  const ipFamilyPolicy = spec?.ipFamilyPolicy as IPFamilyPolicy | undefined;
  const sessionAffinity: SessionAffinitySpec | undefined =
    spec?.sessionAffinity === "ClientIP"
      ? {
          type: "ClientIP",
          timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS,
        }
      : undefined;
  const loadBalancerIP = spec?.loadBalancerIP?.trim();
  return {
    ...(ipFamilies.length > 0 ? { ipFamilies: [...ipFamilies] } : {}),
    ...(ipFamilyPolicy ? { ipFamilyPolicy } : {}),
    ...(sessionAffinity === undefined ? {} : { sessionAffinity }),
    ...(loadBalancerIP ? { loadBalancerIP } : {}),
  };
}

/**
 * The controller's warnings for the Service API fields `spec` sets that `provider` does not declare it
 * reads (the shared rule `undeclaredFieldIssues`); nothing for a field it declares, whose answer is its
 * own `validate`.
 */
export function serviceApiIssues(
  spec: LoadBalancerSpec,
  provider: Pick<LoadBalancerProvider, "name" | "capabilities">,
): ValidationIssue[] {
  return undeclaredFieldIssues(spec, provider.capabilities, provider.name);
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
  const warnings: ValidationIssue[] = [];
  const listeners = buildListeners(service, issues);
  const healthCheck = buildHealthCheck(service, issues);
  const sourceRanges = resolveSourceRanges(service, issues, warnings);
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
      ...serviceApiFields(service),
      ...(publishedStatus === undefined ? {} : { publishedStatus }),
    },
    warnings,
  };
}

/** One line naming every issue, for a Warning event or a log line. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => `${issue.field}: ${issue.message}`).join("; ");
}
