import { describe, expect, it } from "vitest";
import { ClientAffinity } from "../../../../providers/local/client-affinity.ts";

describe("ClientAffinity", () => {
  it("keeps a client on its target while it comes back within the timeout, counted from its last visit", () => {
    let now = 0;
    const affinity = new ClientAffinity(1_000, () => now);
    expect(affinity.pinned("192.0.2.1")).toBeUndefined();
    affinity.remember("192.0.2.1", "a");
    now = 900;
    expect(affinity.pinned("192.0.2.1")).toBe("a");
    affinity.remember("192.0.2.1", "a");
    now = 1_800;
    expect(affinity.pinned("192.0.2.1"), "the second visit renewed the pin").toBe("a");
    now = 2_901;
    expect(affinity.pinned("192.0.2.1"), "gone after a timeout without a visit").toBeUndefined();
  });

  it("re-pins a client that went elsewhere (its target was unhealthy or gone)", () => {
    const affinity = new ClientAffinity(1_000, () => 0);
    affinity.remember("192.0.2.1", "a");
    affinity.remember("192.0.2.1", "b");
    expect(affinity.pinned("192.0.2.1")).toBe("b");
  });

  it("sweeps expired pins as new clients arrive, so one-off clients do not accumulate", () => {
    let now = 0;
    const affinity = new ClientAffinity(10, () => now);
    for (let i = 0; i < 1000; i++) affinity.remember(`10.0.${i >> 8}.${i & 255}`, "a");
    now = 100;
    for (let i = 0; i < 100; i++) affinity.remember(`10.1.0.${i}`, "a");
    expect(affinity.size).toBeLessThan(200);
  });
});
