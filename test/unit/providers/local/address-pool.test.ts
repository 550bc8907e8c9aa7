import { describe, expect, it } from "vitest";
import { AddressPool, chooseAddress, preferredIndex } from "../../../../providers/local/address-pool.ts";
import type { LoadBalancerRef } from "../../../../providers/types.ts";

const ref = (name: string, namespace = "default", clusterName = "kubernetes"): LoadBalancerRef => ({
  clusterName,
  service: { namespace, name },
});

describe("AddressPool.parse", () => {
  it("takes CIDRs without their network and broadcast addresses, ranges and single addresses, in order", () => {
    const pool = AddressPool.parse("10.0.0.0/30, 192.0.2.10-192.0.2.12 198.51.100.7");
    expect(pool.size).toBe(6n);
    expect([0n, 1n, 2n, 3n, 4n, 5n].map((i) => pool.addressAt(i))).toEqual([
      "10.0.0.1",
      "10.0.0.2",
      "192.0.2.10",
      "192.0.2.11",
      "192.0.2.12",
      "198.51.100.7",
    ]);
    expect(() => pool.addressAt(6n)).toThrow(RangeError);
  });

  it("keeps every address of a /31 and /32, and handles IPv6", () => {
    expect(AddressPool.parse("10.0.0.0/31").size).toBe(2n);
    const v6 = AddressPool.parse("fd00::/126");
    expect(v6.size).toBe(4n);
    expect(v6.addressAt(3n)).toBe("fd00::3");
    expect(v6.contains("FD00:0:0::2")).toBe(true);
  });

  it("answers membership for any spelling and only for its own family", () => {
    const pool = AddressPool.parse("127.100.0.0/16");
    expect(pool.contains("127.100.3.4")).toBe(true);
    expect(pool.contains("127.101.0.1")).toBe(false);
    expect(pool.contains("::ffff:127.100.3.4")).toBe(true);
    expect(pool.contains("not an address")).toBe(false);
  });

  it.each([
    ["", "no addresses given"],
    ["10.0.0.0/33", '"10.0.0.0/33" is not a CIDR'],
    ["10.0.0.300", '"10.0.0.300" is not an IP address'],
    ["10.0.0.9-10.0.0.1", "ends before it starts"],
    ["10.0.0.1-fd00::1", "mixes IPv4 and IPv6"],
    ["010.0.0.1", "is not an IP address"],
    ["10.0.0.0/24,10.0.0.7", "overlap"],
    // Found by the property tests: such a pool handed out addresses it did not recognise as its own.
    ["::ffff:1.2.3.4", "is an IPv4-mapped IPv6 address; write it as 1.2.3.4"],
    ["::ffff:1.2.3.0/120", "is an IPv4-mapped IPv6 address; write it as 1.2.3.0"],
  ])("rejects %j: %s", (text, message) => {
    expect(() => AddressPool.parse(text)).toThrow(message);
  });
});

describe("chooseAddress", () => {
  const pool = AddressPool.parse("127.100.0.0/16");

  it("gives a Service the same address every time, from its identity alone", () => {
    const first = chooseAddress(pool, ref("web"), [], new Set());
    expect(chooseAddress(pool, ref("web"), [], new Set())).toBe(first);
    expect(pool.addressAt(preferredIndex(pool, ref("web")))).toBe(first);
    expect(chooseAddress(pool, ref("web", "other"), [], new Set())).not.toBe(first);
    expect(chooseAddress(pool, ref("web", "default", "other-cluster"), [], new Set())).not.toBe(first);
  });

  it("probes past taken addresses, wrapping around the end of the pool", () => {
    const small = AddressPool.parse("10.0.0.1-10.0.0.3");
    const preferred = small.addressAt(preferredIndex(small, ref("web")));
    const next = small.addressAt((preferredIndex(small, ref("web")) + 1n) % 3n);
    expect(chooseAddress(small, ref("web"), [], new Set([preferred]))).toBe(next);
    expect(chooseAddress(small, ref("web"), [], new Set(["10.0.0.1", "10.0.0.2", "10.0.0.3"]))).toBeUndefined();
  });

  it("prefers the address the Service publishes, when it is in the pool and free", () => {
    expect(chooseAddress(pool, ref("web"), ["127.100.9.9"], new Set())).toBe("127.100.9.9");
    expect(chooseAddress(pool, ref("web"), ["10.1.1.1", "127.100.9.9"], new Set())).toBe("127.100.9.9");
    const own = chooseAddress(pool, ref("web"), [], new Set());
    expect(chooseAddress(pool, ref("web"), ["127.100.9.9"], new Set(["127.100.9.9"]))).toBe(own);
  });

  it("keeps two colliding Services on their addresses across a restart in either order", () => {
    const small = AddressPool.parse("10.0.0.1-10.0.0.2");
    // Find two Services that hash to the same address.
    const a = ref("a");
    const start = preferredIndex(small, a);
    let n = 0;
    while (preferredIndex(small, ref(`b${n}`)) !== start) n++;
    const b = ref(`b${n}`);
    const addressA = chooseAddress(small, a, [], new Set()) as string;
    const addressB = chooseAddress(small, b, [], new Set([addressA])) as string;
    expect(addressB).not.toBe(addressA);
    // After a restart b is ensured first; its published address brings it back where it was.
    const againB = chooseAddress(small, b, [addressB], new Set());
    const againA = chooseAddress(small, a, [addressA], new Set([againB as string]));
    expect([againA, againB]).toEqual([addressA, addressB]);
  });
});
