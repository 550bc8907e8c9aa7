import { describe, expect, it } from "vitest";
import { AwsClient, type AwsClientOptions } from "../../../providers/aws/client.ts";
import { DeletionProtectedError } from "../../../providers/aws/errors.ts";
import { DEFAULT_RATE_LIMITS } from "../../../providers/aws/operations.ts";
import type { Clock } from "../../../providers/aws/rate-limit.ts";
import { ThrottledError, TransientError } from "../../../providers/errors.ts";
import type { ProviderCall } from "../../../providers/types.ts";
import { ec2Error, elbError, elbOk, type StubAnswer, stubbedClients } from "./stub-aws.ts";

const FAST_RETRY = { retries: 3, minTimeoutMs: 1, maxTimeoutMs: 2 };

function clientWith(answers: readonly StubAnswer[], options: Partial<AwsClientOptions> = {}) {
  const stub = stubbedClients(answers);
  const calls: ProviderCall[] = [];
  const client = new AwsClient({
    elbv2: stub.elbv2,
    ec2: stub.ec2,
    onCall: (call) => calls.push(call),
    retry: FAST_RETRY,
    ...options,
  });
  return { client, calls, requests: stub.requests };
}

const LB_XML =
  "<LoadBalancers><member><LoadBalancerName>lb</LoadBalancerName><LoadBalancerArn>arn:lb</LoadBalancerArn><Type>network</Type></member></LoadBalancers>";

describe("AwsClient", () => {
  it("retries throttling with backoff and counts every attempt", async () => {
    const { client, calls, requests } = clientWith([
      elbError("Throttling", "Rate exceeded"),
      elbError("Throttling", "Rate exceeded"),
      elbOk("DescribeLoadBalancers", LB_XML),
    ]);
    const found = await client.findLoadBalancers("lb");
    expect(found.map((lb) => lb.LoadBalancerArn)).toEqual(["arn:lb"]);
    expect(requests).toEqual(["DescribeLoadBalancers", "DescribeLoadBalancers", "DescribeLoadBalancers"]);
    expect(calls.map((c) => [c.operation, c.mutating, c.outcome])).toEqual([
      ["DescribeLoadBalancers", false, "throttled"],
      ["DescribeLoadBalancers", false, "throttled"],
      ["DescribeLoadBalancers", false, "success"],
    ]);
    for (const call of calls) expect(call.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("gives up on throttling after its retries with ThrottledError", async () => {
    const { client, requests } = clientWith([elbError("Throttling", "Rate exceeded")]);
    const error = await client.registerTargets("arn:tg", [{ id: "i-1", port: 30008 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as Error).message).toMatch(/RegisterTargets.*Throttling.*Rate exceeded/);
    expect(requests).toHaveLength(FAST_RETRY.retries + 1);
  });

  it("retries EC2's RequestLimitExceeded as throttling", async () => {
    const { client, calls } = clientWith([
      ec2Error("RequestLimitExceeded"),
      {
        status: 200,
        body: "<DescribeAvailabilityZonesResponse><availabilityZoneInfo/></DescribeAvailabilityZonesResponse>",
      },
    ]);
    expect(await client.describeAvailabilityZones()).toEqual([]);
    expect(calls.map((c) => c.outcome)).toEqual(["throttled", "success"]);
  });

  // Errors moto answers itself (not found, validation, duplicates) are tested against it in test/aws.
  it.each([
    ["InternalFailure", 500],
    ["ServiceUnavailable", 503],
    ["AccessDenied", 403],
  ])(
    "does not retry a mutating call after %s (%i): a transient error for the controller's backoff",
    async (code, status) => {
      const { client, calls, requests } = clientWith([elbError(code, "nope", status)]);
      const error = await client.createLoadBalancer({ Name: "lb" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect((error as Error).message).toContain(code);
      expect(requests).toEqual(["CreateLoadBalancer"]);
      expect(calls).toEqual([
        { operation: "CreateLoadBalancer", mutating: true, outcome: "transient", durationMs: expect.any(Number) },
      ]);
    },
  );

  it.each([
    ["InternalFailure", 500],
    ["ServiceUnavailable", 503],
  ])("retries a read after %s (%i): it changes nothing", async (code, status) => {
    const { client, calls } = clientWith([elbError(code, "nope", status), elbOk("DescribeLoadBalancers", LB_XML)]);
    expect((await client.findLoadBalancers("lb")).map((lb) => lb.LoadBalancerArn)).toEqual(["arn:lb"]);
    expect(calls.map((c) => c.outcome)).toEqual(["transient", "success"]);
  });

  it("does not retry a read refused for what it asked (403)", async () => {
    const { client, requests } = clientWith([elbError("AccessDenied", "nope", 403)]);
    await expect(client.findLoadBalancers("lb")).rejects.toBeInstanceOf(TransientError);
    expect(requests).toEqual(["DescribeLoadBalancers"]);
  });

  it("rejects with the signal's reason and calls nothing when already aborted", async () => {
    const { client, requests } = clientWith([elbOk("DescribeLoadBalancers", LB_XML)]);
    const reason = new Error("stop");
    await expect(client.findLoadBalancers("lb", { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(requests).toEqual([]);
  });

  it("stops retrying when aborted during backoff", async () => {
    const controller = new AbortController();
    const reason = new Error("shutting down");
    const { client, requests } = clientWith([elbError("Throttling")], {
      retry: { retries: 5, minTimeoutMs: 60_000, maxTimeoutMs: 60_000 },
      onCall: () => controller.abort(reason),
    });
    await expect(client.findLoadBalancers("lb", { signal: controller.signal })).rejects.toBe(reason);
    expect(requests).toHaveLength(1);
  });

  it("waits for a rate-limit token per operation class before each call", async () => {
    const sleeps: number[] = [];
    let now = 0;
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    };
    const { client } = clientWith([elbOk("RegisterTargets"), elbOk("RegisterTargets"), elbOk("DescribeTargetHealth")], {
      clock,
      rateLimits: { ...DEFAULT_RATE_LIMITS, register: { ratePerSecond: 2, burst: 1 } },
    });
    await client.registerTargets("arn:tg", [{ id: "i-1", port: 1 }]);
    await client.deregisterTargets("arn:tg", [{ id: "i-1", port: 1 }]);
    await client.describeTargetHealth("arn:tg");
    // The second register-class call waits half a second (2/s); the describe bucket is separate.
    expect(sleeps).toEqual([500]);
  });

  it("aggregates paginated reads", async () => {
    const page = (name: string, next?: string) =>
      elbOk(
        "DescribeTargetGroups",
        `<TargetGroups><member><TargetGroupName>${name}</TargetGroupName></member></TargetGroups>${next === undefined ? "" : `<NextMarker>${next}</NextMarker>`}`,
      );
    const { client, requests } = clientWith([page("a", "m1"), page("b", "m2"), page("c")]);
    expect((await client.listTargetGroups()).map((tg) => tg.TargetGroupName)).toEqual(["a", "b", "c"]);
    expect(requests).toHaveLength(3);
  });

  it("lists a listener's certificates besides its default, over every page", async () => {
    const cert = (arn: string, isDefault: boolean) =>
      `<member><CertificateArn>${arn}</CertificateArn><IsDefault>${isDefault}</IsDefault></member>`;
    const { client, requests } = clientWith([
      elbOk(
        "DescribeListenerCertificates",
        `<Certificates>${cert("arn:default", true)}${cert("arn:a", false)}</Certificates><NextMarker>m1</NextMarker>`,
      ),
      elbOk("DescribeListenerCertificates", `<Certificates>${cert("arn:b", false)}</Certificates>`),
    ]);
    expect(await client.describeListenerCertificates("arn:listener")).toEqual(["arn:a", "arn:b"]);
    expect(requests).toEqual(["DescribeListenerCertificates", "DescribeListenerCertificates"]);
  });

  it("says a load balancer AWS refuses to delete has deletion protection on, naming it", async () => {
    const { client } = clientWith([elbError("OperationNotPermitted", "deletion protection is enabled")]);
    const error = await client.deleteLoadBalancer("arn:lb").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeletionProtectedError);
    expect((error as Error).message).toContain("load balancer arn:lb has deletion protection on");
  });

  it("narrows a DescribeTags batch down when AWS refuses it for one vanished resource", async () => {
    const tagsOf = (arn: string) =>
      elbOk(
        "DescribeTags",
        `<TagDescriptions><member><ResourceArn>${arn}</ResourceArn><Tags><member><Key>k</Key><Value>${arn}</Value></member></Tags></member></TagDescriptions>`,
      );
    const { client, requests } = clientWith([
      elbError("TargetGroupNotFound"), // [a, b, c]
      elbError("TargetGroupNotFound"), // [a, b]
      tagsOf("a"), // [a]
      elbError("TargetGroupNotFound"), // [b]
      tagsOf("c"), // [c]
    ]);
    const tags = await client.describeTags(["a", "b", "c"]);
    expect(Object.fromEntries(tags)).toEqual({ a: { k: "a" }, c: { k: "c" } });
    expect(requests).toHaveLength(5);
  });

  it("batches AddTags within the per-call limit", async () => {
    const { client, requests } = clientWith([elbOk("AddTags")]);
    const tags = Object.fromEntries(Array.from({ length: 23 }, (_, i) => [`k${i}`, "v"]));
    await client.addTags("arn:lb", tags);
    expect(requests).toEqual(["AddTags", "AddTags", "AddTags"]);
  });
});
