/**
 * The one place that knows AWS error names. Every SDK error is sorted here, by its `name` (never its
 * message), into the neutral classes of `providers/errors.ts`; the rest of the provider asks the
 * predicates below (`isNotFound`, `isResourceInUse`, ...) instead of comparing AWS names itself.
 *
 * ELBv2 reports modelled errors as `<Code>Exception` (e.g. `LoadBalancerNotFoundException`) and
 * unmodelled ones by their bare code (`Throttling`); EC2 errors are bare codes with dots
 * (`InvalidGroup.NotFound`). Names are compared without the `Exception` suffix.
 *
 * @module
 */
import {
  ConflictError,
  InvalidConfigurationError,
  type ProviderError,
  providerErrorKind,
  ThrottledError,
  TransientError,
} from "../errors.ts";
import type { ProviderCall } from "../types.ts";

export type AwsOutcome = Exclude<ProviderCall["outcome"], "success">;

/** A resource that is not there (any more). Transient for the controller: the next ensure recreates it. */
export class NotFoundError extends TransientError {
  override readonly name = "NotFoundError";
}

/**
 * AWS refuses to delete a load balancer whose deletion protection is on. A conflict: nothing the
 * controller does can fix it, an operator switching protection off does, and the retry then succeeds.
 */
export class DeletionProtectedError extends ConflictError {
  override readonly name = "DeletionProtectedError";
}

const THROTTLED = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequests",
  "TooManyRequestsException",
  "SlowDown",
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "PriorRequestNotComplete",
]);

const NOT_FOUND = new Set([
  "LoadBalancerNotFound",
  "TargetGroupNotFound",
  "ListenerNotFound",
  "RuleNotFound",
  "InvalidGroup.NotFound",
  "InvalidPermission.NotFound",
  "InvalidInstanceID.NotFound",
  "InvalidVpcID.NotFound",
  "InvalidRouteTableID.NotFound",
]);

/** The Service asked for something AWS refuses; terminal until the Service changes. */
const INVALID = new Set([
  "ValidationError",
  "InvalidConfigurationRequest",
  "InvalidParameterValue",
  "InvalidParameterCombination",
  "InvalidParameter",
  "MissingParameter",
  "InvalidScheme",
  "InvalidSubnet",
  "SubnetNotFound",
  "InvalidSubnetID.NotFound",
  "InvalidSecurityGroup",
  "CertificateNotFound",
  "SSLPolicyNotFound",
  "UnsupportedProtocol",
  "IncompatibleProtocols",
  "ALPNPolicyNotSupported",
  "AllocationIdNotFound",
  "InvalidAllocationID.NotFound",
  "AvailabilityZoneNotSupported",
  "TooManyListeners",
  "TooManyTargets",
  "TooManyTargetGroups",
  "TooManyLoadBalancers",
  "TooManyTags",
  "TooManyCertificates",
  "TooManyRegistrationsForTargetId",
  "TooManyUniqueTargetGroupsPerLoadBalancer",
  "TargetGroupAssociationLimit",
  "DuplicateTagKeys",
  "RulesPerSecurityGroupLimitExceeded",
  "SecurityGroupLimitExceeded",
]);

/** Something with our name is there and is not ours, or AWS forbids the change. */
const CONFLICT = new Set([
  "DuplicateLoadBalancerName",
  "DuplicateTargetGroupName",
  "DuplicateListener",
  "InvalidGroup.Duplicate",
  "OperationNotPermitted",
]);

/** The AWS error name of `error` (or of its `cause`), without a trailing `Exception`. */
export function awsErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 3; depth++) {
    if (typeof e === "object" && "$metadata" in e && "name" in e && typeof e.name === "string")
      return e.name.replace(/Exception$/, "");
    e = typeof e === "object" && "cause" in e ? e.cause : undefined;
  }
  return undefined;
}

/**
 * Whether a call failed on AWS's side or in transit — a 5xx, or no HTTP answer at all (a dropped
 * connection, a timeout) — rather than being refused for what it asked. Such a failure says nothing
 * about the request, so a read may be sent again at once.
 */
export function isServerOrNetworkFailure(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { $fault?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (e.$fault === "server") return true;
  const status = e.$metadata?.httpStatusCode;
  return typeof status !== "number" || status >= 500;
}

/** How an AWS error counts in metrics. */
export function outcomeOf(error: unknown): AwsOutcome {
  const code = awsErrorCode(error);
  if (code === undefined) return "transient";
  if (THROTTLED.has(code) || THROTTLED.has(`${code}Exception`)) return "throttled";
  if (NOT_FOUND.has(code)) return "not_found";
  if (INVALID.has(code)) return "invalid";
  if (CONFLICT.has(code)) return "conflict";
  return "transient";
}

/**
 * The neutral error for a failed AWS call. Throttling that outlived the client's retries becomes
 * {@link ThrottledError}; access-denied, 5xx and network errors are {@link TransientError}s (an operator
 * can fix IAM without touching the Service, so backing off and retrying is right).
 */
export function toProviderError(error: unknown, operation: string, resource?: string): ProviderError {
  if (isProviderError(error)) return error;
  const code = awsErrorCode(error) ?? (error instanceof Error ? error.name : "UnknownError");
  const detail = error instanceof Error ? error.message : String(error);
  const message = `AWS ${operation} failed: ${code}: ${detail}`;
  // The one refusal of DeleteLoadBalancer that is OperationNotPermitted: its deletion protection.
  if (operation === "DeleteLoadBalancer" && code === "OperationNotPermitted")
    return deletionProtected(resource ?? "the load balancer", message, error);
  switch (outcomeOf(error)) {
    case "throttled":
      return new ThrottledError(message, { cause: error });
    case "not_found":
      return new NotFoundError(message, { cause: error });
    case "invalid":
      return new InvalidConfigurationError("spec", `${message}; fix the Service so AWS accepts it`, { cause: error });
    case "conflict":
      return new ConflictError(operation, message, { cause: error });
    default:
      return new TransientError(message, { cause: error });
  }
}

function deletionProtected(arn: string, message: string, cause: unknown): DeletionProtectedError {
  return new DeletionProtectedError(
    arn,
    `load balancer ${arn} has deletion protection on, so AWS refuses to delete it (${message}). ` +
      "Switch it off and the deletion completes at the next retry: " +
      `aws elbv2 modify-load-balancer-attributes --load-balancer-arn ${arn} --attributes Key=deletion_protection.enabled,Value=false`,
    { cause },
  );
}

function isProviderError(error: unknown): error is ProviderError {
  return error instanceof Error && providerErrorKind(error) !== undefined;
}

export function isThrottled(error: unknown): boolean {
  return outcomeOf(error) === "throttled";
}

export function isNotFound(error: unknown): boolean {
  return error instanceof NotFoundError || outcomeOf(error) === "not_found";
}

/** A target group still attached to a listener or load balancer (AWS detaches asynchronously). */
export function isResourceInUse(error: unknown): boolean {
  return awsErrorCode(error) === "ResourceInUse";
}

/** A security group still referenced, e.g. by the network interfaces of a load balancer being deleted. */
export function isDependencyViolation(error: unknown): boolean {
  return awsErrorCode(error) === "DependencyViolation";
}

/** An ingress rule that already exists (a concurrent authorize won the race). */
export function isDuplicatePermission(error: unknown): boolean {
  return awsErrorCode(error) === "InvalidPermission.Duplicate";
}
