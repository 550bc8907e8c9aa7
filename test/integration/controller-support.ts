/**
 * Shared pieces of the controller's integration tests: a running controller (with its own fake cloud),
 * a provider wrapper that counts and can hold calls, and small cluster helpers (namespaces, events,
 * waiting for a Service to converge).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import {
  type CoreV1Api,
  type CoreV1Event,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Service,
} from "@kubernetes/client-node";
import { pino } from "pino";
import { createFakeProvider, type FakeProvider } from "../../providers/fake/index.ts";
import type {
  CallOptions,
  GetOptions,
  LoadBalancerProvider,
  LoadBalancerRef,
  LoadBalancerSpec,
  LoadBalancerStatus,
  ObservedLoadBalancer,
  ProviderCapabilities,
} from "../../providers/index.ts";
import { createServiceController, type ServiceControllerOptions } from "../../src/controller/index.ts";
import { isNotFound } from "../../src/kube/api-errors.ts";
import type { Logger } from "../../src/observability/logger.ts";
import { ControllerMetrics } from "../../src/observability/metrics.ts";
import { waitFor } from "../harness/index.ts";

export const CLUSTER_NAME = "integration";
export const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Test logs are silent unless LBP_TEST_LOG_LEVEL says otherwise (e.g. `debug` when a test fails). */
export function testLogger(): Logger {
  return pino({ level: process.env.LBP_TEST_LOG_LEVEL ?? "silent" });
}

/** Where a provider call is held, and what lets it go. */
export type Gate = "before-ensure" | "after-ensure";

/**
 * A provider in front of a fake cloud that counts `ensureLoadBalancer` calls per Service and can hold
 * ensure calls (before or after reaching the cloud) until the caller's signal aborts, which is how the
 * tests stop a controller at an exact point of a reconcile.
 */
export class InstrumentedProvider implements LoadBalancerProvider {
  readonly name = "instrumented-fake";
  readonly fake: FakeProvider;
  readonly capabilities: ProviderCapabilities;
  readonly ensures: string[] = [];
  gate: Gate | undefined;
  /** Resolves when an ensure call is being held at the gate. */
  held: Promise<void>;
  #markHeld: () => void = () => {};

  constructor(fake: FakeProvider = createFakeProvider()) {
    this.fake = fake;
    this.capabilities = fake.capabilities;
    this.held = this.#newHeld();
  }

  #newHeld(): Promise<void> {
    return new Promise((resolve) => {
      this.#markHeld = resolve;
    });
  }

  /** `ensureLoadBalancer` calls for `namespace/name` so far. */
  ensureCount(serviceKey: string): number {
    return this.ensures.filter((key) => key === serviceKey).length;
  }

  async #hold(signal: AbortSignal | undefined): Promise<never> {
    this.#markHeld();
    return new Promise((_, reject) => {
      const stop = (): void => reject(signal?.reason ?? new Error("aborted"));
      if (!signal || signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    });
  }

  async ensureLoadBalancer(spec: LoadBalancerSpec, options?: CallOptions): Promise<LoadBalancerStatus> {
    this.ensures.push(`${spec.service.namespace}/${spec.service.name}`);
    if (this.gate === "before-ensure") return this.#hold(options?.signal);
    const status = await this.fake.ensureLoadBalancer(spec, options);
    if (this.gate === "after-ensure") return this.#hold(options?.signal);
    return status;
  }

  getLoadBalancer(ref: LoadBalancerRef, options?: GetOptions): Promise<ObservedLoadBalancer | undefined> {
    return this.fake.getLoadBalancer(ref, options);
  }

  ensureLoadBalancerDeleted(ref: LoadBalancerRef, options?: CallOptions): Promise<void> {
    return this.fake.ensureLoadBalancerDeleted(ref, options);
  }

  validate(spec: LoadBalancerSpec) {
    return this.fake.validate(spec);
  }
}

export interface RunningController {
  readonly provider: InstrumentedProvider;
  readonly metrics: ControllerMetrics;
  /** Stops the controller and waits for `run` to resolve. */
  stop(): Promise<void>;
}

export type TestControllerOptions = Partial<Omit<ServiceControllerOptions, "provider" | "kubeConfig">> & {
  readonly provider?: InstrumentedProvider;
};

/** Starts a controller (short backoff, no resync, quick node coalescing unless overridden) and waits for sync. */
export async function startController(
  kubeConfig: KubeConfig,
  options: TestControllerOptions = {},
): Promise<RunningController> {
  const provider = options.provider ?? new InstrumentedProvider();
  const metrics = options.metrics ?? new ControllerMetrics({ processMetrics: false });
  const controller = createServiceController({
    clusterName: CLUSTER_NAME,
    workers: 2,
    resyncPeriodMs: 0,
    logger: testLogger(),
    backoff: { baseMs: 200, maxMs: 2_000 },
    nodeSyncDelayMs: 500,
    drainTimeoutMs: 2_000,
    ...options,
    kubeConfig,
    provider,
    metrics,
  });
  const stopping = new AbortController();
  const running = controller.run(stopping.signal);
  await waitFor(() => controller.hasSynced(), { description: "the controller's caches to sync" });
  return {
    provider,
    metrics,
    stop: async () => {
      stopping.abort();
      await running;
    },
  };
}

/** A fresh namespace with a recognisable, unique name. */
export async function createNamespace(core: CoreV1Api, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function readService(core: CoreV1Api, namespace: string, name: string): Promise<V1Service> {
  return core.readNamespacedService({ namespace, name });
}

export async function patchService(core: CoreV1Api, namespace: string, name: string, body: object): Promise<V1Service> {
  return core.patchNamespacedService({ namespace, name, body }, MERGE_PATCH);
}

/** Waits until the Service has an ingress hostname and returns the Service. */
export function waitForIngress(
  core: CoreV1Api,
  namespace: string,
  name: string,
  timeoutMs = 30_000,
): Promise<V1Service> {
  return waitFor(
    async () => {
      const service = await readService(core, namespace, name);
      return (service.status?.loadBalancer?.ingress?.length ?? 0) > 0 ? service : undefined;
    },
    { description: `Service ${namespace}/${name} to get an ingress`, timeoutMs },
  );
}

/** Events on one object, oldest first. */
export async function eventsFor(core: CoreV1Api, namespace: string, name: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

/** Waits for an event with `reason` whose message contains `text`, and returns it. */
export function waitForEvent(
  core: CoreV1Api,
  namespace: string,
  name: string,
  reason: string,
  text = "",
): Promise<CoreV1Event> {
  return waitFor(
    async () =>
      (await eventsFor(core, namespace, name)).find(
        (event) => event.reason === reason && (event.message ?? "").includes(text),
      ),
    { description: `a ${reason} event on ${namespace}/${name}${text ? ` mentioning ${text}` : ""}` },
  );
}

/** The ref the controller uses for a Service. */
export function refOf(namespace: string, name: string): LoadBalancerRef {
  return { clusterName: CLUSTER_NAME, service: { namespace, name } };
}

/**
 * Deletes every Service in `namespace` and waits until they are gone (their finalizers released). A
 * Service listed here may vanish before its delete arrives (a controller was just removing its
 * finalizer): that 404 is the outcome wanted, not a failure.
 */
export async function deleteServices(core: CoreV1Api, namespace: string): Promise<void> {
  const list = await core.listNamespacedService({ namespace });
  await Promise.all(
    list.items.map(async (service) => {
      try {
        await core.deleteNamespacedService({ namespace, name: service.metadata?.name ?? "" });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }),
  );
  await waitFor(async () => (await core.listNamespacedService({ namespace })).items.length === 0, {
    description: `the Services in ${namespace} to be deleted`,
  });
}

/**
 * A suite's teardown: deletes its Services while its controllers still run (they release the
 * finalizers), then stops the controllers — also when the deletion failed, because a controller left
 * running would act on the next suite's Services and record its own events on them.
 */
export async function tearDownSuite(
  core: CoreV1Api,
  namespace: string | undefined,
  controllers: ReadonlyArray<RunningController | undefined>,
): Promise<void> {
  try {
    if (namespace !== undefined) await deleteServices(core, namespace);
  } finally {
    await Promise.all(controllers.map((controller) => controller?.stop()));
  }
}

/** Reconciles this controller has finished with `result` (`success`, `invalid`, `error`, ...), for all Services. */
export async function reconcilesWithResult(controller: RunningController, result: string): Promise<number> {
  const metric = await controller.metrics.reconcileTotal.get();
  return metric.values.find((value) => value.labels.result === result)?.value ?? 0;
}

/** Resolves after `ms`: used only to let a controller run when asserting that something does NOT happen. */
export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
