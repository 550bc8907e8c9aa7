/**
 * `plan` against a live cluster: reads Services and Nodes, asks the controller's own {@link decide} what
 * each Service needs (the same predicates, spec builder and validation the controller acts on), reads
 * what the provider has, and hands both to the pure diff. Only reads: no Kubernetes write, and only
 * `getLoadBalancer` / `validate` on the provider.
 *
 * @module
 */
import type { V1Node, V1Service } from "@kubernetes/client-node";
import type { LoadBalancerProvider, LoadBalancerRef } from "../../providers/index.ts";
import { decide, type NodeSnapshot } from "../controller/decide.ts";
import { fingerprint } from "../controller/fingerprint.ts";
import { loadBalancerRefOf } from "../controller/load-balancer-spec.ts";
import { eligibleNodeSpecs } from "../controller/node-eligibility.ts";
import { objectKey, type ServiceSelection } from "../controller/service-filters.ts";
import { loadBalancerStatusEqual } from "../controller/status.ts";
import { apiClientFor, type KubeApi } from "../kube/api-client.ts";
import { isNotFound } from "../kube/api-errors.ts";
import type { ClusterAccess } from "../kube/config.ts";
import { listCollection } from "../kube/informer.ts";
import { servicePath } from "../kube/service-writer.ts";
import { planService } from "./diff.ts";
import type { ServicePlan } from "./types.ts";

/** What `plan`, `status` and `gc` work with: a cluster, a provider, and the controller's selection. */
export interface OperatorDeps {
  readonly kubeConfig: ClusterAccess;
  readonly provider: LoadBalancerProvider;
  /** `--cluster-name`: which cloud resources are this controller's. */
  readonly clusterName: string;
  /** `--load-balancer-class`: which Services are this controller's. */
  readonly selection: ServiceSelection;
}

/** A Service named on the command line does not exist. */
export class ServiceNotFoundError extends Error {
  override readonly name = "ServiceNotFoundError";
}

/**
 * Plans every Service the controller manages (wants a load balancer, or holds the finalizer and needs
 * cleanup), sorted by key; or just `target`, which is then reported even when it is not managed.
 */
export async function runPlan(
  deps: OperatorDeps,
  target?: { readonly namespace: string; readonly name: string },
): Promise<ServicePlan[]> {
  const api = apiClientFor(deps.kubeConfig);
  const [services, nodeList] = await Promise.all([
    target === undefined ? listServices(api) : readService(api, target),
    listCollection<V1Node>(api, "/api/v1/nodes"),
  ]);
  const eligible = eligibleNodeSpecs(nodeList.items);
  const nodes: NodeSnapshot = { nodes: eligible, fingerprint: fingerprint(eligible) };
  const plans: ServicePlan[] = [];
  for (const service of services.sort((a, b) => objectKey(a).localeCompare(objectKey(b)))) {
    const plan = await planOne(deps, service, nodes, target !== undefined);
    if (plan) plans.push(plan);
  }
  return plans;
}

async function planOne(
  deps: OperatorDeps,
  service: V1Service,
  nodes: NodeSnapshot,
  named: boolean,
): Promise<ServicePlan | undefined> {
  const key = objectKey(service);
  // The controller's own decision; forced, as a resync is, since plan remembers nothing.
  const decision = decide({
    key,
    service,
    selection: deps.selection,
    clusterName: deps.clusterName,
    nodes,
    provider: deps.provider,
    validate: deps.provider.validate?.bind(deps.provider),
    force: true,
  });
  switch (decision.kind) {
    case "forget":
    case "ignore":
      // Without our finalizer the controller never touches it; a leftover load balancer is `gc`'s business.
      return named
        ? { service: key, action: "none", changes: [], issues: [], note: describeUnmanaged(service) }
        : undefined;
    case "invalid":
      return { service: key, action: "invalid", changes: [], issues: decision.issues };
    case "unchanged":
      // Decided only from memory of a past ensure, which plan does not have.
      return { service: key, action: "none", changes: [], issues: [] };
    case "clean-up":
    case "ensure": {
      const ref = decision.kind === "ensure" ? refOf(deps.clusterName, service) : decision.ref;
      const observed = await deps.provider.getLoadBalancer(ref, { nodes: nodes.nodes });
      const published = service.status?.loadBalancer;
      const base = { service: key, observed, publishedIngress: published?.ingress ?? [] };
      if (decision.kind === "clean-up") return planService({ ...base, desired: undefined });
      return planService({
        ...base,
        desired: decision.spec,
        issues: decision.allWarnings,
        ...(observed === undefined ? {} : { statusInSync: loadBalancerStatusEqual(published, observed.status) }),
      });
    }
  }
}

function describeUnmanaged(service: V1Service): string {
  if (service.metadata?.deletionTimestamp) return "not managed (being deleted, without this controller's finalizer)";
  const type = service.spec?.type ?? "ClusterIP";
  if (type !== "LoadBalancer") return `not managed (type ${type})`;
  const serviceClass = service.spec?.loadBalancerClass;
  return serviceClass === undefined
    ? "not managed (no loadBalancerClass, and this controller runs with --load-balancer-class)"
    : `not managed (loadBalancerClass ${serviceClass} is not this controller's)`;
}

/** The provider ref of a Service's load balancer. */
export function refOf(clusterName: string, service: V1Service): LoadBalancerRef {
  return loadBalancerRefOf(service, clusterName);
}

/** Every Service in the cluster, following list pagination. */
export async function listServices(api: KubeApi): Promise<V1Service[]> {
  return (await listCollection<V1Service>(api, "/api/v1/services")).items;
}

async function readService(api: KubeApi, target: { namespace: string; name: string }): Promise<V1Service[]> {
  try {
    return [await api.get<V1Service>(servicePath(target.namespace, target.name))];
  } catch (error) {
    if (isNotFound(error)) {
      throw new ServiceNotFoundError(`Service ${target.namespace}/${target.name} not found`);
    }
    throw error;
  }
}
