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
  ObservedListener,
  ObservedLoadBalancer,
  ObservedTarget,
  ProviderLogger,
  ValidationIssue,
} from "../types.ts";
import { applyActions, deleteSecurityGroupWhenReleased, deleteTargetGroupWhenReleased } from "./apply.ts";
import type { AwsClient, RetryOptions } from "./client.ts";
import { planActions } from "./diff.ts";
import { buildDesiredState, resolveTargets } from "./model.ts";
import { loadBalancerName } from "./names.ts";
import { NodeDirectory } from "./node-directory.ts";
import { type Observation, observe } from "./observe.ts";
import { Placement } from "./placement.ts";
import { ownerOf, SERVICE_UID_TAG } from "./tags.ts";
import { analyzeSpec, requireValidSpec } from "./validate.ts";

/** Waiting for AWS to release a target group or security group: about a minute in all. */
export const DEFAULT_RELEASE_RETRY: RetryOptions = { retries: 8, minTimeoutMs: 1_000, maxTimeoutMs: 10_000 };

export interface AwsProviderOptions {
  readonly client: AwsClient;
  readonly logger: ProviderLogger;
  /** The cluster's VPC, when it cannot be read from the nodes' instances. */
  readonly vpcId?: string | undefined;
  readonly releaseRetry?: RetryOptions;
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
  readonly #releaseRetry: RetryOptions;
  readonly #close: (() => void | Promise<void>) | undefined;

  constructor(options: AwsProviderOptions) {
    this.#client = options.client;
    this.#logger = options.logger;
    this.#placement = new Placement(options.client, options.vpcId);
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
    const observation = await observe(this.#client, spec, { mode: "ensure", desired, signal });
    const actions = planActions(desired, observation.state);
    const current = observation.state.loadBalancer;
    if (actions.length === 0 && current !== undefined) return statusOf(current.dnsName);

    if (targets.skipped.length > 0)
      this.#logger.warn({ service, skipped: targets.skipped }, "nodes left out of the load balancer's targets");
    this.#logger.info(
      { service, loadBalancer: desired.loadBalancer.name, actions: actions.map((a) => a.kind) },
      "converging load balancer",
    );
    const applied = await applyActions(actions, {
      client: this.#client,
      desired,
      actual: observation.state,
      placement: () => this.#placement.resolve(spec, config, signal),
      logger: this.#logger,
      service,
      signal,
      releaseRetry: this.#releaseRetry,
    });
    return statusOf(applied.dnsName);
  }

  async getLoadBalancer(ref: LoadBalancerRef, options: GetOptions = {}): Promise<ObservedLoadBalancer | undefined> {
    options.signal?.throwIfAborted();
    if (options.nodes !== undefined) this.#nodes.learn(options.nodes);
    const observation = await observe(this.#client, ref, { mode: "read", signal: options.signal });
    return this.#toObserved(ref, observation, this.#nodes.resolver(options.nodes));
  }

  async ensureLoadBalancerDeleted(ref: LoadBalancerRef, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    const service = `${ref.service.namespace}/${ref.service.name}`;
    const { state } = await observe(this.#client, ref, { mode: "delete", signal });
    const { loadBalancer, listeners, targetGroups, securityGroup } = state;
    if (loadBalancer === undefined && targetGroups.length === 0 && securityGroup === undefined) return;

    // Listeners first: AWS would delete them with the load balancer, but a target group stays "in use"
    // until its listener is gone, and a failure between the two steps must leave no orphaned listener.
    if (loadBalancer !== undefined) {
      for (const listener of listeners) await this.#client.deleteListener(listener.arn, { signal });
      await this.#client.deleteLoadBalancer(loadBalancer.arn, { signal });
    }
    for (const tg of targetGroups)
      await deleteTargetGroupWhenReleased(this.#client, tg.arn, this.#releaseRetry, signal);
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
    const all = (await this.#client.listLoadBalancers({ signal })).filter((lb) => lb.Type === "network");
    const tags = await this.#client.describeTags(
      all.map((lb) => lb.LoadBalancerArn ?? ""),
      { signal },
    );
    const refs: LoadBalancerRef[] = [];
    for (const lb of all) {
      const owner = ownerOf(tags.get(lb.LoadBalancerArn ?? "") ?? {}, clusterName);
      // The name check keeps out load balancers tagged by other tools with the same keys.
      if (owner === undefined || lb.LoadBalancerName !== loadBalancerName({ clusterName, ...owner })) continue;
      refs.push({ clusterName, service: owner });
    }
    const observed: ObservedLoadBalancer[] = [];
    for (const ref of refs) {
      const lb = await this.getLoadBalancer(ref, { ...(signal !== undefined && { signal }) });
      if (lb !== undefined) observed.push(lb);
    }
    return observed.sort((a, b) => key(a.ref).localeCompare(key(b.ref)));
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
    };
  }
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

function key(ref: LoadBalancerRef): string {
  return `${ref.service.namespace}/${ref.service.name}`;
}
