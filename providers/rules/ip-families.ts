/**
 * IP families: which a spec asks for, which a provider builds, and how a provider answers the ones it
 * cannot serve. One rule for the controller, every built-in provider and plugins, so a Service gets
 * the same answer whichever provider it meets.
 *
 * @module
 */
import type { IPFamily, LoadBalancerSpec, NodeSpec, ValidationIssue } from "../types.ts";
import { parseIpAddress } from "./cidr.ts";

/** What a spec without `ipFamilies` means: what every load balancer was before the field existed. */
export const DEFAULT_IP_FAMILIES: readonly IPFamily[] = Object.freeze(["IPv4"]);

/** Both families, IPv4 first. */
export const ALL_IP_FAMILIES: readonly IPFamily[] = Object.freeze(["IPv4", "IPv6"]);

/** The families `spec` asks for, primary first; never empty. */
export function ipFamiliesOf(spec: Pick<LoadBalancerSpec, "ipFamilies">): readonly IPFamily[] {
  return spec.ipFamilies !== undefined && spec.ipFamilies.length > 0 ? spec.ipFamilies : DEFAULT_IP_FAMILIES;
}

/**
 * The families to build for `spec` on a provider serving `served`: those asked for that it serves, in
 * the spec's order (so the first is the family traffic to the nodes uses). Empty when it serves none of
 * them — {@link ipFamilyIssues} then has an error.
 */
export function buildableIpFamilies(
  spec: Pick<LoadBalancerSpec, "ipFamilies">,
  served: readonly IPFamily[],
): IPFamily[] {
  return ipFamiliesOf(spec).filter((family) => served.includes(family));
}

/**
 * How a provider serving `served` answers `spec`'s families: nothing when it serves them all; a
 * warning on `spec.ipFamilies` when the Service prefers dual-stack and one family it lists is served
 * (the load balancer is built for that one); otherwise an error on `spec.ipFamilies`, so nothing of
 * the wrong family is built.
 */
export function ipFamilyIssues(
  spec: Pick<LoadBalancerSpec, "ipFamilies" | "ipFamilyPolicy">,
  served: readonly IPFamily[],
): ValidationIssue[] {
  const wanted = ipFamiliesOf(spec);
  const missing = wanted.filter((family) => !served.includes(family));
  if (missing.length === 0) return [];
  const builds = buildableIpFamilies(spec, served);
  const servesOnly = served.length === 0 ? "no IP family" : `${served.join(" and ")} only`;
  const field = "spec.ipFamilies";
  if (spec.ipFamilyPolicy === "PreferDualStack" && builds.length > 0) {
    return [
      {
        field,
        severity: "warning",
        message: `${missing.join(" and ")} is not served: this provider's load balancers serve ${servesOnly}, so the load balancer is built for ${builds.join(" and ")}; use a provider that serves ${missing.join(" and ")} if clients need it`,
      },
    ];
  }
  if (spec.ipFamilyPolicy === "RequireDualStack") {
    return [
      {
        field,
        severity: "error",
        message: `RequireDualStack needs ${wanted.join(" and ")}, but this provider's load balancers serve ${servesOnly}; set spec.ipFamilyPolicy to PreferDualStack to accept a load balancer for ${builds.join(" and ") || "the families it serves"}, or use a provider that serves both`,
      },
    ];
  }
  return [
    {
      field,
      severity: "error",
      message: `${missing.join(" and ")} is not served: this provider's load balancers serve ${servesOnly}; give the Service a family it serves (spec.ipFamilies: [${served[0] ?? "IPv4"}], or spec.ipFamilyPolicy: PreferDualStack with both), or use a provider that serves ${missing.join(" and ")}`,
    },
  ];
}

/**
 * For a provider that honours `spec.loadBalancerIP`: an error when it is not an IP address, or is one of
 * a family the load balancer is not built for (see {@link buildableIpFamilies}).
 */
export function loadBalancerIPIssues(
  spec: Pick<LoadBalancerSpec, "ipFamilies" | "loadBalancerIP">,
  served: readonly IPFamily[],
): ValidationIssue[] {
  const address = spec.loadBalancerIP;
  if (address === undefined) return [];
  const field = "spec.loadBalancerIP";
  const family = ipFamilyOfAddress(address);
  if (family === undefined) {
    return [
      {
        field,
        severity: "error",
        message: `${JSON.stringify(address)} is not an IP address; give one, or remove the field`,
      },
    ];
  }
  const families = buildableIpFamilies(spec, served);
  if (families.includes(family)) return [];
  return [
    {
      field,
      severity: "error",
      message: `${address} is an ${family} address, and the Service's load balancer serves ${families.join(" and ") || "no family"}; ask for an address of a family it serves`,
    },
  ];
}

/** The family of an address (read as strictly as `parseIpAddress`), or `undefined` when it is not one. */
export function ipFamilyOfAddress(address: string): IPFamily | undefined {
  const kind = parseIpAddress(address)?.kind();
  return kind === "ipv4" ? "IPv4" : kind === "ipv6" ? "IPv6" : undefined;
}

/** The node's first `InternalIP` of `family`, or `undefined` when it has none. */
export function internalAddressOf(node: NodeSpec, family: IPFamily): string | undefined {
  return node.addresses.find((a) => a.type === "InternalIP" && ipFamilyOfAddress(a.address) === family)?.address;
}
