import type { SecurityGroup } from "@aws-sdk/client-ec2";
import type { LoadBalancer, TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import { describe, expect, it } from "vitest";
import { legacyLoadBalancerName } from "../../../providers/aws/adopt.ts";
import type { AwsClient } from "../../../providers/aws/client.ts";
import { Inventory } from "../../../providers/aws/inventory.ts";
import { loadBalancerName, namePrefix, securityGroupName } from "../../../providers/aws/names.ts";
import type { Clock } from "../../../providers/aws/rate-limit.ts";
import type { Tags } from "../../../providers/aws/state.ts";

const ref = { clusterName: "prod", service: { namespace: "default", name: "web" } };
const scope = { clusterName: "prod", namespace: "default", name: "web" };
const owned: Tags = { "kubernetes.io/cluster/prod": "owned", "kubernetes.io/service-name": "default/web" };

/** A region with one Service's resources and some that only look alike; counts what is read. */
class Region {
  loadBalancers: LoadBalancer[] = [
    { LoadBalancerArn: "lb-web", LoadBalancerName: loadBalancerName(scope), Type: "network" },
    { LoadBalancerArn: "lb-other-name", LoadBalancerName: "k8s-default-web-0000000000", Type: "network" },
    { LoadBalancerArn: "lb-foreign", LoadBalancerName: "not-ours" },
  ];
  targetGroups: TargetGroup[] = [
    { TargetGroupArn: "tg-attached", TargetGroupName: `${namePrefix(scope)}aaaaaaaaaa` },
    { TargetGroupArn: "tg-detached", TargetGroupName: `${namePrefix(scope)}bbbbbbbbbb` },
    { TargetGroupArn: "tg-other-cluster", TargetGroupName: `${namePrefix(scope)}cccccccccc` },
    { TargetGroupArn: "tg-misnamed", TargetGroupName: "k8s-else-where-dddddddddd" },
  ];
  securityGroups: SecurityGroup[] = [
    {
      GroupId: "sg-web",
      GroupName: securityGroupName(scope),
      Tags: Object.entries(owned).map(([Key, Value]) => ({ Key, Value })),
    },
  ];
  tags = new Map<string, Tags>([
    ["lb-web", owned],
    ["lb-other-name", owned],
    ["tg-attached", owned],
    ["tg-detached", owned],
    ["tg-other-cluster", { ...owned, "kubernetes.io/cluster/prod": "shared" }],
    ["tg-misnamed", owned],
  ]);
  listings = 0;
  taggedArns: string[] = [];
  /** Listings wait for this while it is set. */
  hold: Promise<void> | undefined;

  /** Makes listings wait until the returned function is called. */
  holdListings(): () => void {
    let release: () => void = () => {};
    this.hold = new Promise((resolve) => {
      release = () => {
        resolve();
        this.hold = undefined;
      };
    });
    return release;
  }

  client(): AwsClient {
    const client = {
      listLoadBalancers: async ({ signal }: { signal?: AbortSignal }) => {
        this.listings++;
        await this.hold;
        signal?.throwIfAborted();
        return this.loadBalancers;
      },
      listTargetGroups: async () => this.targetGroups,
      describeSecurityGroups: async () => this.securityGroups,
      describeTags: async (arns: readonly string[]) => {
        this.taggedArns.push(...arns);
        return new Map(arns.map((arn) => [arn, this.tags.get(arn) ?? {}]));
      },
    };
    return client as unknown as AwsClient;
  }
}

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1_000;
  return { now: () => now, sleep: async () => {}, advance: (ms) => (now += ms) };
}

describe("Inventory", () => {
  it("groups by the Service the tags name, keeping only names that fit that Service", async () => {
    const region = new Region();
    const inventory = new Inventory(region.client(), fakeClock());
    const snapshot = await inventory.snapshot(60_000);
    const resources = snapshot.resourcesOf(ref);
    expect(resources.loadBalancer?.LoadBalancerArn).toBe("lb-web");
    expect(resources.targetGroups.map((tg) => tg.TargetGroupArn)).toEqual(["tg-attached", "tg-detached"]);
    expect(resources.securityGroup?.GroupId).toBe("sg-web");
    expect(snapshot.servicesOf("prod").map((s) => s.owner.name)).toEqual(["web"]);
    expect(snapshot.servicesOf("elsewhere")).toEqual([]);
    expect(region.taggedArns).not.toContain("lb-foreign");
  });

  it("lists the legacy cloud provider's load balancers: an adopted one is its Service's, one to adopt is not yet", async () => {
    const region = new Region();
    const uid = "0b6f1c1e-8a0d-4f7c-9d1e-3c2b1a000001";
    const other = { ...owned, "kubernetes.io/service-name": "default/api" };
    region.loadBalancers = [
      { LoadBalancerArn: "lb-adopted", LoadBalancerName: legacyLoadBalancerName(uid), Type: "network" },
      {
        LoadBalancerArn: "lb-to-adopt",
        LoadBalancerName: legacyLoadBalancerName(`${uid.slice(0, -1)}2`),
        Type: "network",
      },
      { LoadBalancerArn: "lb-not-legacy", LoadBalancerName: "a-load-balancer", Type: "network" },
    ];
    region.tags.set("lb-adopted", { ...owned, "lb-provisioner/service-uid": uid });
    region.tags.set("lb-to-adopt", other);
    const snapshot = await new Inventory(region.client(), fakeClock()).snapshot(60_000);
    expect(snapshot.resourcesOf(ref).loadBalancer?.LoadBalancerArn).toBe("lb-adopted");
    const api = { ...ref, service: { namespace: "default", name: "api" } };
    expect(snapshot.resourcesOf(api).loadBalancer).toBeUndefined();
    expect(snapshot.hasLoadBalancerNamed(legacyLoadBalancerName(`${uid.slice(0, -1)}2`))).toBe(true);
    expect(snapshot.hasLoadBalancerNamed("a-load-balancer")).toBe(false);
    expect(region.taggedArns).not.toContain("lb-not-legacy");
  });

  it("leaves out target groups a load balancer that is not ours uses, though tagged as the Service's", async () => {
    const region = new Region();
    const legacyName = legacyLoadBalancerName("0b6f1c1e-8a0d-4f7c-9d1e-3c2b1a000001");
    region.loadBalancers.push({ LoadBalancerArn: "lb-legacy", LoadBalancerName: legacyName, Type: "network" });
    region.tags.set("lb-legacy", owned);
    region.targetGroups.push({
      TargetGroupArn: "tg-legacy",
      TargetGroupName: `${namePrefix(scope)}ffffffffff`,
      LoadBalancerArns: ["lb-legacy"],
    });
    region.tags.set("tg-legacy", owned);
    const snapshot = await new Inventory(region.client(), fakeClock()).snapshot(60_000);
    expect(snapshot.resourcesOf(ref).targetGroups.map((tg) => tg.TargetGroupArn)).toEqual([
      "tg-attached",
      "tg-detached",
    ]);
  });

  it("reuses a snapshot while it is young enough, and reads tags only of ARNs it has not seen", async () => {
    const region = new Region();
    const clock = fakeClock();
    const inventory = new Inventory(region.client(), clock);
    await inventory.snapshot(60_000);
    clock.advance(59_000);
    await inventory.snapshot(60_000);
    expect(region.listings).toBe(1);
    clock.advance(2_000);
    region.targetGroups.push({ TargetGroupArn: "tg-new", TargetGroupName: `${namePrefix(scope)}eeeeeeeeee` });
    region.tags.set("tg-new", owned);
    region.taggedArns = [];
    const snapshot = await inventory.snapshot(60_000);
    expect(region.listings).toBe(2);
    expect(region.taggedArns).toEqual(["tg-new"]);
    expect(inventory.targetGroupArnsOf(snapshot, ref)).toContain("tg-new");
  });

  it("knows the target groups this process made since the listing, and forgets deleted ones", async () => {
    const region = new Region();
    const inventory = new Inventory(region.client(), fakeClock());
    const snapshot = await inventory.snapshot(60_000);
    inventory.noteTargetGroup(ref, "tg-made", owned);
    inventory.forget("tg-detached");
    const later = await inventory.snapshot(60_000);
    expect(region.listings).toBe(1);
    expect(inventory.targetGroupArnsOf(later, ref).sort()).toEqual(["tg-attached", "tg-made"]);
    expect(inventory.targetGroupArnsOf(snapshot, { ...ref, service: { namespace: "default", name: "db" } })).toEqual(
      [],
    );
  });

  it("lists again after invalidate, even inside the age, and an invalidate during a listing outlives it", async () => {
    const region = new Region();
    const clock = fakeClock();
    const inventory = new Inventory(region.client(), clock);
    await inventory.snapshot(60_000);
    inventory.invalidate();
    await inventory.snapshot(60_000);
    expect(region.listings).toBe(2);

    clock.advance(61_000);
    const release = region.holdListings();
    const listing = inventory.snapshot(60_000);
    clock.advance(1);
    inventory.invalidate();
    release();
    await listing;
    await inventory.snapshot(60_000);
    expect(region.listings).toBe(4);
  });

  it("shares one listing between callers; one giving up does not stop it for the others", async () => {
    const region = new Region();
    const inventory = new Inventory(region.client(), fakeClock());
    const release = region.holdListings();
    const quitting = new AbortController();
    const first = inventory.snapshot(0, quitting.signal);
    const second = inventory.snapshot(0, new AbortController().signal);
    const third = inventory.snapshot(0);
    const reason = new Error("stop");
    quitting.abort(reason);
    release();
    await expect(first).rejects.toBe(reason);
    expect((await second).resourcesOf(ref).loadBalancer?.LoadBalancerArn).toBe("lb-web");
    expect((await third).resourcesOf(ref).securityGroup?.GroupId).toBe("sg-web");
    expect(region.listings).toBe(1);
  });

  it("stops the listing when every caller gave up", async () => {
    const region = new Region();
    const inventory = new Inventory(region.client(), fakeClock());
    const release = region.holdListings();
    const caller = new AbortController();
    const waiting = inventory.snapshot(0, caller.signal);
    caller.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    release();
    // The stopped listing left nothing behind: the next caller lists afresh and succeeds.
    expect((await inventory.snapshot(0)).resourcesOf(ref).loadBalancer?.LoadBalancerArn).toBe("lb-web");
    expect(region.listings).toBe(2);
  });
});
