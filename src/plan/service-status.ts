/**
 * `status`: one row per Service the controller manages — its address, what the provider has for it,
 * the controller's condition on it (`lb-provisioner.io/LoadBalancerReady`), and the last thing the
 * controller reported about it, read from the Service's Events (the controller records one per
 * reconcile outcome, with the upstream reasons).
 *
 * @module
 */
import type { CoreV1Event, V1Node, V1Service } from "@kubernetes/client-node";
import type { ObservedLoadBalancer } from "../../providers/index.ts";
import { conditionOf } from "../controller/condition.ts";
import { eligibleNodeSpecs } from "../controller/node-eligibility.ts";
import { cleanupFinalizer, hasFinalizer, objectKey, wantsLoadBalancer } from "../controller/service-filters.ts";
import { apiClientFor } from "../kube/api-client.ts";
import { listCollection } from "../kube/informer.ts";
import { formatIngress } from "./diff.ts";
import { listServices, type OperatorDeps, refOf } from "./run-plan.ts";
import { renderTable } from "./table.ts";

/** What `status` shows for one Service. */
export interface ServiceStatusRow {
  /** `namespace/name`. */
  readonly service: string;
  /** The published `status.loadBalancer.ingress`, or "" when none yet. */
  readonly address: string;
  readonly provider: string;
  /** `80/TCP, 443/TCP`: the provider's listeners, or the Service's ports when the provider has none. */
  readonly listeners: string;
  /** Distinct targets across the load balancer's target groups; undefined when it does not exist. */
  readonly targets: number | undefined;
  /** The provider says the load balancer cannot be deleted until its protection is switched off. */
  readonly deletionProtection?: true;
  /** The controller's condition on the Service; undefined before the first reconcile. */
  readonly ready: { readonly status: string; readonly reason: string; readonly message: string } | undefined;
  /** `Normal EnsuredLoadBalancer` or `Warning SyncLoadBalancerFailed: <message>`; "" when no Event yet. */
  readonly lastResult: string;
  /** When that Event last happened. */
  readonly lastResultAt: Date | undefined;
}

/** Reasons the controller records on Services; an Event with another reason is not about reconciling. */
const CONTROLLER_REASONS: ReadonlySet<string> = new Set([
  "EnsuringLoadBalancer",
  "EnsuredLoadBalancer",
  "UpdatedLoadBalancer",
  "DeletingLoadBalancer",
  "DeletedLoadBalancer",
  "SyncLoadBalancerFailed",
  "DeleteLoadBalancerFailed",
  "UnAvailableLoadBalancer",
  "LoadBalancerConfigurationWarning",
]);

/** Rows for every Service the controller manages (wants a load balancer, or holds the finalizer), sorted. */
export async function runStatus(deps: OperatorDeps): Promise<ServiceStatusRow[]> {
  const api = apiClientFor(deps.kubeConfig);
  const [services, nodeList, events] = await Promise.all([
    listServices(api),
    listCollection<V1Node>(api, "/api/v1/nodes"),
    listCollection<CoreV1Event>(api, "/api/v1/events", undefined, { fieldSelector: "involvedObject.kind=Service" }),
  ]);
  const nodes = eligibleNodeSpecs(nodeList.items);
  const finalizer = cleanupFinalizer(deps.selection);
  const managed = services
    .filter((service) => wantsLoadBalancer(service, deps.selection) || hasFinalizer(service, finalizer))
    .sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  return Promise.all(
    managed.map(async (service) => {
      const observed = await deps.provider.getLoadBalancer(refOf(deps.clusterName, service), { nodes });
      return statusRow(service, observed, deps.provider.name, latestControllerEvent(service, events.items));
    }),
  );
}

/** Pure: one row from a Service, what its provider has, and its latest controller Event. */
export function statusRow(
  service: V1Service,
  observed: ObservedLoadBalancer | undefined,
  provider: string,
  event: CoreV1Event | undefined,
): ServiceStatusRow {
  const listeners =
    observed !== undefined && observed.listeners.length > 0
      ? observed.listeners.map((listener) => `${listener.port}/${listener.protocol}`)
      : (service.spec?.ports ?? []).map((port) => `${port.port}/${port.protocol ?? "TCP"}`);
  const targets =
    observed === undefined
      ? undefined
      : new Set(observed.listeners.flatMap((listener) => listener.targets.map((target) => target.node ?? target.id)))
          .size;
  const condition = conditionOf(service);
  return {
    service: objectKey(service),
    address: formatIngress(service.status?.loadBalancer?.ingress ?? []),
    provider,
    listeners: listeners.join(", "),
    targets,
    ...(observed?.deletionProtection === true && { deletionProtection: true }),
    ready:
      condition === undefined
        ? undefined
        : { status: condition.status, reason: condition.reason, message: condition.message },
    lastResult: event === undefined ? "" : describeEvent(event),
    lastResultAt: event === undefined ? undefined : eventTime(event),
  };
}

/** The newest Event with a controller reason about this very Service object (same UID). */
export function latestControllerEvent(service: V1Service, events: readonly CoreV1Event[]): CoreV1Event | undefined {
  let latest: CoreV1Event | undefined;
  for (const event of events) {
    const about = event.involvedObject;
    if (about.namespace !== service.metadata?.namespace || about.name !== service.metadata?.name) continue;
    if (about.uid !== undefined && about.uid !== service.metadata?.uid) continue;
    if (!CONTROLLER_REASONS.has(event.reason ?? "")) continue;
    if (latest === undefined || isLater(event, latest)) latest = event;
  }
  return latest;
}

/**
 * Event times have one-second resolution, so an Ensuring and an Ensured event often tie; the API
 * server's write order (resourceVersion, numeric in practice though documented as opaque) breaks it.
 */
function isLater(event: CoreV1Event, than: CoreV1Event): boolean {
  const difference = (eventTime(event)?.getTime() ?? 0) - (eventTime(than)?.getTime() ?? 0);
  if (difference !== 0) return difference > 0;
  const version = Number(event.metadata?.resourceVersion);
  const otherVersion = Number(than.metadata?.resourceVersion);
  return Number.isFinite(version) && Number.isFinite(otherVersion) ? version > otherVersion : true;
}

function describeEvent(event: CoreV1Event): string {
  const head = `${event.type ?? "Normal"} ${event.reason ?? ""}`;
  return event.type === "Warning" && event.message ? `${head}: ${event.message}` : head;
}

/** When an Event last happened: a series' last observation, else the newest timestamp it carries. */
export function eventTime(event: CoreV1Event): Date | undefined {
  const candidates = [event.series?.lastObservedTime, event.lastTimestamp, event.eventTime, event.firstTimestamp];
  for (const candidate of candidates) {
    if (candidate !== undefined && candidate !== null) return new Date(candidate as unknown as string | Date);
  }
  return event.metadata?.creationTimestamp ? new Date(event.metadata.creationTimestamp) : undefined;
}

/** `kubectl`-style age: 42s, 5m, 3h, 2d. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

const HEADERS = ["SERVICE", "ADDRESS", "PROVIDER", "LISTENERS", "TARGETS", "READY", "LAST RESULT", "AGE"];

/** `True`, or `False (Reason)`: the condition's message is the last Warning's, shown as the last result. */
function formatReady(ready: ServiceStatusRow["ready"]): string {
  if (ready === undefined) return "-";
  return ready.status === "True" ? "True" : `${ready.status} (${ready.reason})`;
}

/** Pure: the table `status` prints, ages taken relative to `now`. */
export function renderStatusTable(rows: readonly ServiceStatusRow[], now: Date): string {
  if (rows.length === 0) return "No Services managed by this controller.\n";
  return renderTable(
    HEADERS,
    rows.map((row) => [
      row.service,
      `${row.address || "<pending>"}${row.deletionProtection ? " (deletion protection on)" : ""}`,
      row.provider,
      row.listeners,
      row.targets === undefined ? "-" : String(row.targets),
      formatReady(row.ready),
      row.lastResult || "-",
      row.lastResultAt === undefined ? "-" : formatAge(now.getTime() - row.lastResultAt.getTime()),
    ]),
  );
}
