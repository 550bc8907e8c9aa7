/**
 * Every AWS operation the provider can call, with what the client needs to know about each: whether it
 * changes anything (metrics, "no mutating call" guarantees), which client-side rate-limit bucket it
 * draws from, and the IAM actions it needs. `deploy/iam-policy.json` is checked against this table by a
 * unit test, in both directions.
 *
 * @module
 */

export type AwsService = "elbv2" | "ec2";

/**
 * Client-side rate-limit classes, after the AWS Load Balancer Controller's default `--aws-api-throttle`
 * (Register/Deregister 4/s burst 20, Describe 50/s burst 200, Modify 3/s burst 20). Everything else
 * (create, delete, tag, security group rules) shares a `mutate` bucket.
 */
export type RateClass = "describe" | "register" | "modify" | "mutate";

export interface OperationInfo {
  readonly service: AwsService;
  readonly mutating: boolean;
  readonly rateClass: RateClass;
  /**
   * IAM actions AWS checks besides the operation's own, e.g. tagging on create: `CreateLoadBalancer`
   * with `Tags` is also authorized as `elasticloadbalancing:AddTags`.
   */
  readonly alsoAuthorizes?: readonly string[];
}

const describe = (service: AwsService): OperationInfo => ({ service, mutating: false, rateClass: "describe" });
const mutate = (
  service: AwsService,
  rateClass: RateClass = "mutate",
  alsoAuthorizes?: readonly string[],
): OperationInfo =>
  alsoAuthorizes === undefined
    ? { service, mutating: true, rateClass }
    : { service, mutating: true, rateClass, alsoAuthorizes };

export const OPERATIONS = {
  DescribeLoadBalancers: describe("elbv2"),
  DescribeLoadBalancerAttributes: describe("elbv2"),
  DescribeListeners: describe("elbv2"),
  DescribeListenerCertificates: describe("elbv2"),
  DescribeTargetGroups: describe("elbv2"),
  DescribeTargetGroupAttributes: describe("elbv2"),
  DescribeTargetHealth: describe("elbv2"),
  DescribeTags: describe("elbv2"),
  CreateLoadBalancer: mutate("elbv2", "mutate", ["elasticloadbalancing:AddTags"]),
  CreateTargetGroup: mutate("elbv2", "mutate", ["elasticloadbalancing:AddTags"]),
  CreateListener: mutate("elbv2", "mutate", ["elasticloadbalancing:AddTags"]),
  AddTags: mutate("elbv2"),
  SetSecurityGroups: mutate("elbv2"),
  SetIpAddressType: mutate("elbv2"),
  ModifyLoadBalancerAttributes: mutate("elbv2", "modify"),
  ModifyTargetGroup: mutate("elbv2", "modify"),
  ModifyTargetGroupAttributes: mutate("elbv2", "modify"),
  ModifyListener: mutate("elbv2", "modify"),
  AddListenerCertificates: mutate("elbv2"),
  RemoveListenerCertificates: mutate("elbv2"),
  RegisterTargets: mutate("elbv2", "register"),
  DeregisterTargets: mutate("elbv2", "register"),
  DeleteListener: mutate("elbv2"),
  DeleteLoadBalancer: mutate("elbv2"),
  DeleteTargetGroup: mutate("elbv2"),
  DescribeInstances: describe("ec2"),
  DescribeSubnets: describe("ec2"),
  DescribeRouteTables: describe("ec2"),
  DescribeAvailabilityZones: describe("ec2"),
  DescribeSecurityGroups: describe("ec2"),
  CreateSecurityGroup: mutate("ec2", "mutate", ["ec2:CreateTags"]),
  AuthorizeSecurityGroupIngress: mutate("ec2"),
  RevokeSecurityGroupIngress: mutate("ec2"),
  DeleteSecurityGroup: mutate("ec2"),
} as const satisfies Record<string, OperationInfo>;

export type OperationName = keyof typeof OPERATIONS;

/** `elasticloadbalancing:CreateLoadBalancer`, `ec2:DescribeSubnets`, ... */
export function iamAction(operation: OperationName): string {
  const info: OperationInfo = OPERATIONS[operation];
  return `${info.service === "elbv2" ? "elasticloadbalancing" : "ec2"}:${operation}`;
}

/** Every IAM action the provider can need: each operation's own plus what it also authorizes. */
export function requiredIamActions(): string[] {
  const actions = new Set<string>();
  for (const operation of Object.keys(OPERATIONS) as OperationName[]) {
    actions.add(iamAction(operation));
    const info: OperationInfo = OPERATIONS[operation];
    for (const extra of info.alsoAuthorizes ?? []) actions.add(extra);
  }
  return [...actions].sort();
}

export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Per service and class; AWS throttles ELBv2 and EC2 separately, so they get separate buckets. */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateClass, RateLimit>> = {
  describe: { ratePerSecond: 50, burst: 200 },
  register: { ratePerSecond: 4, burst: 20 },
  modify: { ratePerSecond: 3, burst: 20 },
  mutate: { ratePerSecond: 10, burst: 40 },
};

/** The rate-limit bucket an operation draws from, e.g. `elbv2:register`. */
export function rateBucket(operation: OperationName): string {
  const info: OperationInfo = OPERATIONS[operation];
  return `${info.service}:${info.rateClass}`;
}
