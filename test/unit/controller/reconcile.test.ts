import type { V1Service } from "@kubernetes/client-node";
import { pino } from "pino";
import { beforeEach, describe, expect, it } from "vitest";
import { newAwsProvider } from "../../../providers/aws/index.ts";
import {
  ConflictError,
  InvalidConfigurationError,
  RetryAfterError,
  TransientError,
} from "../../../providers/errors.ts";
import { createFakeProvider, type FakeProvider } from "../../../providers/fake/index.ts";
import { conditionOf } from "../../../src/controller/condition.ts";
import { fingerprint } from "../../../src/controller/fingerprint.ts";
import { eligibleNodeSpecs } from "../../../src/controller/node-eligibility.ts";
import {
  type NodeSnapshot,
  type ReconcileContext,
  reconcileService,
  type ServiceMemory,
} from "../../../src/controller/reconcile.ts";
import { objectKey, UPSTREAM_CLEANUP_FINALIZER } from "../../../src/controller/service-filters.ts";
import type { EventSink, EventSubject, EventType } from "../../../src/kube/event-recorder.ts";
import type { ServiceWrites, StatusChange } from "../../../src/kube/service-writer.ts";
import { stubbedClients } from "../aws/stub-aws.ts";
import {
  newNode,
  newService,
  tweakAnnotations,
  tweakClass,
  tweakFinalizers,
  tweakSpec,
  tweakType,
} from "./fixtures.ts";

interface RecordedEvent {
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

/** A cluster of one Service map: writes land in it, as the API server + informer would reflect them. */
class InMemoryServices implements ServiceWrites {
  readonly objects = new Map<string, V1Service>();
  readonly writes: string[] = [];
  #version = 100;

  put(service: V1Service): void {
    this.objects.set(objectKey(service), service);
  }

  async setFinalizer(service: V1Service, finalizer: string, present: boolean): Promise<V1Service> {
    this.writes.push(`${present ? "add" : "remove"}-finalizer`);
    const current = this.objects.get(objectKey(service));
    if (!current) throw Object.assign(new Error("not found"), { code: 404 });
    const finalizers = (current.metadata?.finalizers ?? []).filter((item) => item !== finalizer);
    if (present) finalizers.push(finalizer);
    return this.#store({ ...current, metadata: { ...current.metadata, finalizers } });
  }

  /** Applies a change as the API server applies the writer's patch: the ingress whole, a condition by type. */
  async patchStatus(service: V1Service, change: (current: V1Service) => StatusChange | undefined): Promise<V1Service> {
    const current = this.objects.get(objectKey(service));
    if (!current) throw Object.assign(new Error("not found"), { code: 404 });
    const computed = change(current);
    if (computed === undefined) return current;
    const { ingress, condition } = computed;
    // One entry per patch, naming what it carries.
    const parts = [];
    if (ingress !== undefined) parts.push(ingress === null ? "clear-status" : "patch-status");
    if (condition !== undefined)
      parts.push("set" in condition ? `condition-${condition.set.status}` : "remove-condition");
    this.writes.push(parts.join("+"));
    const type = condition === undefined ? undefined : "set" in condition ? condition.set.type : condition.remove;
    const conditions = (current.status?.conditions ?? []).filter((item) => item.type !== type);
    if (condition !== undefined && "set" in condition) conditions.push(condition.set);
    const loadBalancer =
      ingress === undefined ? (current.status?.loadBalancer ?? {}) : ingress === null ? {} : { ingress: [...ingress] };
    return this.#store({ ...current, status: { ...current.status, loadBalancer, conditions } });
  }

  #store(service: V1Service): V1Service {
    const stored = { ...service, metadata: { ...service.metadata, resourceVersion: String(++this.#version) } };
    this.put(stored);
    return stored;
  }
}

class Events implements EventSink {
  readonly recorded: RecordedEvent[] = [];
  record(_subject: EventSubject, type: EventType, reason: string, message: string): void {
    this.recorded.push({ type, reason, message });
  }
  reasons(): string[] {
    return this.recorded.map((event) => event.reason);
  }
  clear(): void {
    this.recorded.length = 0;
  }
}

function snapshotOf(count: number): NodeSnapshot {
  const nodes = eligibleNodeSpecs(
    Array.from({ length: count }, (_, index) => newNode(`node-${index + 1}`, `192.168.1.${index + 2}`)),
  );
  return { nodes, fingerprint: fingerprint(nodes) };
}

describe("reconcileService", () => {
  let provider: FakeProvider;
  let services: InMemoryServices;
  let events: Events;
  let memory: Map<string, ServiceMemory>;
  let nodes: NodeSnapshot;
  let ctx: ReconcileContext;
  const key = "default/myapp";

  beforeEach(() => {
    provider = createFakeProvider();
    services = new InMemoryServices();
    events = new Events();
    memory = new Map();
    nodes = snapshotOf(3);
    ctx = {
      selection: {},
      clusterName: "kubernetes",
      provider,
      getService: (k) => services.objects.get(k),
      getNodes: () => nodes,
      writer: services,
      events,
      memory,
      signal: new AbortController().signal,
      logger: pino({ level: "silent" }),
    };
  });

  it("adds the finalizer before the first cloud call, ensures, writes status, and announces it", async () => {
    services.put(newService("myapp"));
    let finalizerWhenEnsured: string[] | undefined;
    const ensure = provider.ensureLoadBalancer.bind(provider);
    provider.ensureLoadBalancer = async (spec, options) => {
      finalizerWhenEnsured = services.objects.get(key)?.metadata?.finalizers;
      return ensure(spec, options);
    };

    expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
    expect(finalizerWhenEnsured).toEqual([UPSTREAM_CLEANUP_FINALIZER]);
    expect(services.writes).toEqual(["add-finalizer", "patch-status+condition-True"]);
    const lb = provider.inspect({ clusterName: "kubernetes", service: { namespace: "default", name: "myapp" } });
    expect(lb?.listeners.map((listener) => [listener.port, listener.targetPort, listener.targets.length])).toEqual([
      [80, 30008, 3],
    ]);
    expect(services.objects.get(key)?.status?.loadBalancer?.ingress).toEqual(lb?.status.ingress);
    expect(events.reasons()).toEqual(["EnsuringLoadBalancer", "EnsuredLoadBalancer"]);
  });

  it("a restart finding the load balancer already ensured re-ensures it quietly; a changed address is announced", async () => {
    services.put(newService("myapp"));
    await reconcileService(key, ctx);
    const provisioned = services.objects.get(key);
    events.clear();
    services.writes.length = 0;
    // A new process: nothing remembered, the same cloud.
    memory.clear();

    expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
    expect(services.writes).toEqual([]);
    expect(events.recorded).toEqual([]);

    // The address published before the restart is not the one the cloud has now.
    memory.clear();
    services.put({
      ...provisioned,
      status: { ...provisioned?.status, loadBalancer: { ingress: [{ hostname: "old.example" }] } },
    });
    expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
    expect(services.writes).toEqual(["patch-status"]);
    expect(events.reasons()).toEqual(["EnsuredLoadBalancer"]);
  });

  it("makes no cloud call and records nothing when nothing changed since the last ensure", async () => {
    services.put(newService("myapp"));
    await reconcileService(key, ctx);
    provider.resetCalls();
    events.clear();
    services.writes.length = 0;

    expect(await reconcileService(key, ctx)).toEqual({ kind: "unchanged" });
    expect(provider.calls).toHaveLength(0);
    expect(services.writes).toEqual([]);
    expect(events.recorded).toEqual([]);
  });

  it("a forced resync calls the provider but, with no drift, mutates nothing and stays quiet", async () => {
    services.put(newService("myapp"));
    await reconcileService(key, ctx);
    provider.resetCalls();
    events.clear();

    expect(await reconcileService(key, ctx, { force: true })).toEqual({ kind: "ensured" });
    expect(provider.readCalls()).toBeGreaterThan(0);
    expect(provider.mutatingCalls()).toBe(0);
    expect(events.recorded).toEqual([]);
  });

  it("a forced resync repairs a load balancer deleted behind its back", async () => {
    services.put(newService("myapp"));
    await reconcileService(key, ctx);
    const ref = { clusterName: "kubernetes", service: { namespace: "default", name: "myapp" } };
    expect(provider.deleteOutOfBand(ref)).toBe(true);

    await reconcileService(key, ctx, { force: true });
    expect(provider.inspect(ref)?.listeners[0]?.targets).toHaveLength(3);
  });

  it("reports a node-set-only change as UpdatedLoadBalancer", async () => {
    services.put(newService("myapp"));
    await reconcileService(key, ctx);
    events.clear();
    nodes = snapshotOf(4);

    expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
    expect(events.reasons()).toEqual(["UpdatedLoadBalancer"]);
    const lb = provider.inspect({ clusterName: "kubernetes", service: { namespace: "default", name: "myapp" } });
    expect(lb?.listeners[0]?.targets).toHaveLength(4);
  });

  it("tells the provider why it ensures: changed, nodes only, or a resync; changed again after a failure", async () => {
    const reasons: (string | undefined)[] = [];
    const ensure = provider.ensureLoadBalancer.bind(provider);
    let fail = false;
    provider.ensureLoadBalancer = async (spec, options) => {
      reasons.push(options?.reason);
      if (fail) throw new Error("cloud down");
      return ensure(spec, options);
    };
    services.put(newService("myapp"));
    await reconcileService(key, ctx);
    nodes = snapshotOf(4);
    await reconcileService(key, ctx);
    await reconcileService(key, ctx, { force: true });
    fail = true;
    nodes = snapshotOf(5);
    expect((await reconcileService(key, ctx)).kind).toBe("failed");
    fail = false;
    await reconcileService(key, ctx, { force: true });
    expect(reasons).toEqual(["changed", "nodes", "resync", "nodes", "changed"]);
  });

  it("warns UnAvailableLoadBalancer with no eligible nodes but still ensures", async () => {
    nodes = snapshotOf(0);
    services.put(newService("myapp"));
    expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
    expect(events.reasons()).toEqual(["EnsuringLoadBalancer", "UnAvailableLoadBalancer", "EnsuredLoadBalancer"]);
  });

  it.each([
    [
      "allocateLoadBalancerNodePorts false",
      tweakSpec({ allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: "TCP" }] }),
      "spec.allocateLoadBalancerNodePorts",
    ],
    [
      "an unsupported protocol (provider.validate)",
      tweakSpec({ ports: [{ port: 80, protocol: "SCTP", nodePort: 30008 }] }),
      "spec.ports[0].protocol",
    ],
    [
      "a bad source range",
      tweakSpec({ loadBalancerSourceRanges: ["010.0.0.0/8"] }),
      "spec.loadBalancerSourceRanges[0]",
    ],
  ])(
    "invalid input (%s): Warning and condition naming the field once, no finalizer, no cloud call",
    async (_, tweak, field) => {
      services.put(newService("myapp", tweak));
      const first = await reconcileService(key, ctx);
      expect(first.kind).toBe("invalid");
      expect(events.recorded).toHaveLength(1);
      expect(events.recorded[0]).toMatchObject({ type: "Warning", reason: "SyncLoadBalancerFailed" });
      expect(events.recorded[0]?.message).toContain(field);
      expect(services.writes).toEqual(["condition-False"]);
      expect(conditionOf(services.objects.get(key))).toMatchObject({
        status: "False",
        reason: "InvalidConfiguration",
        message: events.recorded[0]?.message,
      });
      expect(provider.calls).toHaveLength(0);

      expect((await reconcileService(key, ctx, { force: true })).kind).toBe("invalid");
      expect(events.recorded).toHaveLength(1);
      expect(services.writes).toEqual(["condition-False"]);
      expect(provider.calls).toHaveLength(0);
    },
  );

  it("a spec the provider rejects on ensure is not retried until the input changes", async () => {
    services.put(newService("myapp"));
    provider.validate = () => [];
    provider.failNext("DescribeLoadBalancer", 1, new InvalidConfigurationError("metadata.annotations[x]", "bad"));
    expect((await reconcileService(key, ctx)).kind).toBe("invalid");
    expect(events.recorded.at(-1)?.message).toContain("metadata.annotations[x]: bad");
    const callsAfterReject = provider.calls.length;

    expect((await reconcileService(key, ctx, { force: true })).kind).toBe("invalid");
    expect(provider.calls.length).toBe(callsAfterReject);

    nodes = snapshotOf(4);
    expect((await reconcileService(key, ctx)).kind).toBe("ensured");
  });

  it("a transient provider failure is a Warning and a retry", async () => {
    services.put(newService("myapp"));
    provider.failNext("CreateLoadBalancer");
    const outcome = await reconcileService(key, ctx);
    expect(outcome.kind).toBe("failed");
    expect(events.recorded.at(-1)).toMatchObject({ type: "Warning", reason: "SyncLoadBalancerFailed" });
    expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
  });

  it("a retry-after is a fixed-delay retry without a Warning", async () => {
    services.put(newService("myapp"));
    provider.failNext("DescribeLoadBalancer", 1, new RetryAfterError("still provisioning", 1_500));
    expect(await reconcileService(key, ctx)).toEqual({
      kind: "retry-after",
      delayMs: 1_500,
      message: "still provisioning",
    });
    expect(events.recorded.filter((event) => event.type === "Warning")).toEqual([]);
  });

  it("cleans up when switched away from LoadBalancer: delete, clear status, remove finalizer", async () => {
    services.put(newService("myapp"));
    await reconcileService(key, ctx);
    const current = services.objects.get(key) as V1Service;
    services.put({ ...current, spec: { ...current.spec, type: "ClusterIP" } });
    events.clear();
    services.writes.length = 0;

    expect(await reconcileService(key, ctx)).toEqual({ kind: "deleted" });
    expect(provider.loadBalancerCount).toBe(0);
    expect(services.writes).toEqual(["clear-status+remove-condition", "remove-finalizer"]);
    expect(services.objects.get(key)?.metadata?.finalizers).toEqual([]);
    expect(services.objects.get(key)?.status?.loadBalancer?.ingress).toBeUndefined();
    expect(events.reasons()).toEqual(["DeletingLoadBalancer", "DeletedLoadBalancer"]);
    expect(memory.has(key)).toBe(false);
  });

  it("a failed delete keeps the finalizer and warns DeleteLoadBalancerFailed", async () => {
    services.put(newService("myapp"));
    await reconcileService(key, ctx);
    const current = services.objects.get(key) as V1Service;
    services.put({ ...current, metadata: { ...current.metadata, deletionTimestamp: new Date() } });
    provider.failNext("DeleteLoadBalancer");

    expect((await reconcileService(key, ctx)).kind).toBe("failed");
    expect(events.recorded.at(-1)).toMatchObject({ type: "Warning", reason: "DeleteLoadBalancerFailed" });
    expect(services.objects.get(key)?.metadata?.finalizers).toEqual([UPSTREAM_CLEANUP_FINALIZER]);
  });

  it.each([
    ["another class", newService("myapp", tweakClass("example.com/other"))],
    ["a NodePort Service", newService("myapp", tweakType("NodePort"))],
    ["someone else's finalizer only", newService("myapp", tweakType("NodePort"), tweakFinalizers("example.com/x"))],
  ])("leaves %s alone", async (_, service) => {
    services.put(service);
    expect(await reconcileService(key, ctx)).toEqual({ kind: "ignored" });
    expect(provider.calls).toHaveLength(0);
    expect(services.writes).toEqual([]);
    expect(events.recorded).toEqual([]);
  });

  it("does not try to ensure a Service that is being deleted without our finalizer", async () => {
    services.put(
      newService("myapp", tweakFinalizers("example.com/other"), (service) => {
        service.metadata = { ...service.metadata, deletionTimestamp: new Date() };
      }),
    );
    expect(await reconcileService(key, ctx)).toEqual({ kind: "ignored" });
    expect(provider.calls).toHaveLength(0);
    expect(services.writes).toEqual([]);
  });

  it("deletes the load balancer of a Service that vanished without its finalizer", async () => {
    services.put(newService("myapp"));
    await reconcileService(key, ctx);
    services.objects.delete(key);

    expect(await reconcileService(key, ctx)).toEqual({ kind: "deleted" });
    expect(provider.loadBalancerCount).toBe(0);
    expect(await reconcileService(key, ctx)).toEqual({ kind: "ignored" });
  });

  describe("the condition", () => {
    const condition = () => conditionOf(services.objects.get(key));
    const lastWarning = () => events.recorded.filter((event) => event.type === "Warning").at(-1)?.message;

    it.each([
      ["a conflict", new ConflictError("lb-1", "the name is taken"), "Conflict"],
      ["a cloud failure", new TransientError("the cloud is down"), "CloudError"],
    ])("%s: False with its reason and the Warning's message, then True once ensured", async (_, failure, reason) => {
      services.put(newService("myapp"));
      provider.failNext("DescribeLoadBalancer", 1, failure);
      expect((await reconcileService(key, ctx)).kind).toBe("failed");
      expect(condition()).toMatchObject({ status: "False", reason, message: lastWarning(), observedGeneration: 0 });

      expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
      expect(condition()).toMatchObject({ status: "True", reason: "Ensured", message: "Ensured load balancer" });
    });

    it("waiting for the cloud: False, WaitingForCloud, with the provider's message and no Warning", async () => {
      services.put(newService("myapp"));
      provider.failNext("DescribeLoadBalancer", 1, new RetryAfterError("still provisioning", 1_500));
      expect((await reconcileService(key, ctx)).kind).toBe("retry-after");
      expect(condition()).toMatchObject({ status: "False", reason: "WaitingForCloud", message: "still provisioning" });
      expect(lastWarning()).toBeUndefined();
    });

    it("no eligible node: False, NoNodes, with the UnAvailableLoadBalancer message", async () => {
      nodes = snapshotOf(0);
      services.put(newService("myapp"));
      expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
      expect(condition()).toMatchObject({ status: "False", reason: "NoNodes", message: lastWarning() });
      nodes = snapshotOf(1);
      expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
      expect(condition()?.status).toBe("True");
    });

    it("a change to a ready Service turns it False (Ensuring) before the cloud call, True after", async () => {
      let now = new Date("2026-12-02T10:00:00.400Z");
      ctx = { ...ctx, now: () => now };
      services.put(newService("myapp"));
      await reconcileService(key, ctx);
      expect(condition()?.lastTransitionTime).toEqual(new Date("2026-12-02T10:00:00Z"));
      now = new Date("2026-12-02T10:05:00Z");
      let duringEnsure: unknown;
      const ensure = provider.ensureLoadBalancer.bind(provider);
      provider.ensureLoadBalancer = async (spec, options) => {
        duringEnsure = condition();
        return ensure(spec, options);
      };
      const current = services.objects.get(key) as V1Service;
      const changed = structuredClone(current);
      tweakAnnotations({ "example.com/x": "1" })(changed);
      services.put(changed);
      services.writes.length = 0;

      expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
      expect(duringEnsure).toMatchObject({ status: "False", reason: "Ensuring", message: "Ensuring load balancer" });
      expect(services.writes).toEqual(["condition-False", "condition-True"]);
      expect(condition()).toMatchObject({ status: "True", reason: "Ensured" });
      expect(condition()?.lastTransitionTime).toEqual(now);
    });

    it("a resync, a node change or a restart of a ready Service writes nothing when nothing differs", async () => {
      services.put(newService("myapp"));
      await reconcileService(key, ctx);
      services.writes.length = 0;
      expect(await reconcileService(key, ctx, { force: true })).toEqual({ kind: "ensured" });
      nodes = snapshotOf(4);
      expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
      expect(services.writes).toEqual([]);

      // A restarted controller, reading the condition as the API server returns it (generation 0 left out).
      memory.clear();
      const current = services.objects.get(key) as V1Service;
      const returned = (current.status?.conditions ?? []).map(({ observedGeneration: _, ...rest }) => rest);
      services.put({ ...current, status: { ...current.status, conditions: returned } });
      expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
      expect(services.writes).toEqual([]);
    });

    it("an invalid Service that leaves LoadBalancer loses the condition; one of another class keeps it", async () => {
      services.put(newService("myapp", tweakSpec({ loadBalancerSourceRanges: ["bad"] })));
      expect((await reconcileService(key, ctx)).kind).toBe("invalid");
      expect(condition()?.reason).toBe("InvalidConfiguration");
      const invalid = services.objects.get(key) as V1Service;

      services.put({ ...invalid, spec: { ...invalid.spec, loadBalancerClass: "example.com/other" } });
      expect(await reconcileService(key, ctx)).toEqual({ kind: "ignored" });
      expect(condition()).toBeDefined();

      services.put({ ...invalid, spec: { ...invalid.spec, type: "ClusterIP" } });
      services.writes.length = 0;
      expect(await reconcileService(key, ctx)).toEqual({ kind: "ignored" });
      expect(condition()).toBeUndefined();
      expect(services.writes).toEqual(["remove-condition"]);
    });
  });

  describe("source ranges: decided by the controller, read by the provider, warned about once", () => {
    const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";
    const IGNORED =
      "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: is ignored because spec.loadBalancerSourceRanges is set";

    it.each([
      { what: "spec only", spec: ["203.0.113.0/24"], annotation: undefined, ranges: ["203.0.113.0/24"], warnings: [] },
      { what: "annotation only", spec: [], annotation: "198.51.100.0/24", ranges: ["198.51.100.0/24"], warnings: [] },
      {
        what: "both",
        spec: ["203.0.113.0/24"],
        annotation: "198.51.100.0/24",
        ranges: ["203.0.113.0/24"],
        warnings: [IGNORED],
      },
      { what: "neither", spec: [], annotation: undefined, ranges: [], warnings: [] },
    ])("$what: Warning events $warnings", async ({ spec, annotation, ranges, warnings }) => {
      // The AWS provider's own validation (pure: its clients are never called) in front of the fake cloud.
      const { elbv2, ec2, requests } = stubbedClients([]);
      const aws = await newAwsProvider(
        { clusterName: "kubernetes", logger: pino({ level: "silent" }), settings: { region: "us-east-1" } },
        { elbv2, ec2 },
      );
      ctx = { ...ctx, provider: Object.assign(provider, { validate: aws.validate.bind(aws) }) };
      services.put(
        newService(
          "myapp",
          tweakSpec({ loadBalancerSourceRanges: spec }),
          tweakAnnotations(annotation === undefined ? {} : { [SOURCE_RANGES_ANNOTATION]: annotation }),
        ),
      );

      expect(await reconcileService(key, ctx)).toEqual({ kind: "ensured" });
      const warningEvents = events.recorded.filter((event) => event.type === "Warning").map((event) => event.message);
      expect(warningEvents).toEqual(warnings);
      const lb = provider.inspect({ clusterName: "kubernetes", service: { namespace: "default", name: "myapp" } });
      expect(lb?.sourceRanges).toEqual(ranges);
      expect(requests).toEqual([]);
      await aws.close?.();
    });
  });
});
