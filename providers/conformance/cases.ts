/**
 * The conformance cases: what every provider must do, each written against {@link CaseHarness} only,
 * so one body serves every cloud. Each case uses its own Service names and leaves nothing behind (the
 * harness deletes every ref it handed out).
 *
 * @module
 */
import { expect } from "vitest";
import { providerErrorKind } from "../errors.ts";
import { ipFamilyIssues } from "../rules/ip-families.ts";
import type {
  IPFamily,
  IPFamilyPolicy,
  LoadBalancerProvider,
  LoadBalancerRef,
  LoadBalancerSpec,
  LoadBalancerStatus,
  NodeSpec,
  ObservedLoadBalancer,
  ProviderCall,
  ValidationIssue,
} from "../types.ts";
import { expectAddress, expectConverged, expectIpFamilies, expectSameRef } from "./expectations.ts";
import { type ConformanceSpecInput, listener, refOf, SEED_LISTENER, withInternalIP } from "./specs.ts";

/** Every case, by the name used in `skip` and in test titles. */
export const CONFORMANCE_CASES = [
  "creates-from-spec",
  "second-ensure-changes-nothing",
  "reads-never-mutate",
  "no-eligible-nodes",
  "node-added",
  "node-removed",
  "node-address-changed",
  "port-added",
  "port-removed",
  "node-port-changed",
  "protocol-changed",
  "health-check-follows-traffic-policy",
  "source-ranges",
  "recreates-after-out-of-band-deletion",
  "same-ref-after-restart",
  "leaves-foreign-resources-alone",
  "delete-twice",
  "delete-never-created",
  "get-after-delete-is-undefined",
  "invalid-spec-sctp",
  "invalid-spec-duplicate-ports",
  "same-name-different-namespaces",
  "same-name-different-clusters",
  "names-at-length-limits",
  "concurrent-ensures",
  "aborted-signal",
  "aborted-mid-ensure",
  "lists-owned-load-balancers",
  "validate-reports-issues",
  "ip-families",
  "session-affinity",
  "load-balancer-ip",
] as const;

export type ConformanceCase = (typeof CONFORMANCE_CASES)[number];

/** What a case may use: the provider, a node pool, call counting, and spec building with cleanup. */
export interface CaseHarness {
  readonly provider: LoadBalancerProvider;
  readonly clusterName: string;
  readonly namespace: string;
  /** At least five eligible nodes, sorted by name. */
  readonly nodes: readonly NodeSpec[];
  /** Calls the provider reported through `onCall` since the case started (or the last reset). */
  readonly calls: readonly ProviderCall[];
  resetCalls(): void;
  /** Runs `listener` on every call reported from now on, until the case ends. */
  onCall(listener: (call: ProviderCall) => void): void;
  /** Builds a spec in the case's namespace (unless given) and schedules its load balancer's deletion. */
  spec(input: CaseSpecInput): LoadBalancerSpec;
  /**
   * `getLoadBalancer` (of `through`, default the provider under test) with every node the case knows, so
   * targets can be mapped back to nodes.
   */
  get(ref: LoadBalancerRef, through?: LoadBalancerProvider): Promise<ObservedLoadBalancer | undefined>;
  /** {@link get} of a load balancer that must exist: fails when it does not. */
  getConverged(spec: LoadBalancerSpec): Promise<ObservedLoadBalancer>;
  /** Deletes the load balancer behind the provider's back; skips the case when the options give no hook. */
  deleteOutOfBand(ref: LoadBalancerRef): Promise<void>;
  /** A second provider over the same cloud, closed when the case ends; skips the case without the hook. */
  restart(): Promise<LoadBalancerProvider>;
  /** Puts a foreign resource where `ref`'s load balancer would go, removed when the case ends; skips without the hook. */
  occupy(ref: LoadBalancerRef): Promise<ForeignResource>;
  /** Marks the case skipped at run time (an optional capability is absent), with the reason. */
  skip(reason: string): never;
  /** An address the provider can give when `spec.loadBalancerIP` asks for it (`ConformanceOptions.loadBalancerIP`). */
  readonly loadBalancerIP?: string | undefined;
}

/** {@link ConformanceSpecInput} with the cluster and nodes defaulting to the harness's. */
export type CaseSpecInput = Omit<ConformanceSpecInput, "clusterName" | "nodes"> & {
  readonly clusterName?: string;
  /** Default: the first three nodes of the pool. */
  readonly nodes?: readonly NodeSpec[];
};

/** A resource in the cloud that the provider under test did not make (see `ConformanceOptions.occupy`). */
export interface ForeignResource {
  /** Whether it is still there. */
  exists(): Promise<boolean> | boolean;
  /** Removes it; the suite calls this when the case ends. */
  remove(): Promise<void> | void;
}

type CaseBody = (h: CaseHarness) => Promise<void>;

const mutating = (calls: readonly ProviderCall[]) => calls.filter((call) => call.mutating);
const mutatingOperations = (calls: readonly ProviderCall[]) => mutating(calls).map((call) => call.operation);

async function ensureConverged(h: CaseHarness, spec: LoadBalancerSpec): Promise<LoadBalancerStatus> {
  const status = await h.provider.ensureLoadBalancer(spec);
  expectAddress(status);
  const observed = await h.get(spec);
  expectConverged(observed, spec);
  expect(observed.status, "getLoadBalancer must report the status ensureLoadBalancer returned").toEqual(status);
  return status;
}

/**
 * Ensures `before`, then `after`, checking both converge and the address survives the update. With
 * `callsPerTargetGroup`, the update may make at most that many mutating calls per target group (one per
 * Service port): a node change is a register or deregister, never a rebuild.
 */
async function expectUpdate(
  h: CaseHarness,
  before: LoadBalancerSpec,
  after: LoadBalancerSpec,
  callsPerTargetGroup?: number,
): Promise<void> {
  const first = await ensureConverged(h, before);
  h.resetCalls();
  const second = await h.provider.ensureLoadBalancer(after);
  const made = mutatingOperations(h.calls);
  expect(second, "an update must keep the load balancer (and its address), not replace it").toEqual(first);
  await ensureConverged(h, after);
  if (callsPerTargetGroup === undefined) return;
  const allowed = callsPerTargetGroup * after.listeners.length;
  expect(
    made.length,
    `a node change costs at most ${allowed} mutating call(s) here (${callsPerTargetGroup} per target group), not a rebuild; made ${made.join(", ")}`,
  ).toBeLessThanOrEqual(allowed);
}

async function expectInvalid(h: CaseHarness, spec: LoadBalancerSpec, field: RegExp = /^spec\.ports/): Promise<void> {
  h.resetCalls();
  const error = await h.provider.ensureLoadBalancer(spec).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "ensureLoadBalancer must reject an invalid spec").toBeDefined();
  expect(mutatingOperations(h.calls), "an invalid spec must be rejected before any mutating call").toEqual([]);
  expect(
    providerErrorKind(error),
    `an invalid spec must be rejected with InvalidConfigurationError, got ${String(error)}`,
  ).toBe("invalid-configuration");
  expect(String((error as { field?: unknown }).field), "the error must name the offending field").toMatch(field);
  expect(await h.get(spec), "an invalid spec must leave no load balancer behind").toBeUndefined();
  await expectNotListed(h, spec, "listLoadBalancers must not show it");
}

/** A spec for families the provider does not serve: `validate` (if any) and `ensureLoadBalancer` refuse it. */
async function expectFamiliesRefused(h: CaseHarness, refused: LoadBalancerSpec, what: string): Promise<void> {
  const reported = h.provider.validate?.(refused);
  if (reported !== undefined) {
    expect(
      reported.filter((i) => i.field === "spec.ipFamilies" && i.severity === "error").length,
      `${what}: validate must report an error on spec.ipFamilies`,
    ).toBeGreaterThan(0);
  }
  await expectInvalid(h, refused, /^spec\.ipFamilies/);
}

/** Fails when `listLoadBalancers` (if the provider has it) shows a load balancer for `ref`. */
async function expectNotListed(h: CaseHarness, ref: LoadBalancerRef, message: string): Promise<void> {
  const owned = await listed(h, ref.clusterName);
  if (owned !== undefined)
    expect(
      owned.filter((lb) => sameService(lb.ref, ref)),
      message,
    ).toEqual([]);
}

function sameService(a: LoadBalancerRef, b: LoadBalancerRef): boolean {
  return (
    a.clusterName === b.clusterName && a.service.namespace === b.service.namespace && a.service.name === b.service.name
  );
}

/** `listLoadBalancers(clusterName)` of the provider, or `undefined` when it does not implement it. */
async function listed(h: CaseHarness, clusterName: string): Promise<readonly ObservedLoadBalancer[] | undefined> {
  return h.provider.listLoadBalancers?.(clusterName);
}

function serviceKeys(loadBalancers: readonly ObservedLoadBalancer[], namespaces: readonly string[]): string[] {
  return loadBalancers
    .filter((lb) => namespaces.includes(lb.ref.service.namespace))
    .map((lb) => `${lb.ref.clusterName}/${lb.ref.service.namespace}/${lb.ref.service.name}`)
    .sort();
}

/**
 * `validate`'s issues with `spec` on `field`, failing when the provider has no `validate` although it
 * declared that it answers the field there.
 */
function issuesOn(h: CaseHarness, spec: LoadBalancerSpec, field: string, declared: string): ValidationIssue[] {
  const { validate } = h.provider;
  expect(validate, `${declared}, which needs the optional validate to answer it`).toBeDefined();
  return (validate?.call(h.provider, spec) ?? []).filter((issue) => issue.field === field);
}

/**
 * Checks how a provider that answers `field` (declares it `answered`) treats `spec`, which sets it:
 * `validate` names the field; an `error` is refused by ensure as an invalid spec, a `warning` is built.
 */
async function expectAnswered(h: CaseHarness, spec: LoadBalancerSpec, field: string, declared: string): Promise<void> {
  const issues = issuesOn(h, spec, field, declared);
  expect(issues.length, `${declared}, so validate must report an issue on ${field} when it is set`).toBeGreaterThan(0);
  if (issues.some((issue) => issue.severity === "error")) {
    await expectInvalid(h, spec, new RegExp(`^${field.replaceAll(".", "\\.")}`));
  } else {
    await ensureConverged(h, spec);
  }
}

/** Why a case about a field is skipped for a provider that does not declare it. */
const UNDECLARED = (field: string) =>
  `the provider does not declare capabilities.${field}, so the controller warns about Services that set it`;

/** The family combinations a Service can have, in the order the case tries them. */
const FAMILY_VARIANTS: readonly {
  readonly ipFamilies: readonly IPFamily[];
  readonly ipFamilyPolicy: IPFamilyPolicy;
}[] = [
  { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" },
  { ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "PreferDualStack" },
  { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "PreferDualStack" },
  { ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" },
];

/** A DNS label of exactly 63 characters, ending in `last`. */
function label63(prefix: string, last: string): string {
  return `${prefix}${"x".repeat(62 - prefix.length)}${last}`;
}

export const CASES: Readonly<Record<ConformanceCase, CaseBody>> = {
  "creates-from-spec": async (h) => {
    // In the Service's order, which is not the observed order (by port, then protocol).
    const spec = h.spec({ name: "create", listeners: [listener(443, 30443), SEED_LISTENER] });
    await ensureConverged(h, spec);
  },

  "second-ensure-changes-nothing": async (h) => {
    const spec = h.spec({ name: "idempotent", listeners: [SEED_LISTENER, listener(53, 30053, "UDP")] });
    const first = await h.provider.ensureLoadBalancer(spec);
    expect(
      mutating(h.calls).length,
      "creating a load balancer must report its mutating cloud calls through onCall (pass ctx.onCall to the provider)",
    ).toBeGreaterThan(0);
    h.resetCalls();
    const second = await h.provider.ensureLoadBalancer(spec);
    expect(second, "a second ensure must return the same status").toEqual(first);
    expect(
      mutating(h.calls).map((call) => call.operation),
      "a second ensure with the same spec must make no mutating call",
    ).toEqual([]);
    expectConverged(await h.get(spec), spec);
  },

  "reads-never-mutate": async (h) => {
    const spec = h.spec({ name: "reads" });
    const absent = h.spec({ name: "reads-absent" });
    await h.provider.ensureLoadBalancer(spec);
    h.resetCalls();
    await h.get(spec);
    await h.get(absent);
    await listed(h, h.clusterName);
    h.provider.validate?.(spec);
    expect(
      mutatingOperations(h.calls),
      "getLoadBalancer, listLoadBalancers and validate must make no mutating call",
    ).toEqual([]);
    expect(await h.get(absent), "reading a load balancer that was never created must not create it").toBeUndefined();
  },

  "no-eligible-nodes": async (h) => {
    const empty = h.spec({ name: "no-nodes", nodes: [] });
    await expectUpdate(h, empty, h.spec({ name: "no-nodes", nodes: h.nodes.slice(0, 2) }));
  },

  "node-added": async (h) => {
    const before = h.spec({ name: "node-added", nodes: h.nodes.slice(0, 3) });
    await expectUpdate(h, before, h.spec({ name: "node-added", nodes: h.nodes.slice(0, 4) }), 1);
  },

  "node-removed": async (h) => {
    const before = h.spec({ name: "node-removed", nodes: h.nodes.slice(0, 3) });
    await expectUpdate(h, before, h.spec({ name: "node-removed", nodes: h.nodes.slice(0, 2) }), 1);
  },

  "node-address-changed": async (h) => {
    const nodes = h.nodes.slice(0, 3);
    const moved = [withInternalIP(nodes[0] as NodeSpec, "192.168.1.200"), ...nodes.slice(1)];
    const before = h.spec({ name: "node-address-changed", nodes });
    // At most a deregister of the old address and a register of the new one.
    await expectUpdate(h, before, h.spec({ name: "node-address-changed", nodes: moved }), 2);
  },

  "port-added": async (h) => {
    const before = h.spec({ name: "port-added" });
    await expectUpdate(h, before, h.spec({ name: "port-added", listeners: [SEED_LISTENER, listener(8080, 30080)] }));
  },

  "port-removed": async (h) => {
    const before = h.spec({ name: "port-removed", listeners: [SEED_LISTENER, listener(8080, 30080)] });
    await expectUpdate(h, before, h.spec({ name: "port-removed" }));
  },

  "node-port-changed": async (h) => {
    const before = h.spec({ name: "node-port-changed" });
    await expectUpdate(h, before, h.spec({ name: "node-port-changed", listeners: [listener(80, 30009)] }));
  },

  "protocol-changed": async (h) => {
    const before = h.spec({ name: "protocol-changed", listeners: [listener(5000, 30500, "TCP", "app")] });
    await expectUpdate(
      h,
      before,
      h.spec({ name: "protocol-changed", listeners: [listener(5000, 30500, "UDP", "app")] }),
    );
  },

  "health-check-follows-traffic-policy": async (h) => {
    const cluster = h.spec({ name: "health-check" });
    await ensureConverged(h, cluster);
    for (const l of (await h.get(cluster))?.listeners ?? []) {
      expect(l.healthCheck, `listener ${l.port} must report its health check`).toBeDefined();
      expect(l.healthCheck?.protocol, "externalTrafficPolicy Cluster probes TCP").toBe("TCP");
      expect([l.targetPort, "traffic-port"], "externalTrafficPolicy Cluster probes the traffic port").toContain(
        l.healthCheck?.port,
      );
    }
    const local = h.spec({ name: "health-check", externalTrafficPolicy: "Local" });
    await ensureConverged(h, local);
    for (const l of (await h.get(local))?.listeners ?? []) {
      expect(l.healthCheck, "externalTrafficPolicy Local probes HTTP /healthz on the healthCheckNodePort").toEqual({
        protocol: "HTTP",
        port: 32000,
        path: "/healthz",
      });
    }
  },

  "source-ranges": async (h) => {
    const ranges = ["203.0.113.0/24", "198.51.100.7/32"];
    const restricted = h.spec({ name: "source-ranges", sourceRanges: ranges });
    await ensureConverged(h, restricted);
    expect([...((await h.get(restricted))?.sourceRanges ?? [])].sort(), "observed source ranges").toEqual(
      [...ranges].sort(),
    );
    const open = h.spec({ name: "source-ranges" });
    await ensureConverged(h, open);
    expect((await h.get(open))?.sourceRanges ?? [], "no source ranges means open to all").toEqual([]);
  },

  "recreates-after-out-of-band-deletion": async (h) => {
    const spec = h.spec({ name: "out-of-band" });
    await ensureConverged(h, spec);
    await h.deleteOutOfBand(spec);
    expect(await h.get(spec), "the deleteOutOfBand hook must remove the load balancer").toBeUndefined();
    await ensureConverged(h, spec);
  },

  "same-ref-after-restart": async (h) => {
    const spec = h.spec({ name: "restart" });
    const status = await ensureConverged(h, spec);
    const second = await h.restart();
    expectConverged(await h.get(spec, second), spec);
    h.resetCalls();
    expect(
      await second.ensureLoadBalancer(spec),
      "after a restart the same spec must find the same load balancer, with the same address",
    ).toEqual(status);
    expect(h.calls.length, "the restarted provider must report its calls through ctx.onCall too").toBeGreaterThan(0);
    expect(
      mutatingOperations(h.calls),
      "after a restart an unchanged spec must make no mutating call: identity comes from the cloud, not from memory",
    ).toEqual([]);
    await second.ensureLoadBalancerDeleted(refOf(spec));
    expect(await h.get(spec), "a load balancer the restarted provider deleted is gone for the first one too").toBe(
      undefined,
    );
  },

  "leaves-foreign-resources-alone": async (h) => {
    const spec = h.spec({ name: "foreign" });
    const foreign = await h.occupy(spec);
    expect(await foreign.exists(), "the occupy hook must create the foreign resource").toBe(true);
    expect(await h.get(spec), "getLoadBalancer must not report a resource that is not this Service's").toBe(undefined);
    const error = await h.provider.ensureLoadBalancer(spec).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(
      providerErrorKind(error),
      `a resource in the way that is not this Service's must be refused with ConflictError, got ${String(error)}`,
    ).toBe("conflict");
    await h.provider.ensureLoadBalancerDeleted(refOf(spec));
    expect(await foreign.exists(), "ensureLoadBalancerDeleted must never delete what is not this Service's").toBe(true);
    await expectNotListed(h, spec, "listLoadBalancers must not show what is not this Service's");
  },

  "delete-twice": async (h) => {
    const spec = h.spec({ name: "delete-twice" });
    await ensureConverged(h, spec);
    h.resetCalls();
    await h.provider.ensureLoadBalancerDeleted(refOf(spec));
    expect(
      mutating(h.calls).length,
      "deleting a load balancer must report its mutating cloud calls through onCall",
    ).toBeGreaterThan(0);
    h.resetCalls();
    await h.provider.ensureLoadBalancerDeleted(refOf(spec));
    expect(mutatingOperations(h.calls), "a second delete is a no-op: no mutating call").toEqual([]);
    expect(await h.get(spec)).toBeUndefined();
  },

  "delete-never-created": async (h) => {
    const spec = h.spec({ name: "never-created" });
    await h.provider.ensureLoadBalancerDeleted(refOf(spec));
    expect(mutatingOperations(h.calls), "deleting what never existed makes no mutating call").toEqual([]);
    expect(await h.get(spec)).toBeUndefined();
  },

  "get-after-delete-is-undefined": async (h) => {
    const spec = h.spec({ name: "get-after-delete" });
    await ensureConverged(h, spec);
    await h.provider.ensureLoadBalancerDeleted(refOf(spec));
    expect(await h.get(spec), "getLoadBalancer after ensureLoadBalancerDeleted").toBeUndefined();
    await expectNotListed(h, spec, "listLoadBalancers after delete");
  },

  "invalid-spec-sctp": async (h) => {
    await expectInvalid(
      h,
      h.spec({ name: "invalid-sctp", listeners: [listener(80, 30008), listener(9, 30009, "SCTP")] }),
    );
  },

  "invalid-spec-duplicate-ports": async (h) => {
    const duplicate = [listener(80, 30008, "TCP", "a"), listener(80, 30009, "TCP", "b")];
    await expectInvalid(h, h.spec({ name: "invalid-duplicate", listeners: duplicate }));
  },

  "same-name-different-namespaces": async (h) => {
    const a = h.spec({ name: "web", namespace: `${h.namespace}-a` });
    const b = h.spec({ name: "web", namespace: `${h.namespace}-b`, listeners: [listener(81, 30081)] });
    const statusA = await ensureConverged(h, a);
    const statusB = await ensureConverged(h, b);
    expect(statusB, "two load balancers must not share an address").not.toEqual(statusA);
    expectConverged(await h.get(a), a);
    await h.provider.ensureLoadBalancerDeleted(refOf(a));
    expect(await h.get(a)).toBeUndefined();
    expectConverged(await h.get(b), b);
  },

  "same-name-different-clusters": async (h) => {
    const other = `${h.clusterName}-other`;
    const namespace = `${h.namespace}-clusters`;
    const mine = h.spec({ namespace, name: "web" });
    const theirs = h.spec({ namespace, name: "web", clusterName: other, listeners: [listener(81, 30081)] });
    const statusMine = await ensureConverged(h, mine);
    const statusTheirs = await ensureConverged(h, theirs);
    expect(statusTheirs, "two clusters' Services of the same name must not share a load balancer").not.toEqual(
      statusMine,
    );
    expectConverged(await h.get(mine), mine);
    const listBoth = async () => [
      serviceKeys((await listed(h, h.clusterName)) ?? [], [namespace]),
      serviceKeys((await listed(h, other)) ?? [], [namespace]),
    ];
    const bothListed = [[`${h.clusterName}/${namespace}/web`], [`${other}/${namespace}/web`]];
    if (h.provider.listLoadBalancers !== undefined) {
      expect(await listBoth(), "each cluster lists only its own").toEqual(bothListed);
    }
    await h.provider.ensureLoadBalancerDeleted(refOf(mine));
    expect(await h.get(mine)).toBeUndefined();
    expectConverged(await h.get(theirs), theirs);
    if (h.provider.listLoadBalancers !== undefined) {
      expect(await listBoth(), "deleting in one cluster leaves the other's").toEqual([[], bothListed[1]]);
    }
  },

  "names-at-length-limits": async (h) => {
    const namespace = label63("lbp-conformance-", "a");
    const long = h.spec({ namespace, name: label63("svc-", "a") });
    const twin = h.spec({ namespace, name: label63("svc-", "b"), listeners: [listener(81, 30081)] });
    const statusLong = await ensureConverged(h, long);
    const statusTwin = await ensureConverged(h, twin);
    expect(statusTwin, "names differing in their 63rd character must get different load balancers").not.toEqual(
      statusLong,
    );
    const observed = await h.get(long);
    expectConverged(observed, long);
    expectSameRef(observed.ref, long);
    await h.provider.ensureLoadBalancerDeleted(refOf(twin));
    expectConverged(await h.get(long), long);
  },

  "concurrent-ensures": async (h) => {
    const specs = Array.from({ length: 5 }, (_, i) =>
      h.spec({ name: `concurrent-${i}`, listeners: [listener(80 + i, 30100 + i)], nodes: h.nodes.slice(0, 2 + i) }),
    );
    const statuses = await Promise.all(specs.map((spec) => h.provider.ensureLoadBalancer(spec)));
    for (const [i, spec] of specs.entries()) {
      expectAddress(statuses[i] as LoadBalancerStatus);
      expectConverged(await h.get(spec), spec);
    }
    expect(new Set(statuses.map((s) => JSON.stringify(s))).size, "each Service gets its own address").toBe(5);
    await Promise.all(specs.map((spec) => h.provider.ensureLoadBalancerDeleted(refOf(spec))));
    for (const spec of specs) expect(await h.get(spec)).toBeUndefined();
  },

  "aborted-signal": async (h) => {
    const spec = h.spec({ name: "aborted" });
    const reason = new Error("conformance: aborted before the call");
    await expect(
      h.provider.ensureLoadBalancer(spec, { signal: AbortSignal.abort(reason) }),
      "an aborted signal must reject with its reason",
    ).rejects.toBe(reason);
    expect(
      h.calls.map((call) => call.operation),
      "an already aborted signal allows no cloud call",
    ).toEqual([]);
    await h.provider.ensureLoadBalancerDeleted(refOf(spec));
    expect(await h.get(spec), "nothing may survive a delete after an aborted ensure").toBeUndefined();
  },

  "aborted-mid-ensure": async (h) => {
    const listeners = [SEED_LISTENER, listener(443, 30443)];
    // The same job uninterrupted, to know how many calls all of it takes.
    h.resetCalls();
    await h.provider.ensureLoadBalancer(h.spec({ name: "aborted-mid-twin", listeners }));
    const wholeJob = h.calls.length;
    const spec = h.spec({ name: "aborted-mid", listeners });
    const controller = new AbortController();
    const reason = new Error("conformance: aborted after the first cloud call");
    h.onCall(() => controller.abort(reason));
    h.resetCalls();
    await expect(
      h.provider.ensureLoadBalancer(spec, { signal: controller.signal }),
      "aborting during an ensure must stop it and reject with the signal's reason",
    ).rejects.toBe(reason);
    expect(controller.signal.aborted, "the provider must report its calls through onCall").toBe(true);
    // A call already in flight may still finish; the rest of the job must not be done.
    const afterAbort = h.calls.length - 1;
    expect(
      afterAbort,
      `after the abort the provider must stop calling the cloud: it made ${afterAbort} more call(s), and the whole ensure takes ${wholeJob}`,
    ).toBeLessThanOrEqual(Math.max(0, wholeJob - 2));
    await h.provider.ensureLoadBalancerDeleted(refOf(spec));
    expect(await h.get(spec), "a delete must clean up whatever the aborted ensure created").toBeUndefined();
  },

  "lists-owned-load-balancers": async (h) => {
    const { listLoadBalancers } = h.provider;
    if (listLoadBalancers === undefined)
      return h.skip("the provider does not implement the optional listLoadBalancers");
    const list = (cluster: string) => listLoadBalancers.call(h.provider, cluster);
    const otherCluster = `${h.clusterName}-other`;
    const namespace = `${h.namespace}-list`;
    const a = h.spec({ namespace, name: "a" });
    const b = h.spec({ namespace, name: "b" });
    const foreign = h.spec({ namespace, name: "c", clusterName: otherCluster });
    for (const spec of [a, b, foreign]) await h.provider.ensureLoadBalancer(spec);
    expect(
      serviceKeys(await list(h.clusterName), [namespace]),
      "listLoadBalancers lists exactly this cluster's",
    ).toEqual([`${h.clusterName}/${namespace}/a`, `${h.clusterName}/${namespace}/b`]);
    const owned = await list(h.clusterName);
    expect(
      owned.every((lb) => lb.ref.clusterName === h.clusterName),
      "every listed ref is in the cluster",
    ).toBe(true);
    expect(serviceKeys(await list(otherCluster), [namespace])).toEqual([`${otherCluster}/${namespace}/c`]);
    for (const lb of owned.filter((o) => o.ref.service.namespace === namespace)) {
      // Listing has no node list to map targets back with, so only the listeners are compared.
      const ports = lb.listeners.map((l) => `${l.port}->${l.targetPort}`);
      expect(ports, `listed ${lb.ref.service.name} shows its listener`).toEqual(["80->30008"]);
      expectAddress(lb.status);
    }
    await h.provider.ensureLoadBalancerDeleted(refOf(a));
    expect(serviceKeys(await list(h.clusterName), [namespace])).toEqual([`${h.clusterName}/${namespace}/b`]);
  },

  "validate-reports-issues": async (h) => {
    const { validate } = h.provider;
    if (validate === undefined) return h.skip("the provider does not implement the optional validate");
    const check = (spec: LoadBalancerSpec) => {
      const issues = validate.call(h.provider, spec);
      expect(Array.isArray(issues), "validate is synchronous: it returns the issues, not a promise").toBe(true);
      return issues.filter((i) => i.severity === "error");
    };
    h.resetCalls();
    expect(check(h.spec({ name: "valid" })), "a valid spec has no error issues").toEqual([]);
    const sctp = check(h.spec({ name: "valid", listeners: [listener(9, 30009, "SCTP")] }));
    expect(sctp.map((i) => i.field).join(" "), "SCTP is reported against spec.ports").toMatch(/spec\.ports\[0\]/);
    const duplicate = check(h.spec({ name: "valid", listeners: [listener(80, 30008), listener(80, 30009)] }));
    expect(duplicate.map((i) => i.field).join(" "), "a duplicate port is reported").toMatch(/spec\.ports\[1\]/);
    for (const issue of [...sctp, ...duplicate]) expect(issue.message.length).toBeGreaterThan(0);
    expect(h.calls, "validate makes no cloud call").toEqual([]);
  },

  "ip-families": async (h) => {
    const served = h.provider.capabilities?.ipFamilies;
    const ipv4 = h.spec({ name: "families", ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack" });
    const first = await ensureConverged(h, ipv4);
    // A provider that declares no families builds as before (IPv4), and the controller warns.
    if (served === undefined) return;
    expectIpFamilies(await h.getConverged(ipv4), ipv4, served);
    // Whether every variant built so far kept IPv4, so the first address must still be there.
    let keepsIPv4 = true;
    for (const [index, variant] of FAMILY_VARIANTS.entries()) {
      const issues = ipFamilyIssues(variant, served);
      const what = `${variant.ipFamilyPolicy} ${variant.ipFamilies.join(",")} on a provider serving ${served.join(",")}`;
      if (issues.some((issue) => issue.severity === "error")) {
        // Refused, never built for the wrong family: on a Service of its own, so nothing is left behind.
        await expectFamiliesRefused(h, h.spec({ name: `families-refused-${index}`, ...variant }), what);
        continue;
      }
      const spec = h.spec({ name: "families", ...variant });
      if (issues.length > 0 && h.provider.validate !== undefined) {
        expect(
          h.provider.validate(spec).filter((i) => i.field === "spec.ipFamilies" && i.severity === "warning").length,
          `${what}: validate must warn on spec.ipFamilies that a family is left out`,
        ).toBeGreaterThan(0);
      }
      const status = await ensureConverged(h, spec);
      expectIpFamilies(await h.getConverged(spec), spec, served);
      if (spec.ipFamilies?.includes("IPv4") && keepsIPv4) {
        // In place: the addresses the IPv4 load balancer had are still published.
        for (const entry of first.ingress) {
          expect(status.ingress, `${what}: the IPv4 load balancer's address must stay`).toContainEqual(entry);
        }
      }
      keepsIPv4 &&= spec.ipFamilies?.includes("IPv4") === true;
    }
    // And back: an IPv4 Service loses its IPv6 side.
    await ensureConverged(h, ipv4);
    expectIpFamilies(await h.getConverged(ipv4), ipv4, served);
  },

  "session-affinity": async (h) => {
    const support = h.provider.capabilities?.sessionAffinity;
    const affinity = { type: "ClientIP", timeoutSeconds: 600 } as const;
    const sticky = h.spec({ name: "affinity", sessionAffinity: affinity });
    if (support === undefined) return h.skip(UNDECLARED("sessionAffinity"));
    if (support === "answered") {
      return expectAnswered(h, sticky, "spec.sessionAffinity", "the provider declares sessionAffinity answered");
    }
    const status = await ensureConverged(h, sticky);
    expect((await h.getConverged(sticky)).sessionAffinity, "ClientIP affinity, honoured, is reported").toEqual(
      affinity,
    );
    const plain = h.spec({ name: "affinity" });
    expect(await ensureConverged(h, plain), "turning affinity off keeps the address").toEqual(status);
    expect((await h.getConverged(plain)).sessionAffinity, "no affinity once the Service has none").toBeUndefined();
  },

  "load-balancer-ip": async (h) => {
    const support = h.provider.capabilities?.loadBalancerIP;
    const declared = "the provider declares loadBalancerIP";
    if (support === "answered") {
      const spec = h.spec({ name: "requested-ip", loadBalancerIP: h.loadBalancerIP ?? "192.0.2.10" });
      return expectAnswered(h, spec, "spec.loadBalancerIP", `${declared} answered`);
    }
    if (support === undefined) return h.skip(UNDECLARED("loadBalancerIP"));
    const address = h.loadBalancerIP;
    if (address === undefined) {
      return h.skip(`${declared} honoured, and the options give no loadBalancerIP address to ask for`);
    }
    const spec = h.spec({ name: "requested-ip", loadBalancerIP: address });
    const status = await ensureConverged(h, spec);
    expect(
      status.ingress.map((entry) => entry.ip),
      `${declared} honoured, so the load balancer publishes the address asked for`,
    ).toContain(address);
  },
};
