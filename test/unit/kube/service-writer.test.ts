import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { toServiceIngress } from "../../../src/controller/status.ts";
import type { KubeApi } from "../../../src/kube/api-client.ts";
import { ServiceWriter, statusPatchBody } from "../../../src/kube/service-writer.ts";

const CONDITION = {
  type: "lb-provisioner.io/LoadBalancerReady",
  status: "True",
  reason: "Ensured",
  message: "Ensured load balancer",
  lastTransitionTime: new Date("2026-12-02T10:00:00Z"),
};

describe("statusPatchBody", () => {
  it("writes the ingress with the resourceVersion it was computed from, and the condition by type", () => {
    expect(
      statusPatchBody({ ingress: [{ ip: "127.0.0.1", ipMode: "Proxy" }], condition: { set: CONDITION } }, "42"),
    ).toEqual({
      metadata: { resourceVersion: "42" },
      status: { loadBalancer: { ingress: [{ ip: "127.0.0.1", ipMode: "Proxy" }] }, conditions: [CONDITION] },
    });
  });

  it("sets or deletes only the condition, unguarded: a merge by type cannot lose another writer's", () => {
    expect(statusPatchBody({ condition: { set: CONDITION } }, "42")).toEqual({ status: { conditions: [CONDITION] } });
    expect(statusPatchBody({ ingress: null, condition: { remove: CONDITION.type } }, "42")).toEqual({
      status: { loadBalancer: { ingress: null }, conditions: [{ type: CONDITION.type, $patch: "delete" }] },
    });
  });
});

describe("ServiceWriter.patchStatus", () => {
  const ports = [{ port: 80, protocol: "TCP", error: "ProbeFailing" }];
  const service = (resourceVersion: string, status: NonNullable<V1Service["status"]>): V1Service => ({
    metadata: { namespace: "default", name: "web", resourceVersion },
    status,
  });

  it("computes the ingress again from a fresh read when another writer got in between, keeping their ports", async () => {
    const bodies: object[] = [];
    const fresh = service("8", { loadBalancer: { ingress: [{ ip: "127.0.0.1", ports }] } });
    const api = {
      patch: async (path: string, body: object, type: string) => {
        expect([path, type]).toEqual(["/api/v1/namespaces/default/services/web/status", "strategic-merge"]);
        bodies.push(body);
        if (bodies.length === 1) throw Object.assign(new Error("conflict"), { code: 409 });
        return fresh;
      },
      get: async () => fresh,
    } as unknown as KubeApi;
    const stale = service("7", { loadBalancer: { ingress: [{ ip: "127.0.0.1" }] } });
    const status = { ingress: [{ ip: "127.0.0.1", ipMode: "Proxy" as const }] };

    await new ServiceWriter(api).patchStatus(stale, (current) => ({
      ingress: toServiceIngress(status, current.status?.loadBalancer),
    }));
    expect(bodies).toEqual([
      {
        metadata: { resourceVersion: "7" },
        status: { loadBalancer: { ingress: [{ ip: "127.0.0.1", ipMode: "Proxy" }] } },
      },
      {
        metadata: { resourceVersion: "8" },
        status: { loadBalancer: { ingress: [{ ip: "127.0.0.1", ipMode: "Proxy", ports }] } },
      },
    ]);
  });

  it("writes nothing when the change is nothing", async () => {
    const api = {
      patch: async () => {
        throw new Error("no write expected");
      },
    } as unknown as KubeApi;
    const current = service("3", {});
    expect(await new ServiceWriter(api).patchStatus(current, () => undefined)).toBe(current);
  });
});
