import { describe, expect, it } from "vitest";
import {
  awsErrorCode,
  DeletionProtectedError,
  isDependencyViolation,
  isDuplicatePermission,
  isNotFound,
  isResourceInUse,
  NotFoundError,
  outcomeOf,
  toProviderError,
} from "../../../providers/aws/errors.ts";
import {
  ConflictError,
  InvalidConfigurationError,
  providerErrorKind,
  RetryAfterError,
  ThrottledError,
  TransientError,
} from "../../../providers/errors.ts";

/** An error shaped like the AWS SDK's service exceptions. */
function awsError(name: string, message = "from AWS"): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 }, $fault: "client" });
}

describe("AWS error boundary", () => {
  it.each([
    ["Throttling", "throttled", ThrottledError],
    ["ThrottlingException", "throttled", ThrottledError],
    ["RequestLimitExceeded", "throttled", ThrottledError],
    ["TooManyRequestsException", "throttled", ThrottledError],
    ["LoadBalancerNotFoundException", "not_found", NotFoundError],
    ["TargetGroupNotFoundException", "not_found", NotFoundError],
    ["ListenerNotFoundException", "not_found", NotFoundError],
    ["InvalidGroup.NotFound", "not_found", NotFoundError],
    ["ValidationError", "invalid", InvalidConfigurationError],
    ["InvalidConfigurationRequestException", "invalid", InvalidConfigurationError],
    ["CertificateNotFoundException", "invalid", InvalidConfigurationError],
    ["SubnetNotFoundException", "invalid", InvalidConfigurationError],
    ["TooManyTargetsException", "invalid", InvalidConfigurationError],
    ["InvalidParameterValue", "invalid", InvalidConfigurationError],
    ["DuplicateLoadBalancerNameException", "conflict", ConflictError],
    ["DuplicateTargetGroupNameException", "conflict", ConflictError],
    ["InvalidGroup.Duplicate", "conflict", ConflictError],
    ["OperationNotPermittedException", "conflict", ConflictError],
    ["ResourceInUseException", "transient", TransientError],
    ["DependencyViolation", "transient", TransientError],
    ["InvalidTargetException", "transient", TransientError],
    ["AccessDenied", "transient", TransientError],
    ["UnauthorizedOperation", "transient", TransientError],
    ["InternalFailure", "transient", TransientError],
    ["SomethingNew", "transient", TransientError],
  ])("%s -> %s", (name, outcome, errorClass) => {
    const original = awsError(name);
    expect(outcomeOf(original)).toBe(outcome);
    const mapped = toProviderError(original, "CreateListener");
    expect(mapped).toBeInstanceOf(errorClass);
    expect(mapped.cause).toBe(original);
    expect(mapped.message).toContain("CreateListener");
    expect(providerErrorKind(mapped)).toBeDefined();
  });

  it("names the field on invalid configuration and the resource on conflicts", () => {
    const invalid = toProviderError(awsError("ValidationError"), "CreateTargetGroup") as InvalidConfigurationError;
    expect(invalid.field).toBe("spec");
    expect((toProviderError(awsError("DuplicateListenerException"), "CreateListener") as ConflictError).resource).toBe(
      "CreateListener",
    );
  });

  it("says a load balancer AWS will not delete has deletion protection on, and how to switch it off", () => {
    const arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/k8s-default-web-0123456789/abc";
    const refusal = awsError("OperationNotPermittedException", "deletion protection is enabled");
    const mapped = toProviderError(refusal, "DeleteLoadBalancer", arn);
    expect(mapped).toBeInstanceOf(DeletionProtectedError);
    expect(providerErrorKind(mapped)).toBe("conflict");
    expect((mapped as ConflictError).resource).toBe(arn);
    expect(mapped.message).toContain(`load balancer ${arn} has deletion protection on`);
    expect(mapped.message).toContain(
      `modify-load-balancer-attributes --load-balancer-arn ${arn} --attributes Key=deletion_protection.enabled,Value=false`,
    );
    // Another operation's OperationNotPermitted is an ordinary conflict.
    expect(toProviderError(refusal, "CreateListener")).not.toBeInstanceOf(DeletionProtectedError);
  });

  it("treats network errors and non-AWS errors as transient", () => {
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(outcomeOf(reset)).toBe("transient");
    expect(toProviderError(reset, "DescribeTags")).toBeInstanceOf(TransientError);
    expect(toProviderError("weird", "DescribeTags")).toBeInstanceOf(TransientError);
  });

  it("passes provider errors through unchanged", () => {
    const retry = new RetryAfterError("later", 5000);
    expect(toProviderError(retry, "DescribeTags")).toBe(retry);
  });

  it("reads the AWS name through one level of cause", () => {
    const wrapped = new TransientError("wrapped", { cause: awsError("ResourceInUseException") });
    expect(awsErrorCode(wrapped)).toBe("ResourceInUse");
    expect(isResourceInUse(wrapped)).toBe(true);
    expect(isDependencyViolation(new TransientError("x", { cause: awsError("DependencyViolation") }))).toBe(true);
    expect(isDuplicatePermission(new TransientError("x", { cause: awsError("InvalidPermission.Duplicate") }))).toBe(
      true,
    );
    expect(isNotFound(new TransientError("x", { cause: awsError("InvalidPermission.NotFound") }))).toBe(true);
    expect(isNotFound(new Error("plain"))).toBe(false);
    expect(awsErrorCode(new Error("ThrottlingException"))).toBeUndefined();
  });
});
