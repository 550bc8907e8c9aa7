/**
 * The narrow wrapper over the ELBv2 and EC2 SDK clients: only the operations in `operations.ts`, with
 * paginated reads aggregated into lists. Every call, and every retry of it, goes through one path that
 * - waits for a token from the client-side rate limiter (per service and operation class),
 * - passes the caller's abort signal to the SDK,
 * - reports operation, mutating, outcome and duration to `onCall` (the controller's metrics),
 * - retries throttling with jittered exponential backoff (`p-retry`), and reads also after a 5xx or a
 *   lost answer (they change nothing, and one failed read would otherwise fail the whole reconcile) —
 *   but a mutating call is never repeated after AWS may have applied it,
 * - turns failures into the neutral errors of `providers/errors.ts` (`errors.ts`).
 *
 * Give the SDK clients `maxAttempts: 1` so this wrapper is the only place that retries (`index.ts` does).
 *
 * @module
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  type AvailabilityZone,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type Filter,
  type Instance,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
} from "@aws-sdk/client-ec2";
import {
  AddListenerCertificatesCommand,
  AddTagsCommand,
  CreateListenerCommand,
  type CreateListenerCommandInput,
  CreateLoadBalancerCommand,
  type CreateLoadBalancerCommandInput,
  CreateTargetGroupCommand,
  type CreateTargetGroupCommandInput,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  ModifyListenerCommand,
  type ModifyListenerCommandInput,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type ModifyTargetGroupCommandInput,
  RegisterTargetsCommand,
  RemoveListenerCertificatesCommand,
  SetIpAddressTypeCommand,
  SetSecurityGroupsCommand,
  type TargetGroup,
  type TargetHealthDescription,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import pRetry, { AbortError } from "p-retry";
import type { ProviderCall } from "../types.ts";
import { isNotFound, isServerOrNetworkFailure, outcomeOf, toProviderError } from "./errors.ts";
import { DEFAULT_RATE_LIMITS, OPERATIONS, type OperationName, type RateClass, rateBucket } from "./operations.ts";
import { type Clock, RateLimiter, systemClock } from "./rate-limit.ts";
import type { LoadBalancerAddressType, Tags, Target } from "./state.ts";
import { fromTagList, toTagList } from "./tags.ts";

/** ELBv2 DescribeTags takes at most 20 ARNs. */
const DESCRIBE_TAGS_BATCH = 20;
/** AddTags: AWS documents no small cap, but moto (and older AWS docs) allow 10 tags a call. */
const ADD_TAGS_BATCH = 10;

export interface RetryOptions {
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 6, minTimeoutMs: 250, maxTimeoutMs: 10_000 };

export interface AwsClientOptions {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
  readonly onCall?: (call: ProviderCall) => void;
  readonly retry?: RetryOptions;
  /** Limits per class; the same for ELBv2 and EC2, which AWS throttles separately. */
  readonly rateLimits?: Readonly<Record<RateClass, { ratePerSecond: number; burst: number }>>;
  readonly clock?: Clock;
}

/** What the SDK's `send` takes besides the command. */
type SendOptions = { abortSignal?: AbortSignal };

/** Call options every method takes. */
export interface Signal {
  readonly signal?: AbortSignal | undefined;
}

export class AwsClient {
  readonly #elbv2: ElasticLoadBalancingV2Client;
  readonly #ec2: EC2Client;
  readonly #onCall: ((call: ProviderCall) => void) | undefined;
  readonly #retry: RetryOptions;
  readonly #limiter: RateLimiter;
  readonly #clock: Clock;

  constructor(options: AwsClientOptions) {
    this.#elbv2 = options.elbv2;
    this.#ec2 = options.ec2;
    this.#onCall = options.onCall;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#clock = options.clock ?? systemClock;
    const limits = options.rateLimits ?? DEFAULT_RATE_LIMITS;
    this.#limiter = new RateLimiter((bucket) => {
      const rateClass = bucket.slice(bucket.indexOf(":") + 1) as RateClass;
      return limits[rateClass];
    }, this.#clock);
  }

  // ---- ELBv2 reads -------------------------------------------------------------------------------

  /** The load balancers named `name` (AWS keeps names unique; emulators may not). */
  async findLoadBalancers(name: string, { signal }: Signal = {}): Promise<LoadBalancer[]> {
    try {
      const out = await this.#call("DescribeLoadBalancers", signal, (options) =>
        this.#elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] }), options),
      );
      return out.LoadBalancers ?? [];
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  /** Every load balancer in the region. */
  listLoadBalancers({ signal }: Signal = {}): Promise<LoadBalancer[]> {
    return this.#paginate("DescribeLoadBalancers", signal, async (Marker, options) => {
      const out = await this.#elbv2.send(new DescribeLoadBalancersCommand({ Marker, PageSize: 400 }), options);
      return { items: out.LoadBalancers, next: out.NextMarker };
    });
  }

  async describeLoadBalancerAttributes(arn: string, { signal }: Signal = {}): Promise<Tags> {
    const out = await this.#call("DescribeLoadBalancerAttributes", signal, (options) =>
      this.#elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }), options),
    );
    return fromTagList(out.Attributes);
  }

  /** The certificates of a listener besides its default (those served by SNI). */
  async describeListenerCertificates(listenerArn: string, { signal }: Signal = {}): Promise<string[]> {
    const certificates = await this.#paginate("DescribeListenerCertificates", signal, async (Marker, options) => {
      const out = await this.#elbv2.send(
        new DescribeListenerCertificatesCommand({ ListenerArn: listenerArn, Marker }),
        options,
      );
      return { items: out.Certificates, next: out.NextMarker };
    });
    return certificates.flatMap((c) =>
      c.IsDefault === true || c.CertificateArn === undefined ? [] : [c.CertificateArn],
    );
  }

  describeListeners(loadBalancerArn: string, { signal }: Signal = {}): Promise<Listener[]> {
    return this.#paginate("DescribeListeners", signal, async (Marker, options) => {
      const out = await this.#elbv2.send(
        new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker }),
        options,
      );
      return { items: out.Listeners, next: out.NextMarker };
    });
  }

  /** Every target group in the region. */
  listTargetGroups({ signal }: Signal = {}): Promise<TargetGroup[]> {
    return this.#paginate("DescribeTargetGroups", signal, async (Marker, options) => {
      const out = await this.#elbv2.send(new DescribeTargetGroupsCommand({ Marker, PageSize: 400 }), options);
      return { items: out.TargetGroups, next: out.NextMarker };
    });
  }

  /** Target groups by ARN; ones that no longer exist are left out. */
  async describeTargetGroups(arns: readonly string[], { signal }: Signal = {}): Promise<TargetGroup[]> {
    const found: TargetGroup[] = [];
    for (const batch of batches([...new Set(arns)], DESCRIBE_TAGS_BATCH))
      await this.#describeTargetGroupBatch(batch, found, signal);
    return found;
  }

  async #describeTargetGroupBatch(
    batch: string[],
    into: TargetGroup[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    try {
      const out = await this.#call("DescribeTargetGroups", signal, (options) =>
        this.#elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: batch }), options),
      );
      into.push(...(out.TargetGroups ?? []));
    } catch (error) {
      // AWS answers "not found" for the whole batch when one is missing: halve until it is isolated.
      if (!isNotFound(error)) throw error;
      if (batch.length === 1) return;
      const middle = Math.ceil(batch.length / 2);
      await this.#describeTargetGroupBatch(batch.slice(0, middle), into, signal);
      await this.#describeTargetGroupBatch(batch.slice(middle), into, signal);
    }
  }

  /** The target group named `name`, if any. */
  async findTargetGroup(name: string, { signal }: Signal = {}): Promise<TargetGroup | undefined> {
    try {
      const out = await this.#call("DescribeTargetGroups", signal, (options) =>
        this.#elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }), options),
      );
      return out.TargetGroups?.[0];
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async describeTargetGroupAttributes(arn: string, { signal }: Signal = {}): Promise<Tags> {
    const out = await this.#call("DescribeTargetGroupAttributes", signal, (options) =>
      this.#elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }), options),
    );
    return fromTagList(out.Attributes);
  }

  async describeTargetHealth(arn: string, { signal }: Signal = {}): Promise<TargetHealthDescription[]> {
    const out = await this.#call("DescribeTargetHealth", signal, (options) =>
      this.#elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }), options),
    );
    return out.TargetHealthDescriptions ?? [];
  }

  /** Tags of ELBv2 resources by ARN; resources that vanished meanwhile are simply absent. */
  async describeTags(arns: readonly string[], { signal }: Signal = {}): Promise<Map<string, Tags>> {
    const tags = new Map<string, Tags>();
    for (const batch of batches([...new Set(arns)], DESCRIBE_TAGS_BATCH))
      await this.#describeTagBatch(batch, tags, signal);
    return tags;
  }

  async #describeTagBatch(batch: string[], into: Map<string, Tags>, signal: AbortSignal | undefined): Promise<void> {
    try {
      const out = await this.#call("DescribeTags", signal, (options) =>
        this.#elbv2.send(new DescribeTagsCommand({ ResourceArns: batch }), options),
      );
      for (const d of out.TagDescriptions ?? [])
        if (d.ResourceArn !== undefined) into.set(d.ResourceArn, fromTagList(d.Tags));
    } catch (error) {
      // One resource of the batch vanished meanwhile: halve the batch so the others still get their tags.
      if (!isNotFound(error)) throw error;
      if (batch.length === 1) return;
      const middle = Math.ceil(batch.length / 2);
      await this.#describeTagBatch(batch.slice(0, middle), into, signal);
      await this.#describeTagBatch(batch.slice(middle), into, signal);
    }
  }

  // ---- ELBv2 writes ------------------------------------------------------------------------------

  async createLoadBalancer(input: CreateLoadBalancerCommandInput, { signal }: Signal = {}): Promise<LoadBalancer> {
    const out = await this.#call("CreateLoadBalancer", signal, (options) =>
      this.#elbv2.send(new CreateLoadBalancerCommand(input), options),
    );
    const lb = out.LoadBalancers?.[0];
    if (lb?.LoadBalancerArn === undefined)
      throw toProviderError(new Error("no load balancer in the response"), "CreateLoadBalancer");
    return lb;
  }

  async createTargetGroup(input: CreateTargetGroupCommandInput, { signal }: Signal = {}): Promise<TargetGroup> {
    const out = await this.#call("CreateTargetGroup", signal, (options) =>
      this.#elbv2.send(new CreateTargetGroupCommand(input), options),
    );
    const tg = out.TargetGroups?.[0];
    if (tg?.TargetGroupArn === undefined)
      throw toProviderError(new Error("no target group in the response"), "CreateTargetGroup");
    return tg;
  }

  async createListener(input: CreateListenerCommandInput, { signal }: Signal = {}): Promise<Listener> {
    const out = await this.#call("CreateListener", signal, (options) =>
      this.#elbv2.send(new CreateListenerCommand(input), options),
    );
    const listener = out.Listeners?.[0];
    if (listener?.ListenerArn === undefined)
      throw toProviderError(new Error("no listener in the response"), "CreateListener");
    return listener;
  }

  async modifyListener(input: ModifyListenerCommandInput, { signal }: Signal = {}): Promise<void> {
    await this.#call("ModifyListener", signal, (options) =>
      this.#elbv2.send(new ModifyListenerCommand(input), options),
    );
  }

  async addListenerCertificates(
    listenerArn: string,
    certificateArns: readonly string[],
    { signal }: Signal = {},
  ): Promise<void> {
    const Certificates = certificateArns.map((CertificateArn) => ({ CertificateArn }));
    await this.#call("AddListenerCertificates", signal, (options) =>
      this.#elbv2.send(new AddListenerCertificatesCommand({ ListenerArn: listenerArn, Certificates }), options),
    );
  }

  async removeListenerCertificates(
    listenerArn: string,
    certificateArns: readonly string[],
    { signal }: Signal = {},
  ): Promise<void> {
    const Certificates = certificateArns.map((CertificateArn) => ({ CertificateArn }));
    await this.#call("RemoveListenerCertificates", signal, (options) =>
      this.#elbv2.send(new RemoveListenerCertificatesCommand({ ListenerArn: listenerArn, Certificates }), options),
    );
  }

  async modifyTargetGroup(input: ModifyTargetGroupCommandInput, { signal }: Signal = {}): Promise<void> {
    await this.#call("ModifyTargetGroup", signal, (options) =>
      this.#elbv2.send(new ModifyTargetGroupCommand(input), options),
    );
  }

  async modifyTargetGroupAttributes(arn: string, attributes: Tags, { signal }: Signal = {}): Promise<void> {
    const Attributes = Object.entries(attributes).map(([Key, Value]) => ({ Key, Value }));
    await this.#call("ModifyTargetGroupAttributes", signal, (options) =>
      this.#elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes }), options),
    );
  }

  async modifyLoadBalancerAttributes(arn: string, attributes: Tags, { signal }: Signal = {}): Promise<void> {
    const Attributes = Object.entries(attributes).map(([Key, Value]) => ({ Key, Value }));
    await this.#call("ModifyLoadBalancerAttributes", signal, (options) =>
      this.#elbv2.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arn, Attributes }), options),
    );
  }

  /** One call; the caller keeps batches within AWS limits (see `diff.ts`). */
  async registerTargets(arn: string, targets: readonly Target[], { signal }: Signal = {}): Promise<void> {
    const Targets = targets.map((t) => ({ Id: t.id, Port: t.port }));
    await this.#call("RegisterTargets", signal, (options) =>
      this.#elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets }), options),
    );
  }

  async deregisterTargets(arn: string, targets: readonly Target[], { signal }: Signal = {}): Promise<void> {
    const Targets = targets.map((t) => ({ Id: t.id, Port: t.port }));
    await this.#call("DeregisterTargets", signal, (options) =>
      this.#elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets }), options),
    );
  }

  async addTags(arn: string, tags: Tags, { signal }: Signal = {}): Promise<void> {
    for (const batch of batches(toTagList(tags), ADD_TAGS_BATCH))
      await this.#call("AddTags", signal, (options) =>
        this.#elbv2.send(new AddTagsCommand({ ResourceArns: [arn], Tags: batch }), options),
      );
  }

  async setSecurityGroups(arn: string, securityGroups: readonly string[], { signal }: Signal = {}): Promise<void> {
    await this.#call("SetSecurityGroups", signal, (options) =>
      this.#elbv2.send(
        new SetSecurityGroupsCommand({ LoadBalancerArn: arn, SecurityGroups: [...securityGroups] }),
        options,
      ),
    );
  }

  async setIpAddressType(arn: string, ipAddressType: LoadBalancerAddressType, { signal }: Signal = {}): Promise<void> {
    await this.#call("SetIpAddressType", signal, (options) =>
      this.#elbv2.send(new SetIpAddressTypeCommand({ LoadBalancerArn: arn, IpAddressType: ipAddressType }), options),
    );
  }

  /** Resolves when the listener is gone, including when it already was. */
  async deleteListener(arn: string, { signal }: Signal = {}): Promise<void> {
    await ignoreNotFound(
      this.#call("DeleteListener", signal, (options) =>
        this.#elbv2.send(new DeleteListenerCommand({ ListenerArn: arn }), options),
      ),
    );
  }

  /** Resolves when the load balancer is gone; rejects with a `DeletionProtectedError` while its protection is on. */
  async deleteLoadBalancer(arn: string, { signal }: Signal = {}): Promise<void> {
    await ignoreNotFound(
      this.#call(
        "DeleteLoadBalancer",
        signal,
        (options) => this.#elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }), options),
        arn,
      ),
    );
  }

  async deleteTargetGroup(arn: string, { signal }: Signal = {}): Promise<void> {
    await ignoreNotFound(
      this.#call("DeleteTargetGroup", signal, (options) =>
        this.#elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }), options),
      ),
    );
  }

  // ---- EC2 ---------------------------------------------------------------------------------------

  /** Instances by id; ids EC2 does not know are left out. */
  async describeInstances(ids: readonly string[], { signal }: Signal = {}): Promise<Instance[]> {
    if (ids.length === 0) return [];
    const instances: Instance[] = [];
    for (const batch of batches([...ids], 100)) {
      const found = await this.#paginate("DescribeInstances", signal, async (NextToken, options) => {
        const out = await this.#ec2.send(
          new DescribeInstancesCommand({ Filters: [{ Name: "instance-id", Values: batch }], NextToken }),
          options,
        );
        return { items: (out.Reservations ?? []).flatMap((r) => r.Instances ?? []), next: out.NextToken };
      });
      instances.push(...found);
    }
    return instances;
  }

  describeSubnets(filters: readonly Filter[], { signal }: Signal = {}): Promise<Subnet[]> {
    return this.#paginate("DescribeSubnets", signal, async (NextToken, options) => {
      const out = await this.#ec2.send(new DescribeSubnetsCommand({ Filters: [...filters], NextToken }), options);
      return { items: out.Subnets, next: out.NextToken };
    });
  }

  describeRouteTables(vpcId: string, { signal }: Signal = {}): Promise<RouteTable[]> {
    return this.#paginate("DescribeRouteTables", signal, async (NextToken, options) => {
      const out = await this.#ec2.send(
        new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }], NextToken }),
        options,
      );
      return { items: out.RouteTables, next: out.NextToken };
    });
  }

  async describeAvailabilityZones({ signal }: Signal = {}): Promise<AvailabilityZone[]> {
    const out = await this.#call("DescribeAvailabilityZones", signal, (options) =>
      this.#ec2.send(new DescribeAvailabilityZonesCommand({ AllAvailabilityZones: true }), options),
    );
    return out.AvailabilityZones ?? [];
  }

  describeSecurityGroups(filters: readonly Filter[], { signal }: Signal = {}): Promise<SecurityGroup[]> {
    return this.#paginate("DescribeSecurityGroups", signal, async (NextToken, options) => {
      const out = await this.#ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [...filters], NextToken }),
        options,
      );
      return { items: out.SecurityGroups, next: out.NextToken };
    });
  }

  /** Creates a tagged security group and returns its id. */
  async createSecurityGroup(
    input: { name: string; description: string; vpcId: string; tags: Tags },
    { signal }: Signal = {},
  ): Promise<string> {
    const out = await this.#call("CreateSecurityGroup", signal, (options) =>
      this.#ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: input.name,
          Description: input.description,
          VpcId: input.vpcId,
          TagSpecifications: [{ ResourceType: "security-group", Tags: toTagList(input.tags) }],
        }),
        options,
      ),
    );
    if (out.GroupId === undefined)
      throw toProviderError(new Error("no group id in the response"), "CreateSecurityGroup");
    return out.GroupId;
  }

  async authorizeIngress(
    groupId: string,
    permissions: readonly IpPermission[],
    { signal }: Signal = {},
  ): Promise<void> {
    await this.#call("AuthorizeSecurityGroupIngress", signal, (options) =>
      this.#ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [...permissions] }),
        options,
      ),
    );
  }

  async revokeIngress(groupId: string, permissions: readonly IpPermission[], { signal }: Signal = {}): Promise<void> {
    await this.#call("RevokeSecurityGroupIngress", signal, (options) =>
      this.#ec2.send(
        new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [...permissions] }),
        options,
      ),
    );
  }

  /** Resolves when the group is gone, including when it already was. */
  async deleteSecurityGroup(groupId: string, { signal }: Signal = {}): Promise<void> {
    await ignoreNotFound(
      this.#call("DeleteSecurityGroup", signal, (options) =>
        this.#ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }), options),
      ),
    );
  }

  // ---- the one call path -------------------------------------------------------------------------

  /** `resource`: what the call is about (an ARN), for errors that name it. */
  async #call<O>(
    operation: OperationName,
    signal: AbortSignal | undefined,
    send: (options: SendOptions) => Promise<O>,
    resource?: string,
  ): Promise<O> {
    try {
      return await pRetry(() => this.#attempt(operation, signal, send, resource), {
        retries: this.#retry.retries,
        minTimeout: this.#retry.minTimeoutMs,
        maxTimeout: this.#retry.maxTimeoutMs,
        factor: 2,
        randomize: true,
        ...(signal !== undefined && { signal }),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw toProviderError(error, operation, resource);
    }
  }

  /**
   * One try, under the rate limit and reported: throttling and a read's server or network failure are
   * thrown as they are, for p-retry to try again; anything else ends the retries.
   */
  async #attempt<O>(
    operation: OperationName,
    signal: AbortSignal | undefined,
    send: (options: SendOptions) => Promise<O>,
    resource: string | undefined,
  ): Promise<O> {
    await this.#limiter.take(rateBucket(operation), signal);
    const started = this.#clock.now();
    try {
      const output = await send(signal === undefined ? {} : { abortSignal: signal });
      this.#report(operation, "success", started);
      return output;
    } catch (error) {
      const outcome = signal?.aborted ? "transient" : outcomeOf(error);
      this.#report(operation, outcome, started);
      if (outcome === "throttled") throw error;
      if (!signal?.aborted && !OPERATIONS[operation].mutating && isServerOrNetworkFailure(error)) throw error;
      throw new AbortError(signal?.aborted ? signal.reason : toProviderError(error, operation, resource));
    }
  }

  async #paginate<T>(
    operation: OperationName,
    signal: AbortSignal | undefined,
    page: (
      token: string | undefined,
      options: SendOptions,
    ) => Promise<{ items?: T[] | undefined; next?: string | undefined }>,
  ): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    do {
      const current = token;
      const out = await this.#call(operation, signal, (options) => page(current, options));
      items.push(...(out.items ?? []));
      token = out.next === "" ? undefined : out.next;
    } while (token !== undefined);
    return items;
  }

  #report(operation: OperationName, outcome: ProviderCall["outcome"], started: number): void {
    if (this.#onCall === undefined) return;
    const info: { mutating: boolean } = OPERATIONS[operation];
    this.#onCall({ operation, mutating: info.mutating, outcome, durationMs: Math.max(0, this.#clock.now() - started) });
  }
}

async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
