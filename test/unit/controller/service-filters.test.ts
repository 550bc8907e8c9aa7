import { describe, expect, it } from "vitest";
import {
  CLASSED_CLEANUP_FINALIZER,
  cleanupFinalizer,
  needsCleanup,
  objectKey,
  type ServiceSelection,
  shouldEnqueueAddedService,
  shouldEnqueueUpdatedService,
  splitKey,
  UPSTREAM_CLEANUP_FINALIZER,
  wantsLoadBalancer,
} from "../../../src/controller/service-filters.ts";
import {
  newService,
  tweakAnnotations,
  tweakClass,
  tweakDeleting,
  tweakFinalizers,
  tweakSpec,
  tweakType,
} from "./fixtures.ts";

const ccm: ServiceSelection = {};
const ours: ServiceSelection = { loadBalancerClass: "lb-provisioner.io/nlb" };

describe("wantsLoadBalancer", () => {
  it.each([
    ["class-less LoadBalancer, CCM mode", newService("a"), ccm, true],
    ["class-less LoadBalancer, class configured", newService("a"), ours, false],
    ["our class, class configured", newService("a", tweakClass("lb-provisioner.io/nlb")), ours, true],
    ["our class, CCM mode", newService("a", tweakClass("lb-provisioner.io/nlb")), ccm, false],
    ["another class, class configured", newService("a", tweakClass("example.com/other")), ours, false],
    ["another class, CCM mode", newService("a", tweakClass("example.com/other")), ccm, false],
    ["NodePort", newService("a", tweakType("NodePort")), ccm, false],
    ["ClusterIP", newService("a", tweakType("ClusterIP")), ccm, false],
    ["ExternalName", newService("a", tweakType("ExternalName")), ccm, false],
  ])("%s -> %s", (_, service, selection, expected) => {
    expect(wantsLoadBalancer(service, selection)).toBe(expected);
  });
});

describe("cleanupFinalizer", () => {
  it("is the upstream finalizer in CCM mode and ours when a class is configured", () => {
    expect(cleanupFinalizer(ccm)).toBe("service.kubernetes.io/load-balancer-cleanup");
    expect(cleanupFinalizer(ours)).toBe("lb-provisioner.io/load-balancer-cleanup");
  });
});

describe("needsCleanup", () => {
  it.each([
    ["no finalizer", newService("a", tweakDeleting), ccm, false],
    ["finalizer, still wanted", newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER)), ccm, false],
    [
      "finalizer, being deleted",
      newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER), tweakDeleting),
      ccm,
      true,
    ],
    [
      "finalizer, switched to ClusterIP",
      newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER), tweakType("ClusterIP")),
      ccm,
      true,
    ],
    [
      "someone else's finalizer only",
      newService("a", tweakFinalizers("example.com/other"), tweakType("ClusterIP")),
      ccm,
      false,
    ],
    [
      "upstream finalizer when a class is configured (a CCM's Service)",
      newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER), tweakType("ClusterIP")),
      ours,
      false,
    ],
    [
      "our finalizer, class wiped by a type change",
      newService("a", tweakFinalizers(CLASSED_CLEANUP_FINALIZER), tweakType("ClusterIP")),
      ours,
      true,
    ],
    [
      "our finalizer, recreated with another class",
      newService("a", tweakFinalizers(CLASSED_CLEANUP_FINALIZER), tweakClass("example.com/other")),
      ours,
      true,
    ],
  ])("%s -> %s", (_, service, selection, expected) => {
    expect(needsCleanup(service, selection)).toBe(expected);
  });
});

describe("shouldEnqueueAddedService", () => {
  it.each([
    ["wanted", newService("a"), true],
    ["not wanted, no finalizer", newService("a", tweakType("NodePort")), false],
    [
      "left behind with our finalizer",
      newService("a", tweakType("NodePort"), tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER)),
      true,
    ],
  ])("%s -> %s", (_, service, expected) => {
    expect(shouldEnqueueAddedService(service, ccm)).toBe(expected);
  });
});

describe("shouldEnqueueUpdatedService", () => {
  const base = newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER));
  const withStatus = newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER));
  withStatus.status = { loadBalancer: { ingress: [{ hostname: "lb.example" }] } };
  withStatus.metadata = { ...withStatus.metadata, resourceVersion: "2" };

  it.each([
    ["status-only change (our own patch)", base, withStatus, false],
    [
      "label-only change",
      base,
      newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER), (s) => {
        s.metadata = { ...s.metadata, labels: { team: "x" } };
      }),
      false,
    ],
    [
      "port change",
      base,
      newService(
        "a",
        tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER),
        tweakSpec({ ports: [{ port: 81, nodePort: 30009 }] }),
      ),
      true,
    ],
    [
      "annotation change",
      base,
      newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER), tweakAnnotations({ x: "y" })),
      true,
    ],
    [
      "type change away",
      base,
      newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER), tweakType("ClusterIP")),
      true,
    ],
    ["deletion started", base, newService("a", tweakFinalizers(UPSTREAM_CLEANUP_FINALIZER), tweakDeleting), true],
    ["our finalizer removed by someone", base, newService("a"), true],
    ["our finalizer added (our own write)", newService("a"), base, false],
    [
      "neither version ours",
      newService("a", tweakType("NodePort")),
      newService("a", tweakType("NodePort"), tweakSpec({ ports: [] })),
      false,
    ],
    ["NodePort switched to LoadBalancer", newService("a", tweakType("NodePort")), newService("a"), true],
  ])("%s -> %s", (_, old, current, expected) => {
    expect(shouldEnqueueUpdatedService(old, current, ccm)).toBe(expected);
  });
});

describe("keys", () => {
  it("round-trips namespace/name", () => {
    const key = objectKey(newService("web"));
    expect(key).toBe("default/web");
    expect(splitKey(key)).toEqual({ namespace: "default", name: "web" });
    expect(splitKey("cluster-scoped")).toEqual({ namespace: "", name: "cluster-scoped" });
  });
});
