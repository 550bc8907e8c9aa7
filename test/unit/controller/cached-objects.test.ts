import type { V1Node, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { realisticNode } from "../../../bench/lib/objects.ts";
import { LAST_APPLIED_ANNOTATION, trimNode, trimService } from "../../../src/controller/cached-objects.ts";
import {
  EXCLUDE_FROM_LOAD_BALANCERS_LABEL,
  eligibleNodeSpec,
  isNodeEligible,
  TO_BE_DELETED_BY_AUTOSCALER_TAINT,
} from "../../../src/controller/node-eligibility.ts";
import { newService, tweakAnnotations, tweakFinalizers } from "./fixtures.ts";

const MANAGED_FIELDS = [{ manager: "kubectl", operation: "Apply", fieldsType: "FieldsV1", fieldsV1: { f: {} } }];

function copy<T>(value: T): T {
  return structuredClone(value);
}

describe("trimNode", () => {
  const variants: Array<[string, (node: V1Node) => void]> = [
    ["as the kubelet reports it", () => {}],
    ["being deleted", (node) => (node.metadata = { ...node.metadata, deletionTimestamp: new Date() })],
    [
      "excluded by label",
      (node) =>
        (node.metadata = {
          ...node.metadata,
          labels: { ...node.metadata?.labels, [EXCLUDE_FROM_LOAD_BALANCERS_LABEL]: "" },
        }),
    ],
    [
      "tainted by the autoscaler",
      (node) =>
        (node.spec = { ...node.spec, taints: [{ key: TO_BE_DELETED_BY_AUTOSCALER_TAINT, effect: "NoSchedule" }] }),
    ],
  ];

  it.each(variants)("keeps what eligibility and the node spec read: %s", (_, tweak) => {
    const node = { ...realisticNode(7), metadata: { ...realisticNode(7).metadata, managedFields: MANAGED_FIELDS } };
    tweak(node);
    const trimmed = trimNode(copy(node));
    expect(isNodeEligible(trimmed)).toBe(isNodeEligible(node));
    expect(eligibleNodeSpec(trimmed)).toEqual(eligibleNodeSpec(node));
    expect(trimmed.metadata?.resourceVersion).toBe(node.metadata?.resourceVersion);
  });

  it("drops images, conditions, capacity, annotations and managedFields: a realistic Node shrinks to a fraction", () => {
    const node = realisticNode(7);
    node.metadata = { ...node.metadata, resourceVersion: "42", uid: "u-7", managedFields: MANAGED_FIELDS };
    const size = JSON.stringify(node).length;
    const trimmed = trimNode(copy(node));
    expect(Object.keys(trimmed.status ?? {})).toEqual(["addresses"]);
    expect(Object.keys(trimmed.metadata ?? {}).sort()).toEqual(["labels", "name", "resourceVersion", "uid"]);
    expect(JSON.stringify(trimmed).length).toBeLessThan(size / 3);
  });

  it("returns the object it was given, so every cache holding it holds the trimmed one", () => {
    const node = realisticNode(1);
    expect(trimNode(node)).toBe(node);
  });
});

describe("trimService", () => {
  it("drops managedFields and the last-applied copy, and keeps everything the controller reads", () => {
    const service: V1Service = newService(
      "myapp",
      tweakFinalizers("service.kubernetes.io/load-balancer-cleanup"),
      tweakAnnotations({ [LAST_APPLIED_ANNOTATION]: "{}", "example.com/keep": "yes" }),
    );
    service.metadata = { ...service.metadata, managedFields: MANAGED_FIELDS };
    service.status = { loadBalancer: { ingress: [{ hostname: "lb.example" }] } };
    const trimmed = trimService(copy(service));

    const { managedFields: _managedFields, ...metadata } = service.metadata;
    expect(trimmed).toEqual({ ...service, metadata: { ...metadata, annotations: { "example.com/keep": "yes" } } });
  });

  it("leaves a Service with nothing to drop as it is", () => {
    const service = newService("myapp");
    expect(trimService(copy(service))).toEqual(service);
  });
});
