import type { V1Node } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ObjectList } from "../../../src/kube/api-client.ts";
import { LIST_PAGE_SIZE, listInPages } from "../../../src/kube/informer.ts";

describe("listInPages", () => {
  it("reads every page from the continue token on, trims each item, and keeps the first page's resourceVersion", async () => {
    const total = LIST_PAGE_SIZE * 2 + 3;
    const asked: Array<{ limit: number; continue?: string }> = [];
    const all: V1Node[] = Array.from({ length: total }, (_, i) => ({
      metadata: { name: `n${i}` },
      status: { images: [] },
    }));
    const list = await listInPages(
      async (page): Promise<ObjectList<V1Node>> => {
        asked.push(page);
        const from = Number(page.continue ?? 0);
        const to = Math.min(from + page.limit, total);
        return {
          metadata: { resourceVersion: from === 0 ? "100" : "101", ...(to < total ? { continue: String(to) } : {}) },
          items: all.slice(from, to),
        };
      },
      (node) => {
        node.status = {};
        return node;
      },
    );
    expect(asked).toEqual([
      { limit: LIST_PAGE_SIZE },
      { limit: LIST_PAGE_SIZE, continue: String(LIST_PAGE_SIZE) },
      { limit: LIST_PAGE_SIZE, continue: String(LIST_PAGE_SIZE * 2) },
    ]);
    expect(list.resourceVersion).toBe("100");
    expect(list.items.map((node) => node.metadata?.name)).toEqual(all.map((node) => node.metadata?.name));
    expect(list.items.every((node) => node.status?.images === undefined)).toBe(true);
  });
});
