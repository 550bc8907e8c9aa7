/**
 * Carries out a plan from `diff.ts`, one AWS call per action, in order. Target groups are named in
 * actions and resolved to ARNs here as they are created; the load balancer and security group likewise.
 * An error stops the plan where it is: everything made so far is tagged and owned, so the next ensure
 * (or delete) picks up from there.
 *
 * @module
 */
import type { IpPermission } from "@aws-sdk/client-ec2";
import type { Action as ListenerAction, SubnetMapping } from "@aws-sdk/client-elastic-load-balancing-v2";
import pRetry, { AbortError } from "p-retry";
import type { ProviderLogger } from "../types.ts";
import type { AwsClient, RetryOptions } from "./client.ts";
import { isDependencyViolation, isDuplicatePermission, isNotFound, isResourceInUse } from "./errors.ts";
import type { AppliedResources } from "./known-state.ts";
import type { PlacementResult } from "./placement.ts";
import type {
  Action,
  ActualState,
  DesiredListener,
  DesiredState,
  DesiredTargetGroup,
  IngressRule,
  LoadBalancerAddressType,
  Tags,
} from "./state.ts";
import { toTagList } from "./tags.ts";

export interface ApplyContext {
  readonly client: AwsClient;
  readonly desired: DesiredState;
  readonly actual: ActualState;
  /** Where a new load balancer (or security group) goes; called at most once, only when needed. */
  readonly placement: () => Promise<PlacementResult>;
  /** Refuses, naming them, subnets of an existing load balancer that cannot take it dualstack. */
  readonly requireDualStackSubnets: (subnetIds: readonly string[]) => Promise<void>;
  readonly logger: ProviderLogger;
  /** `namespace/name`, for logs. */
  readonly service: string;
  readonly signal?: AbortSignal | undefined;
  /** How long to wait for AWS to let go of a target group or security group being deleted. */
  readonly releaseRetry: RetryOptions;
  /** Told of each target group as it is created or deleted, so what the provider knows keeps up. */
  readonly onTargetGroupCreated?: (arn: string, tags: Tags) => void;
  readonly onTargetGroupDeleted?: (arn: string) => void;
}

/** What the plan ended with: the resources, by what names them in the desired state. */
export async function applyActions(actions: readonly Action[], ctx: ApplyContext): Promise<AppliedResources> {
  const run = new PlanRun(ctx);
  for (const action of actions) {
    ctx.signal?.throwIfAborted();
    ctx.logger.debug({ service: ctx.service, action: describe(action) }, "applying AWS change");
    await run.apply(action);
  }
  return run.result();
}

/** The load balancer as the actions so far left it. */
type LoadBalancerState = NonNullable<ActualState["loadBalancer"]>;

/**
 * One plan being carried out: the resources made or found so far, by what names them in the desired
 * state, and one method per kind of action.
 */
class PlanRun {
  private readonly ctx: ApplyContext;
  private lb: LoadBalancerState | undefined;
  private securityGroupId: string | undefined;
  private readonly targetGroupArns: Map<string, string>;
  private readonly listenerArns: Map<number, string>;
  private placement: PlacementResult | undefined;

  constructor(ctx: ApplyContext) {
    const { actual } = ctx;
    this.ctx = ctx;
    this.lb = actual.loadBalancer === undefined ? undefined : { ...actual.loadBalancer };
    this.securityGroupId = actual.securityGroup?.id;
    this.targetGroupArns = new Map(actual.targetGroups.map((tg) => [tg.name, tg.arn]));
    this.listenerArns = new Map(actual.listeners.map((l) => [l.port, l.arn]));
  }

  async apply(action: Action): Promise<void> {
    const { client, signal } = this.ctx;
    switch (action.kind) {
      case "createSecurityGroup":
        return this.createSecurityGroup();
      case "authorizeIngress":
        return authorize(client, this.requireSecurityGroup(), action.rules, signal);
      case "revokeIngress":
        return revoke(client, this.requireSecurityGroup(), action.rules, signal);
      case "deleteListener":
        await client.deleteListener(action.arn, { signal });
        if (this.listenerArns.get(action.port) === action.arn) this.listenerArns.delete(action.port);
        return;
      case "deleteLoadBalancer":
        return this.deleteLoadBalancer(action.arn, action.reason);
      case "createLoadBalancer":
        return this.createLoadBalancer();
      case "setSecurityGroups":
        return this.setSecurityGroups(action.securityGroups);
      case "setIpAddressType":
        return this.setIpAddressType(action.ipAddressType);
      case "modifyLoadBalancerAttributes":
        return client.modifyLoadBalancerAttributes(this.requireLb().arn, action.attributes, { signal });
      case "adoptLoadBalancer":
        return this.adoptLoadBalancer(action.arn, action.name, action.tags);
      case "tagLoadBalancer":
        return client.addTags(this.requireLb().arn, action.tags, { signal });
      case "createTargetGroup":
        return this.createTargetGroup(action.name);
      case "modifyTargetGroup":
        return this.modifyTargetGroup(action.name);
      case "modifyTargetGroupAttributes":
        return client.modifyTargetGroupAttributes(this.arnOf(action.name), action.attributes, { signal });
      case "tagTargetGroup":
        return client.addTags(this.arnOf(action.name), action.tags, { signal });
      case "deregisterTargets":
        return client.deregisterTargets(this.arnOf(action.name), action.targets, { signal });
      case "registerTargets":
        return client.registerTargets(this.arnOf(action.name), action.targets, { signal });
      case "createListener":
        return this.createListener(action.port);
      case "modifyListener":
        return this.modifyListener(action.arn, action.port, action.changes.includes("protocol"));
      case "deleteSecurityGroup":
        return this.deleteSecurityGroup(action.id);
      case "addListenerCertificates":
        return client.addListenerCertificates(this.listenerArnOf(action.port), action.certificateArns, { signal });
      case "removeListenerCertificates":
        return client.removeListenerCertificates(this.listenerArnOf(action.port), action.certificateArns, { signal });
      case "deleteTargetGroup":
        return this.deleteTargetGroup(action.arn, action.name);
    }
  }

  /** What the plan ended with; the load balancer exists by then. */
  result(): AppliedResources {
    const final = this.requireLb();
    return {
      loadBalancer: {
        arn: final.arn,
        dnsName: final.dnsName,
        vpcId: final.vpcId,
        ...(final.subnetIds !== undefined && { subnetIds: final.subnetIds }),
      },
      attachedSecurityGroups: final.securityGroups,
      securityGroupId: this.securityGroupId,
      targetGroupArns: this.targetGroupArns,
      listenerArns: this.listenerArns,
    };
  }

  private async place(): Promise<PlacementResult> {
    this.placement ??= await this.ctx.placement();
    return this.placement;
  }

  private async vpcId(): Promise<string> {
    return this.lb?.vpcId ?? (await this.place()).vpcId;
  }

  private requireLb(): LoadBalancerState {
    if (this.lb === undefined) throw new Error("plan error: the load balancer is used before it exists");
    return this.lb;
  }

  private requireSecurityGroup(): string {
    if (this.securityGroupId === undefined) {
      throw new Error("plan error: the security group is used before it exists");
    }
    return this.securityGroupId;
  }

  private arnOf(name: string): string {
    const arn = this.targetGroupArns.get(name);
    if (arn === undefined) throw new Error(`plan error: target group ${name} is used before it exists`);
    return arn;
  }

  private listenerArnOf(port: number): string {
    const arn = this.listenerArns.get(port);
    if (arn === undefined) throw new Error(`plan error: the listener on port ${port} is used before it exists`);
    return arn;
  }

  private async createSecurityGroup(): Promise<void> {
    const { client, desired, signal, logger, service } = this.ctx;
    const { name, description, tags } = desired.securityGroup;
    this.securityGroupId = await client.createSecurityGroup(
      { name, description, tags, vpcId: await this.vpcId() },
      { signal },
    );
    logger.info({ service, securityGroup: this.securityGroupId, name }, "created security group");
  }

  private async deleteLoadBalancer(arn: string, reason: string): Promise<void> {
    this.ctx.logger.info({ service: this.ctx.service, loadBalancer: arn, reason }, "replacing load balancer");
    await this.ctx.client.deleteLoadBalancer(arn, { signal: this.ctx.signal });
    this.lb = undefined;
    this.listenerArns.clear();
  }

  private async createLoadBalancer(): Promise<void> {
    const { client, desired, signal } = this.ctx;
    const where = await this.place();
    const created = await client.createLoadBalancer(
      {
        Name: desired.loadBalancer.name,
        Type: "network",
        Scheme: desired.loadBalancer.scheme,
        IpAddressType: desired.loadBalancer.ipAddressType,
        ...(desired.loadBalancer.ipv6SourceNat && { EnablePrefixForIpv6SourceNat: "on" }),
        SubnetMappings: subnetMappingsInput(where, desired.loadBalancer.ipv6SourceNat),
        SecurityGroups: this.groupsOfNewLoadBalancer(),
        Tags: toTagList(desired.loadBalancer.tags),
      },
      { signal },
    );
    const lb: LoadBalancerState = {
      arn: created.LoadBalancerArn ?? "",
      name: desired.loadBalancer.name,
      dnsName: created.DNSName ?? "",
      scheme: desired.loadBalancer.scheme,
      ipAddressType: desired.loadBalancer.ipAddressType,
      subnetIds: where.subnetMappings.map((m) => m.subnetId),
      vpcId: created.VpcId ?? where.vpcId,
      securityGroups: created.SecurityGroups ?? this.groupsOfNewLoadBalancer(),
      tags: desired.loadBalancer.tags,
      attributes: {},
    };
    this.lb = lb;
    this.ctx.logger.info(
      { service: this.ctx.service, loadBalancer: lb.arn, dnsName: lb.dnsName },
      "created load balancer",
    );
  }

  /** The Service's own security groups, or the managed one. */
  private groupsOfNewLoadBalancer(): string[] {
    return [...(this.ctx.desired.loadBalancer.securityGroups ?? [this.requireSecurityGroup()])];
  }

  private async setSecurityGroups(securityGroups: "owned" | readonly string[]): Promise<void> {
    const current = this.requireLb();
    const groups =
      securityGroups === "owned"
        ? [...new Set([...current.securityGroups, this.requireSecurityGroup()])]
        : [...securityGroups];
    await this.ctx.client.setSecurityGroups(current.arn, groups, { signal: this.ctx.signal });
    this.lb = { ...current, securityGroups: groups };
  }

  /** The managed group, no longer attached now that the Service brings its own. */
  private async deleteSecurityGroup(id: string): Promise<void> {
    const { client, releaseRetry, signal, logger, service } = this.ctx;
    await deleteSecurityGroupWhenReleased(client, id, releaseRetry, signal);
    if (this.securityGroupId === id) this.securityGroupId = undefined;
    logger.info({ service, securityGroup: id }, "deleted the managed security group");
  }

  private async setIpAddressType(ipAddressType: LoadBalancerAddressType): Promise<void> {
    const current = this.requireLb();
    if (ipAddressType === "dualstack") await this.ctx.requireDualStackSubnets(current.subnetIds ?? []);
    await this.ctx.client.setIpAddressType(current.arn, ipAddressType, { signal: this.ctx.signal });
    this.lb = { ...current, ipAddressType };
  }

  private async adoptLoadBalancer(arn: string, name: string, tags: Tags): Promise<void> {
    const current = this.requireLb();
    await this.ctx.client.addTags(arn, tags, { signal: this.ctx.signal });
    this.lb = { ...current, tags: { ...current.tags, ...tags } };
    this.ctx.logger.info(
      { service: this.ctx.service, loadBalancer: arn, name },
      "adopted the legacy cloud provider's load balancer",
    );
  }

  private async createTargetGroup(name: string): Promise<void> {
    const { client, desired, signal } = this.ctx;
    const tg = desiredTargetGroup(desired, name);
    const created = await client.createTargetGroup(
      {
        Name: tg.name,
        Protocol: tg.protocol,
        Port: tg.port,
        VpcId: await this.vpcId(),
        TargetType: tg.targetType,
        IpAddressType: tg.ipAddressType,
        ...healthCheckInput(tg),
        HealthCheckEnabled: true,
        Tags: toTagList(tg.tags),
      },
      { signal },
    );
    this.targetGroupArns.set(tg.name, created.TargetGroupArn ?? "");
    this.ctx.onTargetGroupCreated?.(created.TargetGroupArn ?? "", tg.tags);
    this.ctx.logger.info({ service: this.ctx.service, targetGroup: created.TargetGroupArn }, "created target group");
  }

  private async modifyTargetGroup(name: string): Promise<void> {
    const tg = desiredTargetGroup(this.ctx.desired, name);
    const current = this.ctx.actual.targetGroups.find((a) => a.name === name);
    const { HealthCheckProtocol, ...settings } = healthCheckInput(tg);
    // Repeating an unchanged protocol is refused on TCP target groups of older NLBs.
    const protocolChanged = current?.healthCheck.protocol !== HealthCheckProtocol;
    await this.ctx.client.modifyTargetGroup(
      { TargetGroupArn: this.arnOf(tg.name), ...settings, ...(protocolChanged && { HealthCheckProtocol }) },
      { signal: this.ctx.signal },
    );
  }

  private async createListener(port: number): Promise<void> {
    const listener = desiredListener(this.ctx.desired, port);
    const created = await this.ctx.client.createListener(
      {
        LoadBalancerArn: this.requireLb().arn,
        Port: listener.port,
        Protocol: listener.protocol,
        DefaultActions: forwardTo(this.arnOf(listener.targetGroupName)),
        ...tlsSettings(listener),
        Tags: toTagList(listener.tags),
      },
      { signal: this.ctx.signal },
    );
    this.listenerArns.set(listener.port, created.ListenerArn ?? "");
  }

  private async modifyListener(arn: string, port: number, protocolChanged: boolean): Promise<void> {
    const listener = desiredListener(this.ctx.desired, port);
    await this.ctx.client.modifyListener(
      {
        ListenerArn: arn,
        DefaultActions: forwardTo(this.arnOf(listener.targetGroupName)),
        ...(protocolChanged && { Protocol: listener.protocol }),
        ...(listener.protocol === "TLS" && tlsSettings(listener)),
      },
      { signal: this.ctx.signal },
    );
  }

  private async deleteTargetGroup(arn: string, name: string): Promise<void> {
    await deleteTargetGroupWhenReleased(this.ctx.client, arn, this.ctx.releaseRetry, this.ctx.signal);
    this.ctx.onTargetGroupDeleted?.(arn);
    if (this.targetGroupArns.get(name) === arn) this.targetGroupArns.delete(name);
    this.ctx.logger.info({ service: this.ctx.service, targetGroup: arn }, "deleted target group");
  }
}

/** `CreateLoadBalancer`'s subnet mappings; with IPv6 source NAT, a prefix AWS picks in each subnet. */
function subnetMappingsInput(where: PlacementResult, ipv6SourceNat: boolean): SubnetMapping[] {
  return where.subnetMappings.map((m) => ({
    SubnetId: m.subnetId,
    ...(m.allocationId !== undefined && { AllocationId: m.allocationId }),
    ...(m.privateIPv4Address !== undefined && { PrivateIPv4Address: m.privateIPv4Address }),
    ...(ipv6SourceNat && { SourceNatIpv6Prefix: "auto_assigned" }),
  }));
}

/** Deletes a target group, waiting while AWS still counts it in use by a listener being removed. */
export async function deleteTargetGroupWhenReleased(
  client: AwsClient,
  arn: string,
  retry: RetryOptions,
  signal: AbortSignal | undefined,
): Promise<void> {
  await retryWhile(isResourceInUse, () => client.deleteTargetGroup(arn, { signal }), retry, signal);
}

/** Deletes a security group, waiting while a deleted load balancer's network interfaces still use it. */
export async function deleteSecurityGroupWhenReleased(
  client: AwsClient,
  groupId: string,
  retry: RetryOptions,
  signal: AbortSignal | undefined,
): Promise<void> {
  await retryWhile(isDependencyViolation, () => client.deleteSecurityGroup(groupId, { signal }), retry, signal);
}

async function retryWhile(
  retryable: (error: unknown) => boolean,
  run: () => Promise<void>,
  retry: RetryOptions,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await pRetry(
      async () => {
        try {
          await run();
        } catch (error) {
          throw retryable(error) ? error : new AbortError(error as Error);
        }
      },
      {
        retries: retry.retries,
        minTimeout: retry.minTimeoutMs,
        maxTimeout: retry.maxTimeoutMs,
        randomize: true,
        ...(signal !== undefined && { signal }),
      },
    );
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

/** One IpPermission per protocol and port, with every CIDR of that rule. */
export function toIpPermissions(rules: readonly IngressRule[]): IpPermission[] {
  const grouped = new Map<
    string,
    IpPermission & { IpRanges: { CidrIp: string }[]; Ipv6Ranges: { CidrIpv6: string }[] }
  >();
  for (const rule of rules) {
    const key = `${rule.protocol}/${rule.fromPort}/${rule.toPort}`;
    let permission = grouped.get(key);
    if (permission === undefined) {
      permission = {
        IpProtocol: rule.protocol,
        FromPort: rule.fromPort,
        ToPort: rule.toPort,
        IpRanges: [],
        Ipv6Ranges: [],
      };
      grouped.set(key, permission);
    }
    if (rule.cidr.includes(":")) permission.Ipv6Ranges.push({ CidrIpv6: rule.cidr });
    else permission.IpRanges.push({ CidrIp: rule.cidr });
  }
  return [...grouped.values()];
}

async function authorize(
  client: AwsClient,
  groupId: string,
  rules: readonly IngressRule[],
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await client.authorizeIngress(groupId, toIpPermissions(rules), { signal });
  } catch (error) {
    // AWS refuses the whole request when one rule exists already; add the rest one by one.
    if (!isDuplicatePermission(error)) throw error;
    if (rules.length > 1) for (const rule of rules) await authorize(client, groupId, [rule], signal);
  }
}

async function revoke(
  client: AwsClient,
  groupId: string,
  rules: readonly IngressRule[],
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await client.revokeIngress(groupId, toIpPermissions(rules), { signal });
  } catch (error) {
    // Likewise when one rule is gone already; revoke the rest one by one.
    if (!isNotFound(error)) throw error;
    if (rules.length > 1) for (const rule of rules) await revoke(client, groupId, [rule], signal);
  }
}

function healthCheckInput(tg: DesiredTargetGroup) {
  const hc = tg.healthCheck;
  return {
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: String(hc.port),
    ...(hc.path !== undefined && { HealthCheckPath: hc.path }),
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    ...(hc.timeoutSeconds !== undefined && { HealthCheckTimeoutSeconds: hc.timeoutSeconds }),
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    ...(hc.successCodes !== undefined && { Matcher: { HttpCode: hc.successCodes } }),
  };
}

function tlsSettings(listener: DesiredListener) {
  if (listener.protocol !== "TLS" || listener.certificateArn === undefined) return {};
  return {
    Certificates: [{ CertificateArn: listener.certificateArn }],
    ...(listener.sslPolicy !== undefined && { SslPolicy: listener.sslPolicy }),
    ...(listener.alpnPolicy !== undefined && { AlpnPolicy: [listener.alpnPolicy] }),
  };
}

function forwardTo(targetGroupArn: string): ListenerAction[] {
  return [{ Type: "forward", TargetGroupArn: targetGroupArn }];
}

function desiredTargetGroup(desired: DesiredState, name: string): DesiredTargetGroup {
  const tg = desired.targetGroups.find((t) => t.name === name);
  if (tg === undefined) throw new Error(`plan error: no desired target group ${name}`);
  return tg;
}

function desiredListener(desired: DesiredState, port: number): DesiredListener {
  const listener = desired.listeners.find((l) => l.port === port);
  if (listener === undefined) throw new Error(`plan error: no desired listener on port ${port}`);
  return listener;
}

/** The action without bulky target lists, for logs. */
function describe(action: Action): object {
  if (action.kind === "registerTargets" || action.kind === "deregisterTargets")
    return { kind: action.kind, targetGroup: action.name, targets: action.targets.length };
  return action;
}
