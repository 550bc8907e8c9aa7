/**
 * What the controller says about the spec fields a provider does not read. A field added within
 * version 1 that changes what must be built comes with a declaration in
 * {@link ProviderCapabilities}; a provider that does not declare it builds as before the field existed,
 * and the Service hears about it here, as a warning naming the field, rather than not at all.
 *
 * @module
 */
import type { LoadBalancerSpec, ProviderCapabilities, ValidationIssue } from "../types.ts";
import { ipFamiliesOf } from "./ip-families.ts";

/**
 * A warning for each field `spec` sets that a provider declaring `capabilities` does not read. A field
 * it declares (honoured, or answered by its own `validate`) gets nothing here.
 */
export function undeclaredFieldIssues(
  spec: LoadBalancerSpec,
  capabilities: ProviderCapabilities | undefined,
  providerName: string,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const provider = `the ${providerName} provider`;
  const families = ipFamiliesOf(spec);
  if (capabilities?.ipFamilies === undefined && families.includes("IPv6")) {
    issues.push({
      field: "spec.ipFamilies",
      severity: "warning",
      message: `${families.join(",")} asks for IPv6, and ${provider} does not declare the families it serves, so its load balancer is built as before: for IPv4 clients, sending traffic to the nodes' IPv4 addresses; use a provider that serves IPv6, or give the Service IPv4`,
    });
  }
  if (capabilities?.sessionAffinity === undefined && spec.sessionAffinity !== undefined) {
    issues.push({
      field: "spec.sessionAffinity",
      severity: "warning",
      message: `ClientIP is not applied by ${provider}'s load balancer, so one client's connections may reach different nodes (kube-proxy keeps affinity per node only); turn on the load balancer's own stickiness if it has one, or set sessionAffinity: None`,
    });
  }
  if (capabilities?.loadBalancerIP === undefined && spec.loadBalancerIP !== undefined) {
    issues.push({
      field: "spec.loadBalancerIP",
      severity: "warning",
      message: `${spec.loadBalancerIP} is not read by ${provider}: the load balancer gets the address the provider gives it, not this one; remove the field (deprecated) and request an address the provider's own way`,
    });
  }
  return issues;
}
