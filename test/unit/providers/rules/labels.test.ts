import { describe, expect, it } from "vitest";
import { isLabelKey, isLabelValue } from "../../../../providers/rules/labels.ts";

describe("Kubernetes label syntax", () => {
  it.each(["gpu", "node-pool", "a.b_c-9", "example.com/pool", "kubernetes.io/hostname", "x".repeat(63)])(
    "%j is a label key",
    (key) => expect(isLabelKey(key)).toBe(true),
  );
  it.each([
    "",
    "node pool",
    "-pool",
    "pool-",
    "x".repeat(64),
    "Example.com/pool",
    "/pool",
    "example.com/",
    "a/b/c",
    "pööl",
  ])("%j is not a label key", (key) => expect(isLabelKey(key)).toBe(false));
  it.each(["", "edge", "v1.2_3-x", "x".repeat(63)])("%j is a label value", (value) =>
    expect(isLabelValue(value)).toBe(true),
  );
  it.each(["edge/1", " edge", "-edge", "x".repeat(64), "a b"])("%j is not a label value", (value) =>
    expect(isLabelValue(value)).toBe(false),
  );
});
