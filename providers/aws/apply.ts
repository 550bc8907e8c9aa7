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
  const { client, desired, actual, signal } = ctx;
  let lb = actual.loadBalancer === undefined ? undefined : { ...actual.loadBalancer };
  let securityGroupId = actual.securityGroup?.id;
  const targetGroupArns = new Map(actual.targetGroups.map((tg) => [tg.name, tg.arn]));
  const listenerArns = new Map(actual.listeners.map((l) => [l.port, l.arn]));
  let placement: PlacementResult | undefined;
  const place = async () => {
    placement ??= await ctx.placement();
    return placement;
  };
  const vpcId = async () => lb?.vpcId ?? (await place()).vpcId;
  const requireLb = () => {
    if (lb === undefined) throw new Error("plan error: the load balancer is used before it exists");
    return lb;
  };
  const requireSecurityGroup = () => {
    if (securityGroupId === undefined) throw new Error("plan error: the security group is used before it exists");
    return securityGroupId;
  };
  const listenerArnOf = (port: number) => {
    const arn = listenerArns.get(port);
    if (arn === undefined) throw new Error(`plan error: the listener on port ${port} is used before it exists`);
    return arn;
  };
  const arnOf = (name: string) => {
    const arn = targetGroupArns.get(name);
    if (arn === undefined) throw new Error(`plan error: target group ${name} is used before it exists`);
    return arn;
  };

  for (const action of actions) {
    signal?.throwIfAborted();
    ctx.logger.debug({ service: ctx.service, action: describe(action) }, "applying AWS change");
    switch (action.kind) {
      case "createSecurityGroup": {
        const { name, description, tags } = desired.securityGroup;
        securityGroupId = await client.createSecurityGroup(
          { name, description, tags, vpcId: await vpcId() },
          { signal },
        );
        ctx.logger.info({ service: ctx.service, securityGroup: securityGroupId, name }, "created security group");
        break;
      }
      case "authorizeIngress":
        await authorize(client, requireSecurityGroup(), action.rules, signal);
        break;
      case "revokeIngress":
        await revoke(client, requireSecurityGroup(), action.rules, signal);
        break;
      case "deleteListener":
        await client.deleteListener(action.arn, { signal });
        if (listenerArns.get(action.port) === action.arn) listenerArns.delete(action.port);
        break;
      case "deleteLoadBalancer":
        ctx.logger.info(
          { service: ctx.service, loadBalancer: action.arn, reason: action.reason },
          "replacing load balancer",
        );
        await client.deleteLoadBalancer(action.arn, { signal });
        lb = undefined;
        listenerArns.clear();
        break;
      case "createLoadBalancer": {
        const where = await place();
        const created = await client.createLoadBalancer(
          {
            Name: desired.loadBalancer.name,
            Type: "network",
            Scheme: desired.loadBalancer.scheme,
            IpAddressType: desired.loadBalancer.ipAddressType,
            ...(desired.loadBalancer.ipv6SourceNat && { EnablePrefixForIpv6SourceNat: "on" }),
            SubnetMappings: subnetMappingsInput(where, desired.loadBalancer.ipv6SourceNat),
            SecurityGroups: [requireSecurityGroup()],
            Tags: toTagList(desired.loadBalancer.tags),
          },
          { signal },
        );
        lb = {
          arn: created.LoadBalancerArn ?? "",
          name: desired.loadBalancer.name,
          dnsName: created.DNSName ?? "",
          scheme: desired.loadBalancer.scheme,
          ipAddressType: desired.loadBalancer.ipAddressType,
          subnetIds: where.subnetMappings.map((m) => m.subnetId),
          vpcId: created.VpcId ?? where.vpcId,
          securityGroups: created.SecurityGroups ?? [requireSecurityGroup()],
          tags: desired.loadBalancer.tags,
          attributes: {},
        };
        ctx.logger.info({ service: ctx.service, loadBalancer: lb.arn, dnsName: lb.dnsName }, "created load balancer");
        break;
      }
      case "setSecurityGroups": {
        const current = requireLb();
        const groups = [...new Set([...current.securityGroups, requireSecurityGroup()])];
        await client.setSecurityGroups(current.arn, groups, { signal });
        lb = { ...current, securityGroups: groups };
        break;
      }
      case "setIpAddressType": {
        const current = requireLb();
        if (action.ipAddressType === "dualstack") await ctx.requireDualStackSubnets(current.subnetIds ?? []);
        await client.setIpAddressType(current.arn, action.ipAddressType, { signal });
        lb = { ...current, ipAddressType: action.ipAddressType };
        break;
      }
      case "modifyLoadBalancerAttributes":
        await client.modifyLoadBalancerAttributes(requireLb().arn, action.attributes, { signal });
        break;
      case "adoptLoadBalancer": {
        const current = requireLb();
        await client.addTags(action.arn, action.tags, { signal });
        lb = { ...current, tags: { ...current.tags, ...action.tags } };
        ctx.logger.info(
          { service: ctx.service, loadBalancer: action.arn, name: action.name },
          "adopted the legacy cloud provider's load balancer",
        );
        break;
      }
      case "tagLoadBalancer":
        await client.addTags(requireLb().arn, action.tags, { signal });
        break;
      case "createTargetGroup": {
        const tg = desiredTargetGroup(desired, action.name);
        const created = await client.createTargetGroup(
          {
            Name: tg.name,
            Protocol: tg.protocol,
            Port: tg.port,
            VpcId: await vpcId(),
            TargetType: tg.targetType,
            IpAddressType: tg.ipAddressType,
            ...healthCheckInput(tg),
            HealthCheckEnabled: true,
            Tags: toTagList(tg.tags),
          },
          { signal },
        );
        targetGroupArns.set(tg.name, created.TargetGroupArn ?? "");
        ctx.onTargetGroupCreated?.(created.TargetGroupArn ?? "", tg.tags);
        ctx.logger.info({ service: ctx.service, targetGroup: created.TargetGroupArn }, "created target group");
        break;
      }
      case "modifyTargetGroup": {
        const tg = desiredTargetGroup(desired, action.name);
        const current = actual.targetGroups.find((a) => a.name === action.name);
        const { HealthCheckProtocol, ...settings } = healthCheckInput(tg);
        // Repeating an unchanged protocol is refused on TCP target groups of older NLBs.
        const protocolChanged = current?.healthCheck.protocol !== HealthCheckProtocol;
        await client.modifyTargetGroup(
          { TargetGroupArn: arnOf(tg.name), ...settings, ...(protocolChanged && { HealthCheckProtocol }) },
          { signal },
        );
        break;
      }
      case "modifyTargetGroupAttributes":
        await client.modifyTargetGroupAttributes(arnOf(action.name), action.attributes, { signal });
        break;
      case "tagTargetGroup":
        await client.addTags(arnOf(action.name), action.tags, { signal });
        break;
      case "deregisterTargets":
        await client.deregisterTargets(arnOf(action.name), action.targets, { signal });
        break;
      case "registerTargets":
        await client.registerTargets(arnOf(action.name), action.targets, { signal });
        break;
      case "createListener": {
        const listener = desiredListener(desired, action.port);
        const created = await client.createListener(
          {
            LoadBalancerArn: requireLb().arn,
            Port: listener.port,
            Protocol: listener.protocol,
            DefaultActions: forwardTo(arnOf(listener.targetGroupName)),
            ...tlsSettings(listener),
            Tags: toTagList(listener.tags),
          },
          { signal },
        );
        listenerArns.set(listener.port, created.ListenerArn ?? "");
        break;
      }
      case "modifyListener": {
        const listener = desiredListener(desired, action.port);
        const protocolChanged = action.changes.includes("protocol");
        await client.modifyListener(
          {
            ListenerArn: action.arn,
            DefaultActions: forwardTo(arnOf(listener.targetGroupName)),
            ...(protocolChanged && { Protocol: listener.protocol }),
            ...(listener.protocol === "TLS" && tlsSettings(listener)),
          },
          { signal },
        );
        break;
      }
      case "addListenerCertificates":
        await client.addListenerCertificates(listenerArnOf(action.port), action.certificateArns, { signal });
        break;
      case "removeListenerCertificates":
        await client.removeListenerCertificates(listenerArnOf(action.port), action.certificateArns, { signal });
        break;
      case "deleteTargetGroup":
        await deleteTargetGroupWhenReleased(client, action.arn, ctx.releaseRetry, signal);
        ctx.onTargetGroupDeleted?.(action.arn);
        if (targetGroupArns.get(action.name) === action.arn) targetGroupArns.delete(action.name);
        ctx.logger.info({ service: ctx.service, targetGroup: action.arn }, "deleted target group");
        break;
    }
  }
  const final = requireLb();
  return {
    loadBalancer: {
      arn: final.arn,
      dnsName: final.dnsName,
      vpcId: final.vpcId,
      ...(final.subnetIds !== undefined && { subnetIds: final.subnetIds }),
    },
    attachedSecurityGroups: final.securityGroups,
    securityGroupId,
    targetGroupArns,
    listenerArns,
  };
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
