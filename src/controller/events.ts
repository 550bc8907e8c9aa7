/**
 * Event reasons and messages the controller records on Services. Reasons and messages are the
 * upstream service controller's, so dashboards and alerts written for a cloud-controller-manager keep
 * working; `LoadBalancerConfigurationWarning` is ours, for provider warnings that do not stop the build.
 *
 * @module
 */

export const EventReason = {
  EnsuringLoadBalancer: "EnsuringLoadBalancer",
  EnsuredLoadBalancer: "EnsuredLoadBalancer",
  UpdatedLoadBalancer: "UpdatedLoadBalancer",
  DeletingLoadBalancer: "DeletingLoadBalancer",
  DeletedLoadBalancer: "DeletedLoadBalancer",
  SyncLoadBalancerFailed: "SyncLoadBalancerFailed",
  DeleteLoadBalancerFailed: "DeleteLoadBalancerFailed",
  UnAvailableLoadBalancer: "UnAvailableLoadBalancer",
  LoadBalancerConfigurationWarning: "LoadBalancerConfigurationWarning",
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export type EventType = "Normal" | "Warning";

export const EventMessage = {
  ensuring: "Ensuring load balancer",
  ensured: "Ensured load balancer",
  updatedHosts: "Updated load balancer with new hosts",
  deleting: "Deleting load balancer",
  deleted: "Deleted load balancer",
  noNodes: "There are no available nodes for LoadBalancer",
  syncFailed: (cause: string): string => `Error syncing load balancer: ${cause}`,
  deleteFailed: (cause: string): string => `Error deleting load balancer: ${cause}`,
} as const;

/** The message of an error, for an event: the error's own message, never a stack. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
