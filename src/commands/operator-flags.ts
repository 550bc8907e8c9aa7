/**
 * The flags the operator commands (`plan`, `status`, `gc`) take: where the cluster is, and what the
 * controller runs with, so an operator points them at exactly what the controller sees.
 *
 * @module
 */
export const OPERATOR_FLAGS: readonly string[] = [
  "--kubeconfig",
  "--cluster-name",
  "--load-balancer-class",
  "--provider",
  "--provider-config",
  "--aws-region",
  "--aws-endpoint-url",
];
