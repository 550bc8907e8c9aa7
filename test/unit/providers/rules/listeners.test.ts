import { describe, expect, it } from "vitest";
import { isPort, type ListenerRules, listenerIssues, servesListener } from "../../../../providers/rules/listeners.ts";
import type { ListenerSpec } from "../../../../providers/types.ts";

const rules: ListenerRules = { protocols: ["TCP", "UDP"], servedBy: "Example Load Balancers", maxPorts: 2 };
const tcp = (port: number, nodePort = 30_000 + port): ListenerSpec => ({ name: "", port, protocol: "TCP", nodePort });
const udp = (port: number, nodePort = 30_000 + port): ListenerSpec => ({ name: "", port, protocol: "UDP", nodePort });

describe("listenerIssues", () => {
  it("accepts TCP and UDP on one port and ports up to the limit", () => {
    expect(listenerIssues([tcp(53), udp(53), tcp(80)], rules)).toEqual([]);
  });

  it.each([
    {
      what: "no ports",
      listeners: [],
      field: "spec.ports",
      message: "a LoadBalancer Service needs at least one port; add one to spec.ports",
    },
    {
      what: "a protocol the provider does not serve",
      listeners: [{ ...tcp(80), protocol: "SCTP" } as const],
      field: "spec.ports[0].protocol",
      message: "SCTP is not supported by Example Load Balancers; use TCP or UDP",
    },
    {
      what: "a port out of range",
      listeners: [tcp(70_000, 30_080)],
      field: "spec.ports[0].port",
      message: "70000 is not a port; use a number from 1 to 65535",
    },
    {
      what: "no nodePort",
      listeners: [tcp(80, 0)],
      field: "spec.ports[0].nodePort",
      message:
        "has no node port, and the load balancer forwards to node ports; remove `allocateLoadBalancerNodePorts: false` (or set it to true) so every port gets one, or set the nodePort",
    },
    {
      what: "the same port and protocol twice",
      listeners: [tcp(80), tcp(80, 30_081)],
      field: "spec.ports[1].port",
      message:
        "80/TCP repeats spec.ports[0]; each port and protocol pair can have only one listener, so remove or renumber one of them",
    },
    {
      what: "more distinct ports than the limit",
      listeners: [tcp(80), tcp(443), udp(53)],
      field: "spec.ports",
      message:
        "3 ports exceed the limit of 2 listeners per load balancer of Example Load Balancers; split the ports across Services",
    },
  ])("reports $what", ({ listeners, field, message }) => {
    expect(listenerIssues(listeners, rules)).toEqual([{ field, message, severity: "error" }]);
  });

  it("has no limit unless given one", () => {
    const many = Array.from({ length: 60 }, (_, index) => tcp(1000 + index));
    expect(listenerIssues(many, { protocols: ["TCP"], servedBy: "x" })).toEqual([]);
  });

  it.each([
    [1, true],
    [65_535, true],
    [0, false],
    [65_536, false],
    [80.5, false],
  ])("isPort(%j) = %j", (value, expected) => {
    expect(isPort(value)).toBe(expected);
  });
});

describe("servesListener", () => {
  it.each([
    { cloud: "TCP", wanted: tcp(80), spec: [tcp(80)], serves: true },
    { cloud: "tcp", wanted: tcp(80), spec: [tcp(80)], serves: true },
    { cloud: "UDP", wanted: tcp(80), spec: [tcp(80)], serves: false },
    { cloud: "TLS", wanted: tcp(443), spec: [tcp(443)], serves: true },
    { cloud: "TLS", wanted: udp(443), spec: [udp(443)], serves: false },
    { cloud: "TCP_UDP", wanted: udp(53), spec: [tcp(53), udp(53)], serves: true },
    { cloud: "TCP_UDP", wanted: tcp(53), spec: [tcp(53), udp(53)], serves: true },
    { cloud: "TCP_UDP", wanted: tcp(53), spec: [tcp(53)], serves: false },
    { cloud: "TCP_UDP", wanted: { ...tcp(53), protocol: "SCTP" } as const, spec: [tcp(53)], serves: false },
  ])("a $cloud listener serves $wanted.port/$wanted.protocol of $spec.length port(s): $serves", (row) => {
    expect(servesListener({ port: row.wanted.port, protocol: row.cloud }, row.wanted, row.spec)).toBe(row.serves);
  });

  it("never serves another port", () => {
    expect(servesListener({ port: 81, protocol: "TCP" }, tcp(80), [tcp(80)])).toBe(false);
  });
});
