/**
 * `gc`: load balancers the provider owns in this cluster that no Service accounts for, and what such
 * Services left behind without a load balancer (target groups, security groups). Lists them; deletes
 * them only when asked.
 *
 * @module
 */
import { apiClientFor } from "../kube/api-client.ts";
import { formatIngress } from "./diff.ts";
import { findOrphans, type Orphan } from "./orphans.ts";
import { listServices, type OperatorDeps } from "./run-plan.ts";
import { renderTable } from "./table.ts";

/** The provider cannot list what it owns, so there is nothing `gc` can compare. */
export class GcUnsupportedError extends Error {
  override readonly name = "GcUnsupportedError";
}

export interface GcResult {
  readonly orphans: readonly Orphan[];
  /** Whether the orphans were deleted (`--yes`). */
  readonly deleted: boolean;
  /** Orphans `--yes` could not delete (e.g. deletion protection on), with why; the others are gone. */
  readonly failed: readonly { readonly orphan: Orphan; readonly message: string }[];
}

/**
 * Finds the provider's load balancers in `deps.clusterName` that no Service accounts for, and with
 * `yes` deletes each through `ensureLoadBalancerDeleted` (which touches only what it owns).
 */
export async function runGc(deps: OperatorDeps, options: { readonly yes: boolean }): Promise<GcResult> {
  const { provider } = deps;
  if (provider.listLoadBalancers === undefined) {
    throw new GcUnsupportedError(
      `the ${provider.name} provider cannot list its load balancers (no listLoadBalancers), so gc cannot find orphans`,
    );
  }
  const owned = await provider.listLoadBalancers(deps.clusterName);
  const services = await listServices(apiClientFor(deps.kubeConfig));
  const orphans = findOrphans(owned, services, deps.selection);
  const failed: { orphan: Orphan; message: string }[] = [];
  // One orphan the cloud will not delete (deletion protection) does not keep gc from the others.
  if (options.yes)
    for (const orphan of orphans)
      try {
        await provider.ensureLoadBalancerDeleted(orphan.loadBalancer.ref);
      } catch (error) {
        failed.push({ orphan, message: error instanceof Error ? error.message : String(error) });
      }
  return { orphans, deleted: options.yes, failed };
}

/** Pure: what `gc` prints. */
export function renderGc(result: GcResult, clusterName: string): string {
  if (result.orphans.length === 0) return `No orphaned load balancers in cluster ${clusterName}.\n`;
  const table = renderTable(
    ["SERVICE", "ADDRESS", "REASON", "RESOURCES"],
    result.orphans.map(({ loadBalancer, reason }) => [
      `${loadBalancer.ref.service.namespace}/${loadBalancer.ref.service.name}`,
      formatIngress(loadBalancer.status.ingress) || "-",
      loadBalancer.deletionProtection === true ? `${reason}; deletion protection on (switch it off to delete)` : reason,
      Object.entries(loadBalancer.resources ?? {})
        .map(([label, id]) => `${label}=${id}`)
        .join(" ") || "-",
    ]),
  );
  const count = describeCount(result.orphans);
  if (!result.deleted) return `${table}${count}; run again with --yes to delete.\n`;
  if (result.failed.length === 0) return `${table}Deleted ${count}.\n`;
  const failures = result.failed.map(
    ({ orphan, message }) =>
      `Could not delete ${orphan.loadBalancer.ref.service.namespace}/${orphan.loadBalancer.ref.service.name}: ${message}\n`,
  );
  const done = describeCount(result.orphans.filter((orphan) => !result.failed.some((f) => f.orphan === orphan)));
  return `${table}${failures.join("")}Deleted ${done || "nothing"}; the rest are left as they are.\n`;
}

/** "2 orphaned load balancers", "1 orphaned load balancer and the leftovers of 1 more Service", ... */
function describeCount(orphans: readonly Orphan[]): string {
  const leftoversOnly = orphans.filter(
    ({ loadBalancer }) => loadBalancer.status.ingress.length === 0 && loadBalancer.listeners.length === 0,
  ).length;
  const loadBalancers = orphans.length - leftoversOnly;
  const parts: string[] = [];
  if (loadBalancers > 0) parts.push(`${loadBalancers} orphaned load balancer${loadBalancers === 1 ? "" : "s"}`);
  if (leftoversOnly > 0)
    parts.push(
      `the leftovers (target groups, security groups) of ${leftoversOnly} ${loadBalancers > 0 ? "more " : ""}Service${leftoversOnly === 1 ? "" : "s"}`,
    );
  return parts.join(" and ");
}
