/**
 * The fake cloud's API: operation names modelled on ELBv2, and which of them change anything.
 *
 * @module
 */

/** Every operation the fake cloud serves, with whether it mutates. */
export const FAKE_OPERATIONS = {
  DescribeLoadBalancer: false,
  ListLoadBalancers: false,
  CreateLoadBalancer: true,
  ModifyLoadBalancerAttributes: true,
  DeleteLoadBalancer: true,
  CreateTargetGroup: true,
  ModifyTargetGroup: true,
  DeleteTargetGroup: true,
  RegisterTargets: true,
  DeregisterTargets: true,
  CreateListener: true,
  ModifyListener: true,
  DeleteListener: true,
} as const satisfies Record<string, boolean>;

export type FakeOperation = keyof typeof FAKE_OPERATIONS;

export function isMutating(operation: FakeOperation): boolean {
  return FAKE_OPERATIONS[operation];
}
