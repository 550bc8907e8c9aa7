import { describe, expect, it } from "vitest";
import {
  fromTagList,
  isOwnedBy,
  isReservedTagKey,
  missingTags,
  ownerOf,
  ownershipTags,
  toTagList,
} from "../../../providers/aws/tags.ts";

const ref = { clusterName: "prod", service: { namespace: "default", name: "myapp", uid: "u-1" } };

describe("ownership tags", () => {
  it("mark the cluster, the Service and its uid", () => {
    expect(ownershipTags(ref)).toEqual({
      "kubernetes.io/cluster/prod": "owned",
      "kubernetes.io/service-name": "default/myapp",
      "lb-provisioner/service-uid": "u-1",
    });
    expect(ownershipTags({ clusterName: "prod", service: { namespace: "a", name: "b" } })).not.toHaveProperty(
      "lb-provisioner/service-uid",
    );
  });

  it.each([
    ["its own tags", ownershipTags(ref), true],
    [
      "its own tags without the uid",
      { "kubernetes.io/cluster/prod": "owned", "kubernetes.io/service-name": "default/myapp" },
      true,
    ],
    [
      "another cluster",
      { "kubernetes.io/cluster/staging": "owned", "kubernetes.io/service-name": "default/myapp" },
      false,
    ],
    [
      "a shared (not owned) cluster tag",
      { "kubernetes.io/cluster/prod": "shared", "kubernetes.io/service-name": "default/myapp" },
      false,
    ],
    [
      "another Service",
      { "kubernetes.io/cluster/prod": "owned", "kubernetes.io/service-name": "default/other" },
      false,
    ],
    ["no tags", {}, false],
  ])("isOwnedBy: %s -> %j", (_label, tags, expected) => {
    expect(isOwnedBy(tags, ref)).toBe(expected);
  });

  it("ownerOf reads the Service back for this cluster only", () => {
    expect(ownerOf(ownershipTags(ref), "prod")).toEqual({ namespace: "default", name: "myapp", uid: "u-1" });
    expect(ownerOf(ownershipTags(ref), "staging")).toBeUndefined();
    expect(
      ownerOf({ "kubernetes.io/cluster/prod": "owned", "kubernetes.io/service-name": "broken" }, "prod"),
    ).toBeUndefined();
  });

  it("reserves the ownership keys", () => {
    expect(isReservedTagKey("kubernetes.io/cluster/prod", "prod")).toBe(true);
    expect(isReservedTagKey("kubernetes.io/service-name", "prod")).toBe(true);
    expect(isReservedTagKey("team", "prod")).toBe(false);
  });

  it("missingTags lists absent and changed tags only", () => {
    expect(missingTags({ a: "1", b: "2", c: "3" }, { a: "1", b: "x", d: "4" })).toEqual({ b: "2", c: "3" });
  });

  it("converts AWS tag lists both ways, sorted", () => {
    expect(fromTagList([{ Key: "b", Value: "2" }, { Key: "a" }, { Value: "orphan" }])).toEqual({ a: "", b: "2" });
    expect(toTagList({ b: "2", a: "1" })).toEqual([
      { Key: "a", Value: "1" },
      { Key: "b", Value: "2" },
    ]);
  });
});
