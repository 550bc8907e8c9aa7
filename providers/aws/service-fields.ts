/**
 * What the AWS provider makes of the Service fields beyond its ports and annotations: IP families,
 * `sessionAffinity` and `loadBalancerIP` — the decisions (pure), and the issues `validate` reports.
 *
 * - IP families: an NLB serves IPv4 clients (`IpAddressType: ipv4`) or IPv4 and IPv6 clients
 *   (`dualstack`); a Service that lists IPv6 gets `dualstack`, one that lists only IPv4 gets `ipv4`,
 *   and the `aws-load-balancer-ip-address-type` annotation overrides both. Traffic to the nodes uses
 *   the Service's primary family: `ip` targets of that family (a target group for IPv6 addresses when
 *   it is IPv6, which AWS allows only behind a `dualstack` NLB); instance targets, which this provider
 *   registers in IPv4 target groups, serve a Service whose primary family is IPv4.
 * - `sessionAffinity: ClientIP`: source-IP stickiness on every target group that can have it. An NLB
 *   has no stickiness timeout, so the Service's `timeoutSeconds` is answered with a warning.
 * - `loadBalancerIP`: an NLB takes one address per subnet, requested by annotation; the field is
 *   answered with a warning naming those annotations.
 *
 * @module
 */
import { ipFamiliesOf } from "../rules/index.ts";
import type { IPFamily, LoadBalancerSpec, ProviderCapabilities, ValidationIssue } from "../types.ts";
import { ANNOTATION, type AwsServiceConfig, annotationField } from "./annotations.ts";
import type { LoadBalancerAddressType, TargetGroupAddressType, TargetGroupProtocol, TargetType } from "./state.ts";

/** What the AWS provider declares of the spec fields added within version 1 (see `providers/types.ts`). */
export const AWS_CAPABILITIES: ProviderCapabilities = Object.freeze({
  ipFamilies: Object.freeze(["IPv4", "IPv6"] as const),
  sessionAffinity: "answered",
  loadBalancerIP: "answered",
});

/** The target group attributes that make ClientIP affinity, and what they are without it. */
export const CLIENT_IP_STICKINESS = Object.freeze({ "stickiness.enabled": "true", "stickiness.type": "source_ip" });
export const NO_STICKINESS = Object.freeze({ "stickiness.enabled": "false" });

/** The NLB's `IpAddressType`: the annotation when set, else `dualstack` when the Service lists IPv6. */
export function loadBalancerAddressType(
  spec: Pick<LoadBalancerSpec, "ipFamilies">,
  config: Pick<AwsServiceConfig, "ipAddressType">,
): LoadBalancerAddressType {
  return config.ipAddressType ?? (ipFamiliesOf(spec).includes("IPv6") ? "dualstack" : "ipv4");
}

/** The family traffic to the nodes uses: the Service's primary one. */
export function nodeFamily(spec: Pick<LoadBalancerSpec, "ipFamilies">): IPFamily {
  return ipFamiliesOf(spec)[0] ?? "IPv4";
}

/**
 * The target type when the annotation does not set one: `ip` for a Service whose primary family is
 * IPv6 (instance target groups here are IPv4) or when no node has an AWS providerID; else `instance`.
 */
export function defaultTargetType(family: IPFamily, anyInstance: boolean): TargetType {
  return family === "IPv6" || !anyInstance ? "ip" : "instance";
}

/** A target group's `IpAddressType`: IPv6 only for ip targets of an IPv6-primary Service. */
export function targetGroupAddressType(targetType: TargetType, family: IPFamily): TargetGroupAddressType {
  return targetType === "ip" && family === "IPv6" ? "ipv6" : "ipv4";
}

/**
 * The stickiness attributes a target group gets: ClientIP affinity turns it on (AWS refuses it on TLS
 * target groups, which are left alone); without affinity it is off, unless the target-group-attributes
 * annotation sets it, which wins.
 */
export function stickinessAttributes(
  spec: Pick<LoadBalancerSpec, "sessionAffinity">,
  config: Pick<AwsServiceConfig, "targetGroupAttributes">,
  protocol: TargetGroupProtocol,
): Readonly<Record<string, string>> {
  if (protocol === "TLS" || Object.hasOwn(config.targetGroupAttributes, "stickiness.enabled")) return {};
  return spec.sessionAffinity === undefined ? NO_STICKINESS : CLIENT_IP_STICKINESS;
}

/** Every issue with the Service fields this module covers. */
export function serviceFieldIssues(spec: LoadBalancerSpec, config: AwsServiceConfig): ValidationIssue[] {
  return [...familyIssues(spec, config), ...affinityIssues(spec, config), ...loadBalancerIPIssues(spec, config)];
}

function familyIssues(spec: LoadBalancerSpec, config: AwsServiceConfig): ValidationIssue[] {
  const families = ipFamiliesOf(spec);
  const primary = nodeFamily(spec);
  const issues: ValidationIssue[] = [];
  const listed = `spec.ipFamilies [${families.join(", ")}]`;
  if (config.ipAddressType === "ipv4" && families.includes("IPv6")) {
    const field = annotationField(ANNOTATION.ipAddressType);
    if (primary === "IPv4" && spec.ipFamilyPolicy === "PreferDualStack")
      issues.push({
        field,
        severity: "warning",
        message: `"ipv4" leaves out the IPv6 clients ${listed} asks for: the load balancer serves IPv4 clients only; set it to "dualstack" or remove it to serve both`,
      });
    else
      issues.push({
        field,
        severity: "error",
        message: `"ipv4" cannot serve ${listed}: IPv6 clients need a dualstack load balancer; set it to "dualstack", remove it, or give the Service IPv4 only`,
      });
  }
  if (config.targetType === "instance" && primary === "IPv6") {
    const field = annotationField(ANNOTATION.targetType);
    const singleStack = !families.includes("IPv4");
    issues.push({
      field,
      severity: singleStack ? "error" : "warning",
      message: singleStack
        ? `"instance" targets receive traffic on the nodes' IPv4 addresses, and ${listed} is served on IPv6 only; set it to "ip" (targets by the nodes' IPv6 InternalIP) or remove it`
        : `"instance" targets receive traffic on the nodes' IPv4 addresses, not on the primary family IPv6 of ${listed}; set it to "ip" or remove it to reach the nodes over IPv6`,
    });
  }
  return issues;
}

function affinityIssues(spec: LoadBalancerSpec, config: AwsServiceConfig): ValidationIssue[] {
  const affinity = spec.sessionAffinity;
  if (affinity === undefined) return [];
  const issues: ValidationIssue[] = [];
  const stickiness = config.targetGroupAttributes["stickiness.enabled"];
  if (stickiness === "false")
    issues.push({
      field: annotationField(ANNOTATION.targetGroupAttributes),
      severity: "error",
      message:
        "stickiness.enabled=false contradicts spec.sessionAffinity: ClientIP; remove it from the annotation, or set sessionAffinity: None",
    });
  const tlsBackends = config.tls?.backendTls === true;
  issues.push({
    field: "spec.sessionAffinity",
    severity: "warning",
    message:
      `ClientIP is applied as source-IP stickiness on the load balancer's target groups (stickiness.enabled=true, stickiness.type=source_ip), ` +
      `whose duration AWS does not let you set, so timeoutSeconds (${affinity.timeoutSeconds}) has no effect` +
      (tlsBackends
        ? `; ports with a TLS backend (${ANNOTATION.backendProtocol}: ssl) get none, as AWS allows no stickiness on TLS target groups`
        : "") +
      "; set sessionAffinity: None to turn it off",
  });
  return issues;
}

function loadBalancerIPIssues(spec: LoadBalancerSpec, config: AwsServiceConfig): ValidationIssue[] {
  const address = spec.loadBalancerIP;
  if (address === undefined) return [];
  const instead =
    config.scheme === "internal"
      ? `list private addresses in ${ANNOTATION.privateIpv4Addresses}`
      : `list Elastic IP allocation IDs in ${ANNOTATION.eipAllocations}`;
  return [
    {
      field: "spec.loadBalancerIP",
      severity: "warning",
      message: `${address} is not used: a Network Load Balancer takes one address per subnet, not one for the Service; ${instead} (one per subnet, in subnet order), and remove the field (deprecated)`,
    },
  ];
}
