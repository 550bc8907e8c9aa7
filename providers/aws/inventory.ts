/**
 * What exists in the region with a name this provider could have given it: every load balancer and
 * target group named `k8s-*` and every security group named `k8s-*`, plus the load balancers with the
 * legacy cloud provider's names (`a` and 31 hex digits: to adopt, or adopted), with the load balancers' and
 * target groups' tags, read in a handful of listing calls (pages of 400 load balancers or target
 * groups; 20 ARNs a tag call, and only for ARNs whose tags are not known yet). One snapshot serves
 * every reconcile until it is older than the caller accepts; callers that need one at the same time
 * share a single refresh.
 *
 * It is how a reconcile finds the target groups its Service owns that no listener forwards to (left by
 * a change or delete that failed half-way, possibly in an earlier process) without listing every
 * target group of the account each time, how `gc` finds whatever a Service left behind, and what a
 * periodic resync compares the Services with (`provider.ts`). Target groups this process creates are
 * noted as they are made, so a snapshot older than them still leads to them.
 *
 * Ownership here is a hint that narrows what to look at: whoever changes or deletes a resource proves
 * it is the Service's by tags read at that time (`observe.ts`).
 *
 * @module
 */
import type { SecurityGroup } from "@aws-sdk/client-ec2";
import type { LoadBalancer, TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { LoadBalancerRef, ServiceRef } from "../types.ts";
import { isLegacyLoadBalancerName, legacyLoadBalancerName } from "./adopt.ts";
import type { AwsClient } from "./client.ts";
import { loadBalancerName, NAME_PREFIX, namePrefix, securityGroupName } from "./names.ts";
import type { Clock } from "./rate-limit.ts";
import type { Tags } from "./state.ts";
import { fromTagList, ownerOf } from "./tags.ts";

/** The resources one Service owns, by the snapshot's tags and names. */
export interface ServiceResources {
  readonly owner: ServiceRef;
  readonly loadBalancer?: LoadBalancer;
  readonly targetGroups: readonly TargetGroup[];
  readonly securityGroup?: SecurityGroup;
}

export interface InventorySnapshot {
  /** When the listing started (the clock's milliseconds). */
  readonly takenAt: number;
  /** Tags of the snapshot's load balancers and target groups, by ARN. */
  readonly tags: ReadonlyMap<string, Tags>;
  /** What `ref`'s Service owns. */
  resourcesOf(ref: LoadBalancerRef): ServiceResources;
  /** Every Service of `clusterName` that owns anything, sorted by namespace/name. */
  servicesOf(clusterName: string): readonly ServiceResources[];
  /** Whether a load balancer of that name was listed (names this provider or the legacy one gives). */
  hasLoadBalancerNamed(name: string): boolean;
}

interface Listing {
  readonly takenAt: number;
  readonly loadBalancers: readonly LoadBalancer[];
  readonly targetGroups: readonly TargetGroup[];
  readonly securityGroups: readonly SecurityGroup[];
  readonly tags: ReadonlyMap<string, Tags>;
}

export class Inventory {
  readonly #client: AwsClient;
  readonly #clock: Clock;
  #listing: Listing | undefined;
  /** Counts {@link invalidate} calls; the listing is good only if it started after the last one. */
  #invalidations = 0;
  #invalidationsBeforeListing = 0;
  #refreshing: SharedRefresh | undefined;
  /** Tags known by ARN: read before, or written by this process. */
  readonly #tags = new Map<string, Tags>();
  /** Target groups created by this process, by Service key, with when they were noted. */
  readonly #noted = new Map<string, Map<string, number>>();
  /** ARNs deleted by this process, with when (a listing that started later no longer shows them). */
  readonly #deleted = new Map<string, number>();

  constructor(client: AwsClient, clock: Clock) {
    this.#client = client;
    this.#clock = clock;
  }

  /** A snapshot taken no more than `maxAgeMs` ago (0: a new one), refreshing when needed. */
  async snapshot(maxAgeMs: number, signal?: AbortSignal): Promise<InventorySnapshot> {
    signal?.throwIfAborted();
    const listing = this.#listing;
    const fresh = this.#invalidationsBeforeListing === this.#invalidations;
    if (listing !== undefined && fresh && this.#clock.now() - listing.takenAt <= maxAgeMs) return this.#view(listing);
    if (this.#refreshing === undefined || this.#refreshing.settled || this.#refreshing.stopped)
      this.#refreshing = new SharedRefresh((refreshSignal) => this.#list(refreshSignal));
    return this.#view(await this.#refreshing.wait(signal));
  }

  /** Makes the next {@link snapshot} list again: something may exist that this process did not learn of. */
  invalidate(): void {
    this.#invalidations++;
  }

  /** Notes a target group made for `ref` (and the tags it was made with). */
  noteTargetGroup(ref: LoadBalancerRef, arn: string, tags: Tags): void {
    this.#tags.set(arn, tags);
    const key = refKey(ref);
    const noted = this.#noted.get(key) ?? new Map<string, number>();
    noted.set(arn, this.#clock.now());
    this.#noted.set(key, noted);
    this.#deleted.delete(arn);
  }

  /** Notes the tags a load balancer or target group has (as this process made or found them). */
  noteTags(arn: string, tags: Tags): void {
    this.#tags.set(arn, tags);
  }

  /** Notes that a resource is gone. */
  forget(arn: string): void {
    this.#deleted.set(arn, this.#clock.now());
    this.#tags.delete(arn);
    for (const noted of this.#noted.values()) noted.delete(arn);
  }

  /** ARNs of the target groups `ref`'s Service is known to own: by the snapshot, or noted since. */
  targetGroupArnsOf(snapshot: InventorySnapshot, ref: LoadBalancerRef): string[] {
    const arns = new Set(snapshot.resourcesOf(ref).targetGroups.map((tg) => tg.TargetGroupArn ?? ""));
    for (const arn of this.#noted.get(refKey(ref))?.keys() ?? []) arns.add(arn);
    arns.delete("");
    return [...arns];
  }

  async #list(signal: AbortSignal): Promise<Listing> {
    const takenAt = this.#clock.now();
    const invalidations = this.#invalidations;
    const shaped = <T>(items: readonly T[], name: (item: T) => string | undefined) =>
      items.filter((item) => name(item)?.startsWith(NAME_PREFIX) ?? false);
    const [loadBalancers, targetGroups, securityGroups] = await Promise.all([
      this.#client
        .listLoadBalancers({ signal })
        .then((all) =>
          all.filter(
            (lb) => lb.LoadBalancerName?.startsWith(NAME_PREFIX) || isLegacyLoadBalancerName(lb.LoadBalancerName ?? ""),
          ),
        ),
      this.#client.listTargetGroups({ signal }).then((all) => shaped(all, (tg) => tg.TargetGroupName)),
      this.#client.describeSecurityGroups([{ Name: "group-name", Values: [`${NAME_PREFIX}*`] }], { signal }),
    ]);
    const arns = [
      ...loadBalancers.map((lb) => lb.LoadBalancerArn ?? ""),
      ...targetGroups.map((tg) => tg.TargetGroupArn ?? ""),
    ].filter((arn) => arn !== "");
    const unknown = arns.filter((arn) => !this.#tags.has(arn));
    const read = unknown.length === 0 ? new Map<string, Tags>() : await this.#client.describeTags(unknown, { signal });
    const listed = new Set(arns);
    for (const arn of this.#tags.keys()) if (!listed.has(arn) && !this.#isNoted(arn)) this.#tags.delete(arn);
    for (const [arn, tags] of read) this.#tags.set(arn, tags);
    const tags = new Map(arns.map((arn) => [arn, this.#tags.get(arn) ?? {}]));
    // What was noted before this listing started is in it if it still exists.
    for (const noted of this.#noted.values()) for (const [arn, at] of noted) if (at < takenAt) noted.delete(arn);
    for (const [arn, at] of this.#deleted) if (at < takenAt) this.#deleted.delete(arn);
    this.#invalidationsBeforeListing = invalidations;
    const listing: Listing = { takenAt, loadBalancers, targetGroups, securityGroups, tags };
    this.#listing = listing;
    return listing;
  }

  #isNoted(arn: string): boolean {
    for (const noted of this.#noted.values()) if (noted.has(arn)) return true;
    return false;
  }

  #view(listing: Listing): InventorySnapshot {
    const deleted = new Set(this.#deleted.keys());
    const byCluster = new Map<string, Map<string, ServiceResources>>();
    const servicesIn = (clusterName: string) => {
      let services = byCluster.get(clusterName);
      if (services === undefined) {
        services = groupByService(listing, clusterName, deleted);
        byCluster.set(clusterName, services);
      }
      return services;
    };
    let names: Set<string> | undefined;
    return {
      takenAt: listing.takenAt,
      tags: listing.tags,
      hasLoadBalancerNamed: (name) => {
        names ??= new Set(listing.loadBalancers.map((lb) => lb.LoadBalancerName ?? ""));
        return names.has(name);
      },
      resourcesOf: (ref) =>
        servicesIn(ref.clusterName).get(serviceKey(ref.service)) ?? { owner: ref.service, targetGroups: [] },
      servicesOf: (clusterName) =>
        [...servicesIn(clusterName).entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, resources]) => resources),
    };
  }
}

/** Groups a listing's resources by the Service their tags name, keeping only names that fit that Service. */
function groupByService(
  listing: Listing,
  clusterName: string,
  deleted: ReadonlySet<string>,
): Map<string, ServiceResources> {
  const services = new Map<string, ServiceEntry>();
  // The Service a resource's tags name, unless the resource is being deleted.
  const owned: OwnerOf = (id, tags) => (deleted.has(id) ? undefined : ownerOf(tags, clusterName));
  // Load balancers listed that are no Service's of ours (a legacy one not adopted yet, say): what
  // they use is theirs, whatever its tags say.
  const others = new Set<string>();
  for (const lb of listing.loadBalancers) {
    const arn = lb.LoadBalancerArn ?? "";
    const owner = ownerOf(listing.tags.get(arn) ?? {}, clusterName);
    if (owner === undefined || !isNamedForService(lb, owner, clusterName)) others.add(arn);
    else if (!deleted.has(arn) && lb.Type === "network") entryIn(services, owner).loadBalancer = lb;
  }
  addTargetGroups(services, listing, owned, others);
  for (const group of listing.securityGroups) {
    const owner = owned(group.GroupId ?? "", fromTagList(group.Tags));
    if (owner !== undefined && group.GroupName === securityGroupName(scopeOf(owner, clusterName))) {
      entryIn(services, owner).securityGroup = group;
    }
  }
  return services;
}

type OwnerOf = (id: string, tags: Readonly<Record<string, string>>) => ServiceRef | undefined;

/**
 * Adds each target group to the Service its tags name, when its name fits that Service and no load
 * balancer of `others` uses it.
 */
function addTargetGroups(
  services: Map<string, ServiceEntry>,
  listing: Listing,
  owned: OwnerOf,
  others: ReadonlySet<string>,
): void {
  for (const tg of listing.targetGroups) {
    const arn = tg.TargetGroupArn ?? "";
    const owner = owned(arn, listing.tags.get(arn) ?? {});
    if (owner === undefined || (tg.LoadBalancerArns ?? []).some((lb) => others.has(lb))) continue;
    if (tg.TargetGroupName?.startsWith(namePrefix(owner))) {
      entryIn(services, owner).targetGroups.push(tg);
    }
  }
}

/** What {@link groupByService} gathers for one Service. */
interface ServiceEntry {
  owner: ServiceRef;
  loadBalancer?: LoadBalancer;
  targetGroups: TargetGroup[];
  securityGroup?: SecurityGroup;
}

/** `owner`'s entry in `services`, made on first use. */
function entryIn(services: Map<string, ServiceEntry>, owner: ServiceRef): ServiceEntry {
  const key = serviceKey(owner);
  let entry = services.get(key);
  if (entry === undefined) {
    entry = { owner, targetGroups: [] };
    services.set(key, entry);
  }
  return entry;
}

function scopeOf(owner: ServiceRef, clusterName: string) {
  return { clusterName, namespace: owner.namespace, name: owner.name };
}

/** Whether `lb` has `owner`'s name: this project's name for it, or the legacy provider's it adopted. */
function isNamedForService(lb: LoadBalancer, owner: ServiceRef, clusterName: string): boolean {
  const adopted = owner.uid !== undefined && lb.LoadBalancerName === legacyLoadBalancerName(owner.uid);
  return adopted || lb.LoadBalancerName === loadBalancerName(scopeOf(owner, clusterName));
}

function serviceKey(service: ServiceRef): string {
  return `${service.namespace}/${service.name}`;
}

function refKey(ref: LoadBalancerRef): string {
  return `${ref.clusterName}\u0000${serviceKey(ref.service)}`;
}

/**
 * One refresh shared by every caller waiting for it. Each caller may give up on its own (its signal);
 * the refresh itself is aborted only when every caller has given up.
 */
class SharedRefresh {
  readonly #abort = new AbortController();
  readonly #result: Promise<Listing>;
  #waiting = 0;
  settled = false;

  constructor(run: (signal: AbortSignal) => Promise<Listing>) {
    this.#result = run(this.#abort.signal).finally(() => {
      this.settled = true;
    });
    // Callers that gave up do not see the outcome; nobody may be left with an unhandled rejection.
    this.#result.catch(() => {});
  }

  /** Every caller gave up, so it was stopped; a new caller needs a new refresh. */
  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  async wait(signal: AbortSignal | undefined): Promise<Listing> {
    this.#waiting++;
    if (signal === undefined) {
      try {
        return await this.#result;
      } finally {
        this.#waiting--;
      }
    }
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        if (--this.#waiting === 0) this.#abort.abort(signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([this.#result, aborted]);
    } finally {
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
      if (!signal.aborted) this.#waiting--;
    }
  }
}
