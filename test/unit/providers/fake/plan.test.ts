import { describe, expect, it } from "vitest";
import { exampleNodes } from "../../../../providers/conformance/index.ts";
import { diffSorted, mergeSorted, targetNames } from "../../../../providers/fake/plan.ts";
import type { NodeSpec } from "../../../../providers/types.ts";

describe("target list helpers", () => {
  it("diffs two sorted lists in one pass", () => {
    expect(diffSorted(["a", "b", "d"], ["b", "c", "d", "e"])).toEqual({ added: ["c", "e"], removed: ["a"] });
    expect(diffSorted([], ["a"])).toEqual({ added: ["a"], removed: [] });
    expect(diffSorted(["a"], [])).toEqual({ added: [], removed: ["a"] });
    expect(diffSorted(["a", "b"], ["a", "b"])).toEqual({ added: [], removed: [] });
  });

  it("merges two sorted lists without duplicates", () => {
    expect(mergeSorted(["a", "c"], ["b", "c", "d"])).toEqual(["a", "b", "c", "d"]);
  });

  it("sorts and de-duplicates node names, and caches them per node list", () => {
    const [one, two, three] = exampleNodes(3) as [NodeSpec, NodeSpec, NodeSpec];
    expect(targetNames([three, one, two, one])).toEqual(["node-1", "node-2", "node-3"]);
    const sorted = [one, two, three];
    const names = targetNames(sorted);
    expect(Object.isFrozen(names)).toBe(true);
    expect(targetNames(sorted)).toBe(names);
    expect(targetNames([one, two, three])).not.toBe(names);
  });

  it("notices a node list edited in place", () => {
    const [one, two, three] = exampleNodes(3) as [NodeSpec, NodeSpec, NodeSpec];
    const list = [one, two];
    const before = targetNames(list);
    expect(targetNames(list)).toBe(before);
    list.push(three);
    expect(targetNames(list)).toEqual(["node-1", "node-2", "node-3"]);
  });
});
