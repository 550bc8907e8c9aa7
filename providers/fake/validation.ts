/**
 * The fake cloud's validation rules: the ones a real cloud enforces, so bad Services fail here the way
 * they would fail in production. Pure; no state.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import { ipFamilyIssues, isPort, listenerIssues, loadBalancerIPIssues, parseCidr } from "../rules/index.ts";
import type { IPFamily, LoadBalancerSpec, ValidationIssue } from "../types.ts";

/** Annotation prefix the fake reads; anything else under it is reported as unknown. */
export const FAKE_ANNOTATION_PREFIX = "fake.lb-provisioner.io/";

/** `internal` or `internet-facing` (the default). */
export const FAKE_SCHEME_ANNOTATION = `${FAKE_ANNOTATION_PREFIX}scheme`;

/** Listeners a fake load balancer accepts, as ELBv2 does. */
export const FAKE_MAX_LISTENERS = 50;

export type FakeScheme = "internal" | "internet-facing";

/** The fake cloud's load balancers serve both families. */
export const FAKE_IP_FAMILIES: readonly IPFamily[] = Object.freeze(["IPv4", "IPv6"]);

const SCHEMES: ReadonlySet<string> = new Set<FakeScheme>(["internal", "internet-facing"]);
const KNOWN_ANNOTATIONS: ReadonlySet<string> = new Set([FAKE_SCHEME_ANNOTATION]);

/** Every problem the fake cloud has with `spec`, in field order. Empty when the spec is buildable. */
export function validateFakeSpec(spec: LoadBalancerSpec): ValidationIssue[] {
  return [
    ...validateListeners(spec),
    ...validateHealthCheck(spec),
    ...validateSourceRanges(spec.sourceRanges),
    ...ipFamilyIssues(spec, FAKE_IP_FAMILIES),
    ...loadBalancerIPIssues(spec, FAKE_IP_FAMILIES),
    ...validateAnnotations(spec.annotations),
  ];
}

/** Throws {@link InvalidConfigurationError} for the first `error` issue, mentioning how many more exist. */
export function assertValidFakeSpec(spec: LoadBalancerSpec): void {
  const errors = validateFakeSpec(spec).filter((issue) => issue.severity === "error");
  const first = errors[0];
  if (first === undefined) return;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? "s" : ""})` : "";
  throw new InvalidConfigurationError(first.field, `${first.message}${more}`);
}

/** The scheme `spec` asks for; assumes the spec is valid. */
export function schemeOf(spec: LoadBalancerSpec): FakeScheme {
  const value = spec.annotations[FAKE_SCHEME_ANNOTATION];
  return value === "internal" ? "internal" : "internet-facing";
}

/** What the fake cloud's load balancers serve, as ELBv2's do. */
const FAKE_LISTENERS = {
  protocols: ["TCP", "UDP"],
  servedBy: "the fake cloud's load balancers",
  maxPorts: FAKE_MAX_LISTENERS,
} as const;

function validateListeners(spec: LoadBalancerSpec): ValidationIssue[] {
  return listenerIssues(spec.listeners, FAKE_LISTENERS);
}

function validateHealthCheck(spec: LoadBalancerSpec): ValidationIssue[] {
  const check = spec.healthCheck;
  if (check.kind !== "http") return [];
  const issues: ValidationIssue[] = [];
  if (!isPort(check.port)) {
    issues.push(
      error(
        "spec.healthCheckNodePort",
        `${String(check.port)} is not a port; with externalTrafficPolicy Local the Service needs a healthCheckNodePort from 1 to 65535`,
      ),
    );
  }
  if (!check.path.startsWith("/")) {
    issues.push(error("spec.healthCheckNodePort", `health check path ${JSON.stringify(check.path)} must start with /`));
  }
  return issues;
}

function validateSourceRanges(ranges: readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  ranges.forEach((range, index) => {
    if (parseCidr(range) === undefined) {
      issues.push(
        error(
          `spec.loadBalancerSourceRanges[${index}]`,
          `${JSON.stringify(range)} is not a CIDR; write an address and prefix length such as 203.0.113.0/24`,
        ),
      );
    }
  });
  return issues;
}

function validateAnnotations(annotations: Readonly<Record<string, string>>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const scheme = annotations[FAKE_SCHEME_ANNOTATION];
  if (scheme !== undefined && !SCHEMES.has(scheme)) {
    issues.push(
      error(
        annotationField(FAKE_SCHEME_ANNOTATION),
        `${JSON.stringify(scheme)} is not a scheme; use "internal" or "internet-facing"`,
      ),
    );
  }
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(FAKE_ANNOTATION_PREFIX) && !KNOWN_ANNOTATIONS.has(key)) {
      issues.push({
        field: annotationField(key),
        message: `unknown annotation, ignored; the fake provider reads only ${[...KNOWN_ANNOTATIONS].join(", ")}`,
        severity: "warning",
      });
    }
  }
  return issues;
}

function annotationField(key: string): string {
  return `metadata.annotations[${JSON.stringify(key)}]`;
}

function error(field: string, message: string): ValidationIssue {
  return { field, message, severity: "error" };
}
