import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ObservedLoadBalancer } from "../../../providers/index.ts";
import { UPSTREAM_CLEANUP_FINALIZER } from "../../../src/controller/service-filters.ts";
import { findOrphans } from "../../../src/plan/orphans.ts";

function lb(name: string, uid?: string): ObservedLoadBalancer {
  return {
    ref: {
      clusterName: "c",
      service: uid === undefined ? { namespace: "default", name } : { namespace: "default", name, uid },
    },
    status: { ingress: [] },
    listeners: [],
  };
}

function service(
  name: string,
  tweak: { type?: string; uid?: string; finalizer?: boolean; class?: string } = {},
): V1Service {
  return {
    metadata: {
      namespace: "default",
      name,
      uid: tweak.uid ?? `uid-${name}`,
      ...(tweak.finalizer ? { finalizers: [UPSTREAM_CLEANUP_FINALIZER] } : {}),
    },
    spec: { type: tweak.type ?? "LoadBalancer", ...(tweak.class ? { loadBalancerClass: tweak.class } : {}) },
  };
}

describe("findOrphans", () => {
  it.each<{ case: string; services: V1Service[]; orphan: string | undefined }>([
    { case: "Service wants one", services: [service("a")], orphan: undefined },
    { case: "Service gone", services: [], orphan: "Service not found" },
    {
      case: "switched to NodePort without the finalizer",
      services: [service("a", { type: "NodePort" })],
      orphan: "Service does not want one from this controller (type NodePort) and has no finalizer",
    },
    {
      case: "switched to NodePort, finalizer still on: the controller cleans up itself",
      services: [service("a", { type: "NodePort", finalizer: true })],
      orphan: undefined,
    },
    {
      case: "another class took it over",
      services: [service("a", { class: "other.example/lb" })],
      orphan:
        "Service does not want one from this controller (loadBalancerClass other.example/lb) and has no finalizer",
    },
    {
      case: "recreated under the same name: same identity, the controller converges that load balancer",
      services: [service("a", { uid: "uid-new" })],
      orphan: undefined,
    },
    { case: "another Service of another name", services: [service("b")], orphan: "Service not found" },
  ])("$case", ({ services, orphan }) => {
    const found = findOrphans([lb("a", "uid-a")], services, {});
    expect(found.map((o) => o.reason)).toEqual(orphan === undefined ? [] : [orphan]);
    if (orphan !== undefined) expect(found[0]?.loadBalancer.ref.service.name).toBe("a");
  });

  it("judges each load balancer alone, with or without a recorded uid", () => {
    const found = findOrphans([lb("a"), lb("b"), lb("c")], [service("b")], {});
    expect(found.map((o) => o.loadBalancer.ref.service.name)).toEqual(["a", "c"]);
  });
});
