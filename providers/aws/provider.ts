/**
 * The AWS provider: one Network Load Balancer per Service, built and converged by
 * validate -> model -> observe -> diff -> apply, and deleted in dependency order (listeners, load
 * balancer, target groups, security group). See `docs/aws.md` for what it builds and why.
 *
 * @module
 */

import { InvalidConfigurationError, RetryAfterError } from "../errors.ts";
import { ALL_IP_FAMILIES, DEFAULT_IP_FAMILIES } from "../rules/index.ts";
import type {
  CallOptions,
  EnsureOptions,
  EnsureReason,
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
import { holdUnreadyRepoints, legacyLoadBalancerName, unenforcedSourceRanges } from "./adopt.ts";
import { ANNOTATION, type AwsServiceConfig, annotationField } from "./annotations.ts";
import { applyActions, deleteSecurityGroupWhenReleased, deleteTargetGroupWhenReleased } from "./apply.ts";
import type { AwsClient, RetryOptions } from "./client.ts";
import { planActions } from "./diff.ts";
import { Inventory, type ServiceResources } from "./inventory.ts";
import {
  type AppliedResources,
  actualOf,
  appliedAsIs,
  convergedState,
  onlyTargetChanges,
  resyncView,
} from "./known-state.ts";
import { buildDesiredState, OPEN_TO_ALL, resolveTargets, type TargetResolution } from "./model.ts";
import { NodeDirectory } from "./node-directory.ts";
import { type Observation, observe } from "./observe.ts";
import { Placement } from "./placement.ts";
import { type Clock, systemClock } from "./rate-limit.ts";
import { ServiceRecords } from "./records.ts";
import { AWS_CAPABILITIES, nodeFamily } from "./service-fields.ts";
import type { Action, ActualState, ActualTargetGroup, DesiredState } from "./state.ts";
import { isOwnedBy, SERVICE_UID_TAG } from "./tags.ts";
import { analyzeSpec, requireValidSpec } from "./validate.ts";

/** Waiting for AWS to release a target group or security group: about a minute in all. */
export const DEFAULT_RELEASE_RETRY: RetryOptions = { retries: 8, minTimeoutMs: 1_000, maxTimeoutMs: 10_000 };

/**
 * How old the inventory may be when an ensure, get or delete looks in it for the Service's target
 * groups that no listener uses. What this process creates is noted at once; the age bounds how late
 * a leftover of another process (one that died half-way) is found.
 */
export const DISCOVERY_MAX_AGE_MS = 10 * 60_000;

/**
 * How old the inventory may be that a resync compares a Service's record with: what a listing shows
 * (load balancers, target groups and their health checks, security groups and their rules, tags)
 * changed behind the controller's back is found by the first resync that starts after this.
 */
export const RESYNC_INVENTORY_MAX_AGE_MS = 30_000;

/**
 * How long a Service's listeners, targets and attributes — which no listing shows — may go unread by
 * a resync or node change: spread over the second half of this per Service. A change to the Service
 * and a restart read them at once.
 */
export const DETAIL_MAX_AGE_MS = 10 * 60 * 60_000;

/**
 * How soon an adoption looks again whether its new target groups passed their health checks (AWS
 * takes a minute or more: interval times healthy threshold once the targets are registered).
 */
export const ADOPTION_HEALTH_POLL_MS = 15_000;

/** One ensure: the spec and what was made of it. */
interface EnsureRun {
  readonly spec: LoadBalancerSpec;
  readonly config: AwsServiceConfig;
  readonly targets: TargetResolution;
  readonly desired: DesiredState;
  readonly signal: AbortSignal | undefined;
}

export interface AwsProviderOptions {
  readonly client: AwsClient;
  readonly logger: ProviderLogger;
  /** The cluster's VPC, when it cannot be read from the nodes' instances. */
  readonly vpcId?: string | undefined;
  /**
   * Whether a Service's NLB that the legacy cloud provider built is taken over (`adopt.ts`); when false
   * it is a conflict, as any load balancer in the way that is not this provider's. Default true.
   */
  readonly adoptLegacy?: boolean;
  readonly releaseRetry?: RetryOptions;
  /** Time source for the inventory's age; tests replace it. */
  readonly clock?: Clock;
  /** Releases the SDK clients. */
  readonly close?: () => void | Promise<void>;
}

/** Who built a load balancer the next ensure adopts, as `plan` shows it. */
const LEGACY_CLOUD_PROVIDER = "the legacy AWS cloud provider";

export class AwsProvider implements LoadBalancerProvider {
  readonly name = "aws";
  readonly capabilities = AWS_CAPABILITIES;
  readonly #client: AwsClient;
  readonly #logger: ProviderLogger;
  readonly #placement: Placement;
  readonly #nodes = new NodeDirectory();
  readonly #inventory: Inventory;
  readonly #records: ServiceRecords;
  readonly #clock: Clock;
  readonly #releaseRetry: RetryOptions;
  readonly #legacy: { readonly adopt: boolean };
  readonly #close: (() => void | Promise<void>) | undefined;

  constructor(options: AwsProviderOptions) {
    this.#client = options.client;
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#placement = new Placement(options.client, options.vpcId, this.#clock);
    this.#inventory = new Inventory(options.client, this.#clock);
    this.#records = new ServiceRecords(this.#clock, DETAIL_MAX_AGE_MS);
    this.#releaseRetry = options.releaseRetry ?? DEFAULT_RELEASE_RETRY;
    this.#legacy = { adopt: options.adoptLegacy ?? true };
    this.#close = options.close;
  }

  validate(spec: LoadBalancerSpec): readonly ValidationIssue[] {
    return analyzeSpec(spec).issues;
  }

  async ensureLoadBalancer(spec: LoadBalancerSpec, options: EnsureOptions = {}): Promise<LoadBalancerStatus> {
    const { signal } = options;
    signal?.throwIfAborted();
    const { config } = requireValidSpec(spec);
    this.#nodes.learn(spec.nodes);
    const targets = resolveTargets(spec.nodes, config, nodeFamily(spec));
    const run: EnsureRun = { spec, config, targets, desired: buildDesiredState(spec, config, targets), signal };
    try {
      return (await this.#fromRecord(run, options.reason ?? "changed")) ?? (await this.#converge(run));
    } catch (error) {
      this.#records.drop(spec);
      throw error;
    }
  }

  /**
   * A node change or resync settled by the Service's record — for a resync brought up to date with an
   * inventory taken since — instead of reading it all again: nothing to do costs no call of its own; a
   * target-only change costs one tag read (ownership, proven now) and the register/deregister calls.
   * `undefined` when that is not enough and the cloud must be read (`#converge`).
   */
  async #fromRecord(run: EnsureRun, reason: EnsureReason): Promise<LoadBalancerStatus | undefined> {
    if (reason === "changed") return undefined;
    const record = this.#records.current(run.spec);
    if (record === undefined) return undefined;
    let view: ActualState | undefined = actualOf(record.state);
    if (reason === "resync") {
      const snapshot = await this.#inventory.snapshot(RESYNC_INVENTORY_MAX_AGE_MS, run.signal);
      if (snapshot.takenAt > record.recordedAt)
        view = resyncView(run.spec, record.state, snapshot.resourcesOf(run.spec), snapshot.tags);
    }
    const dnsName = view?.loadBalancer?.dnsName;
    if (view === undefined || dnsName === undefined) return undefined;
    const actions = planActions(run.desired, view);
    if (actions.length === 0) return statusOf(dnsName);
    if (!onlyTargetChanges(actions) || !(await this.#stillOwned(run, view, actions))) return undefined;
    const applied = await this.#apply(run, view, actions);
    this.#record(run, view, applied, "kept");
    return statusOf(applied.loadBalancer.dnsName);
  }

  /** Whether the target groups `actions` change are still the Service's, by their tags read now. */
  async #stillOwned(run: EnsureRun, view: ActualState, actions: readonly Action[]): Promise<boolean> {
    const byName = new Map(view.targetGroups.map((tg) => [tg.name, tg.arn]));
    const arns = [...new Set(actions.flatMap((a) => ("name" in a ? [byName.get(a.name) ?? ""] : [])))];
    const tags = await this.#client.describeTags(arns, { signal: run.signal });
    return arns.every((arn) => isOwnedBy(tags.get(arn) ?? {}, run.spec));
  }

  /** Reads everything the Service owns, as it is now, and converges it. */
  async #converge(run: EnsureRun): Promise<LoadBalancerStatus> {
    const { spec, desired, signal } = run;
    const readAt = this.#clock.now();
    await this.#requireOwnSecurityGroups(desired, signal);
    const lookups = await this.#lookups(spec, signal);
    const { state, health } = await observe(this.#client, spec, { mode: "ensure", desired, ...lookups, signal });
    const unenforced = unenforcedSourceRanges(desired, state);
    if (unenforced.length > 0)
      this.#logger.warn(
        { service: `${spec.service.namespace}/${spec.service.name}`, sourceRanges: unenforced },
        "the load balancer was built without a security group and cannot get one: its source ranges are whatever the nodes' security groups admit",
      );
    const { actions, waiting } = holdUnreadyRepoints(planActions(desired, state), desired, state, health);
    const asIs = appliedAsIs(state);
    const applied = actions.length === 0 && asIs !== undefined ? asIs : await this.#apply(run, state, actions);
    if (waiting.length > 0)
      throw new RetryAfterError(
        `adopting load balancer ${applied.loadBalancer.arn}: listener${waiting.length === 1 ? "" : "s"} ${waiting.join(", ")} ` +
          "keep forwarding to the legacy target groups until the new ones' targets pass their health checks",
        ADOPTION_HEALTH_POLL_MS,
      );
    this.#record(run, state, applied, readAt);
    return statusOf(applied.loadBalancer.dnsName);
  }

  /**
   * The security groups a Service brings (`aws-load-balancer-security-groups`) exist: one that does not
   * is the annotation's fault, named before anything is made or changed.
   */
  async #requireOwnSecurityGroups(desired: DesiredState, signal: AbortSignal | undefined): Promise<void> {
    const ids = desired.loadBalancer.securityGroups;
    if (ids === undefined) return;
    const found = await this.#client.describeSecurityGroups([{ Name: "group-id", Values: [...ids] }], { signal });
    const missing = ids.filter((id) => !found.some((group) => group.GroupId === id));
    if (missing.length > 0)
      throw new InvalidConfigurationError(
        annotationField(ANNOTATION.securityGroups),
        `${missing.join(", ")} ${missing.length === 1 ? "does" : "do"} not exist in this region; list the ids of existing security groups`,
      );
  }

  /** Keeps the converged state as the Service's record, and its tags for the inventory. */
  #record(run: EnsureRun, before: ActualState, applied: AppliedResources, readAt: number | "kept"): void {
    const state = convergedState(run.desired, before, applied, this.#records.internIds);
    this.#records.set(run.spec, state, readAt);
    if (state.loadBalancer !== undefined) this.#inventory.noteTags(state.loadBalancer.arn, state.loadBalancer.tags);
    for (const tg of state.targetGroups) this.#inventory.noteTags(tg.arn, tg.tags);
  }

  async #apply(run: EnsureRun, actual: ActualState, actions: readonly Action[]): Promise<AppliedResources> {
    const { spec, config, desired, targets, signal } = run;
    const service = `${spec.service.namespace}/${spec.service.name}`;
    if (targets.skipped.length > 0)
      this.#logger.warn({ service, skipped: targets.skipped }, "nodes left out of the load balancer's targets");
    this.#logger.info(
      { service, loadBalancer: desired.loadBalancer.name, actions: actions.map((a) => a.kind) },
      "converging load balancer",
    );
    try {
      return await applyActions(actions, {
        client: this.#client,
        desired,
        actual,
        placement: () => this.#placement.resolve(spec, config, signal),
        requireDualStackSubnets: (subnetIds) => this.#placement.requireDualStackSubnets(subnetIds, config, signal),
        logger: this.#logger,
        service,
        signal,
        releaseRetry: this.#releaseRetry,
        onTargetGroupCreated: (arn, tags) => this.#inventory.noteTargetGroup(spec, arn, tags),
        onTargetGroupDeleted: (arn) => this.#inventory.forget(arn),
      });
    } catch (error) {
      // A create may have happened without its answer arriving: list again before trusting the inventory.
      this.#inventory.invalidate();
      throw error;
    }
  }

  async getLoadBalancer(ref: LoadBalancerRef, options: GetOptions = {}): Promise<ObservedLoadBalancer | undefined> {
    options.signal?.throwIfAborted();
    if (options.nodes !== undefined) this.#nodes.learn(options.nodes);
    const lookups = await this.#lookups(ref, options.signal);
    const observation = await observe(this.#client, ref, { mode: "read", ...lookups, signal: options.signal });
    return this.#toObserved(ref, observation, this.#nodes.resolver(options.nodes));
  }

  async ensureLoadBalancerDeleted(ref: LoadBalancerRef, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    const service = `${ref.service.namespace}/${ref.service.name}`;
    this.#records.drop(ref);
    const lookups = await this.#lookups(ref, signal);
    const { state } = await observe(this.#client, ref, { mode: "delete", ...lookups, signal });
    const { loadBalancer, targetGroups, securityGroup } = state;
    if (loadBalancer === undefined && targetGroups.length === 0 && securityGroup === undefined) return;

    // AWS deletes the listeners with the load balancer; until that succeeds both stay, and the next
    // delete starts over. Its target groups are "in use" a moment longer: retried while they are.
    if (loadBalancer !== undefined) await this.#client.deleteLoadBalancer(loadBalancer.arn, { signal });
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

  /**
   * What the inventory (see `inventory.ts`) tells a full read of `ref`'s Service: the ARNs of the target
   * groups it is known to own, attached or not; and whether to look for a load balancer under the
   * legacy cloud provider's name (only when one of that name was listed, so that no other Service pays
   * a read for it).
   */
  async #lookups(
    ref: LoadBalancerRef,
    signal: AbortSignal | undefined,
  ): Promise<{ knownTargetGroups: string[]; legacy?: { readonly adopt: boolean } }> {
    const snapshot = await this.#inventory.snapshot(DISCOVERY_MAX_AGE_MS, signal);
    const knownTargetGroups = this.#inventory.targetGroupArnsOf(snapshot, ref);
    const uid = ref.service.uid;
    const listed = uid !== undefined && uid !== "" && snapshot.hasLoadBalancerNamed(legacyLoadBalancerName(uid));
    return listed ? { knownTargetGroups, legacy: this.#legacy } : { knownTargetGroups };
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
    const addressType = loadBalancer.ipAddressType ?? "ipv4";
    const openToAll = [...OPEN_TO_ALL[addressType]].sort();
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
      ...(loadBalancer.attributes["deletion_protection.enabled"] === "true" && { deletionProtection: true }),
      // "Open to all" is what an empty spec.loadBalancerSourceRanges means, so it reads back as empty.
      // Security groups the Service brought (no managed one) have rules that are not its source ranges.
      ...((securityGroup !== undefined || loadBalancer.securityGroups.length === 0) && {
        sourceRanges: cidrs.join() === openToAll.join() ? [] : cidrs,
      }),
      ipFamilies: addressType === "dualstack" ? ALL_IP_FAMILIES : DEFAULT_IP_FAMILIES,
      resources,
      ...(observation.state.adopt === true && { adoptFrom: LEGACY_CLOUD_PROVIDER }),
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
