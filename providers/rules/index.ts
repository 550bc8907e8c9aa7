/**
 * Rules the controller and the providers share, on the neutral side of the seam so both may import
 * them: CIDRs and addresses, Go-style booleans, http(s) endpoints, AWS region names, label syntax, what
 * makes a port a buildable listener and when a cloud listener serves it, IP families, and what the
 * controller says of fields a provider does not declare.
 * Exported to plugin authors through `lb-provisioner/providers`.
 *
 * @module
 */
export * from "./aws-region.ts";
export * from "./capabilities.ts";
export * from "./cidr.ts";
export * from "./go-bool.ts";
export * from "./ip-families.ts";
export * from "./labels.ts";
export * from "./listeners.ts";
export * from "./urls.ts";
