import { describe, expect, it } from "vitest";
import { deepEqual } from "../../../src/controller/deep-equal.ts";
import { hasLoadBalancerStatus, loadBalancerStatusEqual, toServiceIngress } from "../../../src/controller/status.ts";

describe("loadBalancerStatusEqual", () => {
  it.each([
    ["both empty", {}, { ingress: [] }, true],
    ["undefined vs empty", undefined, { ingress: [] }, true],
    ["same hostname", { ingress: [{ hostname: "a.example" }] }, { ingress: [{ hostname: "a.example" }] }, true],
    ["different hostname", { ingress: [{ hostname: "a.example" }] }, { ingress: [{ hostname: "b.example" }] }, false],
    ["missing entry", {}, { ingress: [{ hostname: "a.example" }] }, false],
    ["extra entry", { ingress: [{ ip: "1.2.3.4" }, { ip: "1.2.3.5" }] }, { ingress: [{ ip: "1.2.3.4" }] }, false],
    [
      "API-defaulted ipMode VIP",
      { ingress: [{ ip: "1.2.3.4", ipMode: "VIP" }] },
      { ingress: [{ ip: "1.2.3.4" }] },
      true,
    ],
    [
      "ipMode Proxy set by someone",
      { ingress: [{ ip: "1.2.3.4", ipMode: "Proxy" }] },
      { ingress: [{ ip: "1.2.3.4" }] },
      false,
    ],
    [
      "ipMode Proxy published as the provider says",
      { ingress: [{ ip: "1.2.3.4", ipMode: "Proxy" }] },
      { ingress: [{ ip: "1.2.3.4", ipMode: "Proxy" as const }] },
      true,
    ],
    [
      "provider says VIP, Service defaulted",
      { ingress: [{ ip: "1.2.3.4" }] },
      { ingress: [{ ip: "1.2.3.4", ipMode: "VIP" as const }] },
      true,
    ],
    [
      "provider now says Proxy",
      { ingress: [{ ip: "1.2.3.4", ipMode: "VIP" }] },
      { ingress: [{ ip: "1.2.3.4", ipMode: "Proxy" as const }] },
      false,
    ],
    [
      "ports set by someone else are theirs",
      { ingress: [{ ip: "1.2.3.4", ports: [{ port: 80, protocol: "TCP" }] }] },
      { ingress: [{ ip: "1.2.3.4" }] },
      true,
    ],
    [
      "order matters",
      { ingress: [{ ip: "1.1.1.1" }, { ip: "2.2.2.2" }] },
      { ingress: [{ ip: "2.2.2.2" }, { ip: "1.1.1.1" }] },
      false,
    ],
  ])("%s -> %s", (_, current, desired, expected) => {
    expect(loadBalancerStatusEqual(current, desired)).toBe(expected);
  });
});

describe("toServiceIngress", () => {
  it("writes hostname and ip only when set", () => {
    expect(
      toServiceIngress({ ingress: [{ hostname: "a.example" }, { ip: "1.2.3.4" }, { hostname: "b", ip: "5.6.7.8" }] }),
    ).toEqual([{ hostname: "a.example" }, { ip: "1.2.3.4" }, { hostname: "b", ip: "5.6.7.8" }]);
  });

  it("writes the provider's ipMode beside an ip, never on a hostname-only entry", () => {
    expect(
      toServiceIngress({
        ingress: [{ ip: "127.0.0.1", ipMode: "Proxy" }, { ip: "::1", ipMode: "VIP" }, { hostname: "lb.example" }],
      }),
    ).toEqual([{ ip: "127.0.0.1", ipMode: "Proxy" }, { ip: "::1", ipMode: "VIP" }, { hostname: "lb.example" }]);
  });

  it("carries on the ports another writer published for the same address, and only for it", () => {
    const ports = [{ port: 80, protocol: "TCP", error: "ListenerFailed" }];
    const current = { ingress: [{ ip: "127.0.0.1", ipMode: "Proxy", ports }, { ip: "127.0.0.2" }] };
    expect(toServiceIngress({ ingress: [{ ip: "127.0.0.1", ipMode: "Proxy" }, { ip: "127.0.0.3" }] }, current)).toEqual(
      [{ ip: "127.0.0.1", ipMode: "Proxy", ports }, { ip: "127.0.0.3" }],
    );
  });
});

describe("hasLoadBalancerStatus", () => {
  it("is true only with at least one ingress entry", () => {
    expect(hasLoadBalancerStatus(undefined)).toBe(false);
    expect(hasLoadBalancerStatus({ ingress: [] })).toBe(false);
    expect(hasLoadBalancerStatus({ ingress: [{ ip: "1.2.3.4" }] })).toBe(true);
  });
});

describe("deepEqual", () => {
  it.each([
    [{ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: 1 }, { a: 2 }, false],
    [[1, 2], [2, 1], false],
    [[1], { 0: 1 }, false],
    [new Date("2026-01-01T00:00:00Z"), new Date("2026-01-01T00:00:00Z"), true],
    [new Date("2026-01-01T00:00:00Z"), "2026-01-01T00:00:00Z", false],
    [null, {}, false],
    [undefined, undefined, true],
  ])("%j vs %j -> %s", (a, b, expected) => {
    expect(deepEqual(a, b)).toBe(expected);
  });
});
