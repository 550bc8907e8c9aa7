/**
 * The AWS provider: one Network Load Balancer per Service, built and converged by
 * validate -> model -> observe -> diff -> apply, and deleted in dependency order (listeners, load
 * balancer, target groups, security group). See `docs/aws.md` for what it builds and why.
 *
 * @module
 */
import type {
  CallOptions,
  GetOptions,
  LoadBalancerProvider,
  LoadBalancerRef,
  LoadBalancerSpec,
  LoadBalancerStatus,
  ObservedHealthCheck,
  ObservedLeftover,
  ObservedListener,
  ObservedLoadBalancer,
  ObservedTarget,
  ProviderLogger,
  ValidationIssue,
} from "../types.ts";
import { applyActions, deleteSecurityGroupWhenReleased, deleteTargetGroupWhenReleased } from "./apply.ts";
import type { AwsClient, RetryOptions } from "./client.ts";
import { planActions } from "./diff.ts";
import { Inventory, type ServiceResources } from "./inventory.ts";
import { buildDesiredState, resolveTargets } from "./model.ts";
import { NodeDirectory } from "./node-directory.ts";
import { type Observation, observe } from "./observe.ts";
import { Placement } from "./placement.ts";
import { type Clock, systemClock } from "./rate-limit.ts";
import type { ActualTargetGroup } from "./state.ts";
import { SERVICE_UID_TAG } from "./tags.ts";
import { analyzeSpec, requireValidSpec } from "./validate.ts";

/** Waiting for AWS to release a target group or security group: about a minute in all. */
export const DEFAULT_RELEASE_RETRY: RetryOptions = { retries: 8, minTimeoutMs: 1_000, maxTimeoutMs: 10_000 };

/**
 * How old the inventory may be when an ensure, get or delete looks in it for the Service's target
 * groups that no listener uses. What this process creates is noted at once; the age bounds how late
 * a leftover of another process (one that died half-way) is found.
 */
export const DISCOVERY_MAX_AGE_MS = 10 * 60_000;

export interface AwsProviderOptions {
  readonly client: AwsClient;
  readonly logger: ProviderLogger;
  /** The cluster's VPC, when it cannot be read from the nodes' instances. */
  readonly vpcId?: string | undefined;
  readonly releaseRetry?: RetryOptions;
  /** Time source for the inventory's age; tests replace it. */
  readonly clock?: Clock;
  /** Releases the SDK clients. */
  readonly close?: () => void | Promise<void>;
}

const OPEN_TO_ALL = "0.0.0.0/0";

export class AwsProvider implements LoadBalancerProvider {
  readonly name = "aws";
  readonly #client: AwsClient;
  readonly #logger: ProviderLogger;
  readonly #placement: Placement;
  readonly #nodes = new NodeDirectory();
  readonly #inventory: Inventory;
  readonly #releaseRetry: RetryOptions;
  readonly #close: (() => void | Promise<void>) | undefined;

  constructor(options: AwsProviderOptions) {
    this.#client = options.client;
    this.#logger = options.logger;
    this.#placement = new Placement(options.client, options.vpcId);
    this.#inventory = new Inventory(options.client, options.clock ?? systemClock);
    this.#releaseRetry = options.releaseRetry ?? DEFAULT_RELEASE_RETRY;
    this.#close = options.close;
  }

  validate(spec: LoadBalancerSpec): readonly ValidationIssue[] {
    return analyzeSpec(spec).issues;
  }

  async ensureLoadBalancer(spec: LoadBalancerSpec, options: CallOptions = {}): Promise<LoadBalancerStatus> {
    const { signal } = options;
    signal?.throwIfAborted();
    const { config } = requireValidSpec(spec);
    this.#nodes.learn(spec.nodes);
    const service = `${spec.service.namespace}/${spec.service.name}`;
    const targets = resolveTargets(spec.nodes, config);
    const desired = buildDesiredState(spec, config, targets);
    const knownTargetGroups = await this.#knownTargetGroups(spec, signal);
    const observation = await observe(this.#client, spec, { mode: "ensure", desired, knownTargetGroups, signal });
    const actions = planActions(desired, observation.state);
    const current = observation.state.loadBalancer;
    if (actions.length === 0 && current !== undefined) return statusOf(current.dnsName);

    if (targets.skipped.length > 0)
      this.#logger.warn({ service, skipped: targets.skipped }, "nodes left out of the load balancer's targets");
    this.#logger.info(
      { service, loadBalancer: desired.loadBalancer.name, actions: actions.map((a) => a.kind) },
      "converging load balancer",
    );
    try {
      const applied = await applyActions(actions, {
        client: this.#client,
        desired,
        actual: observation.state,
        placement: () => this.#placement.resolve(spec, config, signal),
        logger: this.#logger,
        service,
        signal,
        releaseRetry: this.#releaseRetry,
        onTargetGroupCreated: (arn, tags) => this.#inventory.noteTargetGroup(spec, arn, tags),
        onTargetGroupDeleted: (arn) => this.#inventory.forget(arn),
      });
      return statusOf(applied.dnsName);
    } catch (error) {
      // A create may have happened without its answer arriving: list again before trusting the inventory.
      this.#inventory.invalidate();
      throw error;
    }
  }

  async getLoadBalancer(ref: LoadBalancerRef, options: GetOptions = {}): Promise<ObservedLoadBalancer | undefined> {
    options.signal?.throwIfAborted();
    if (options.nodes !== undefined) this.#nodes.learn(options.nodes);
    const knownTargetGroups = await this.#knownTargetGroups(ref, options.signal);
    const observation = await observe(this.#client, ref, { mode: "read", knownTargetGroups, signal: options.signal });
    return this.#toObserved(ref, observation, this.#nodes.resolver(options.nodes));
  }

  async ensureLoadBalancerDeleted(ref: LoadBalancerRef, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    const service = `${ref.service.namespace}/${ref.service.name}`;
    const knownTargetGroups = await this.#knownTargetGroups(ref, signal);
    const { state } = await observe(this.#client, ref, { mode: "delete", knownTargetGroups, signal });
    const { loadBalancer, listeners, targetGroups, securityGroup } = state;
    if (loadBalancer === undefined && targetGroups.length === 0 && securityGroup === undefined) return;

    // Listeners first: AWS would delete them with the load balancer, but a target group stays "in use"
    // until its listener is gone, and a failure between the two steps must leave no orphaned listener.
    if (loadBalancer !== undefined) {
      for (const listener of listeners) await this.#client.deleteListener(listener.arn, { signal });
      await this.#client.deleteLoadBalancer(loadBalancer.arn, { signal });
    }
    for (const tg of targetGroups) {
      await deleteTargetGroupWhenReleased(this.#client, tg.arn, this.#releaseRetry, signal);
      this.#inventory.forget(tg.arn);
    }
    if (securityGroup !== undefined)
      await deleteSecurityGroupWhenReleased(this.#client, securityGroup.id, this.#releaseRetry, signal);
    this.#logger.info(
      {
        service,
        loadBalancer: loadBalancer?.arn,
        targetGroups: targetGroups.map((tg) => tg.arn),
        securityGroup: securityGroup?.id,
      },
      "deleted load balancer",
    );
  }

  async listLoadBalancers(clusterName: string, options: CallOptions = {}): Promise<readonly ObservedLoadBalancer[]> {
    const { signal } = options;
    const inventory = await this.#inventory.snapshot(0, signal);
    const observed: ObservedLoadBalancer[] = [];
    for (const resources of inventory.servicesOf(clusterName)) {
      const ref: LoadBalancerRef = { clusterName, service: resources.owner };
      const lb =
        resources.loadBalancer === undefined
          ? undefined
          : await this.getLoadBalancer(ref, { ...(signal !== undefined && { signal }) });
      observed.push(lb ?? leftoversOnly(ref, resources));
    }
    return observed;
  }

  /** ARNs of the target groups `ref`'s Service is known to own, attached or not (see `inventory.ts`). */
  async #knownTargetGroups(ref: LoadBalancerRef, signal: AbortSignal | undefined): Promise<string[]> {
    const snapshot = await this.#inventory.snapshot(DISCOVERY_MAX_AGE_MS, signal);
    return this.#inventory.targetGroupArnsOf(snapshot, ref);
  }

  async close(): Promise<void> {
    await this.#close?.();
  }

  #toObserved(
    ref: LoadBalancerRef,
    observation: Observation,
    nodeOf: (targetId: string) => string | undefined,
  ): ObservedLoadBalancer | undefined {
    const { loadBalancer, listeners, securityGroup } = observation.state;
    if (loadBalancer === undefined) return undefined;
    const resources: Record<string, string> = { loadBalancer: loadBalancer.arn };
    if (securityGroup !== undefined) resources.securityGroup = securityGroup.id;

    const observedListeners = listeners.map((listener): ObservedListener => {
      const tg =
        listener.targetGroupArn === undefined
          ? undefined
          : observation.listenerTargetGroups.get(listener.targetGroupArn);
      if (tg !== undefined) resources[`targetGroup:${listener.port}`] = tg.arn;
      const targets = (tg === undefined ? [] : (observation.health.get(tg.arn) ?? [])).map((t): ObservedTarget => {
        const node = nodeOf(t.id);
        return { id: t.id, port: t.port, ...(node !== undefined && { node }), health: healthOf(t.state) };
      });
      const healthCheck = tg === undefined ? undefined : observedHealthCheck(tg.healthCheck);
      return {
        port: listener.port,
        protocol: listener.protocol,
        targetPort: tg?.port ?? 0,
        targets: targets.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
        ...(healthCheck !== undefined && { healthCheck }),
      };
    });
    observedListeners.sort(
      (a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0),
    );

    const cidrs = [...new Set(securityGroup?.ingress.map((rule) => rule.cidr) ?? [])].sort();
    const uid = ref.service.uid ?? loadBalancer.tags[SERVICE_UID_TAG];
    return {
      ref: {
        clusterName: ref.clusterName,
        service: {
          namespace: ref.service.namespace,
          name: ref.service.name,
          ...(uid !== undefined && { uid }),
        },
      },
      status: statusOf(loadBalancer.dnsName),
      listeners: observedListeners,
      scheme: loadBalancer.scheme,
      // "Open to all" is what an empty spec.loadBalancerSourceRanges means, so it reads back as empty.
      sourceRanges: cidrs.length === 1 && cidrs[0] === OPEN_TO_ALL ? [] : cidrs,
      resources,
      ...(observation.detachedTargetGroups.length > 0 && {
        leftovers: observation.detachedTargetGroups.map(targetGroupLeftover),
      }),
    };
  }
}

/** What a Service left behind when it has no load balancer any more: target groups, security group. */
function leftoversOnly(ref: LoadBalancerRef, resources: ServiceResources): ObservedLoadBalancer {
  const leftovers: ObservedLeftover[] = [];
  const ids: Record<string, string> = {};
  for (const tg of resources.targetGroups) {
    const arn = tg.TargetGroupArn ?? "";
    leftovers.push({ kind: "target-group", id: arn, targetPort: tg.Port ?? 0, protocol: tg.Protocol ?? "" });
    ids[`targetGroup:${tg.TargetGroupName ?? arn}`] = arn;
  }
  const groupId = resources.securityGroup?.GroupId;
  if (groupId !== undefined) {
    leftovers.push({ kind: "security-group", id: groupId });
    ids.securityGroup = groupId;
  }
  return { ref, status: { ingress: [] }, listeners: [], resources: ids, leftovers };
}

function targetGroupLeftover(tg: ActualTargetGroup): ObservedLeftover {
  return { kind: "target-group", id: tg.arn, targetPort: tg.port, protocol: tg.protocol };
}

function statusOf(dnsName: string): LoadBalancerStatus {
  return { ingress: [{ hostname: dnsName }] };
}

function observedHealthCheck(hc: { protocol: string; port: string; path?: string }): ObservedHealthCheck | undefined {
  if (hc.protocol !== "TCP" && hc.protocol !== "HTTP" && hc.protocol !== "HTTPS") return undefined;
  const port = hc.port === "traffic-port" ? "traffic-port" : Number(hc.port);
  return {
    protocol: hc.protocol,
    port,
    ...(hc.protocol !== "TCP" && hc.path !== undefined && { path: hc.path }),
  };
}

function healthOf(state: string): NonNullable<ObservedTarget["health"]> {
  switch (state) {
    case "healthy":
    case "initial":
    case "draining":
      return state;
    case "unhealthy":
    case "unhealthy.draining":
      return "unhealthy";
    default:
      return "unknown";
  }
}
