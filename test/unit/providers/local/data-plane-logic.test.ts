import { describe, expect, it } from "vitest";
import { conformanceSpec, exampleNodes, listener } from "../../../../providers/conformance/index.ts";
import { providerErrorKind } from "../../../../providers/errors.ts";
import { AddressPool } from "../../../../providers/local/address-pool.ts";
import { classifyBindError } from "../../../../providers/local/bind-errors.ts";
import { afterProbe, type HealthState, INITIAL_HEALTH } from "../../../../providers/local/health-state.ts";
import { sourceFilter } from "../../../../providers/local/source-ranges.ts";
import {
  diffTargets,
  eligibleTargets,
  rotate,
  type TargetSpec,
  targetsFor,
} from "../../../../providers/local/targets.ts";
import { validateLocalSpec } from "../../../../providers/local/validation.ts";

const POOL = AddressPool.parse("127.100.0.0/16");

const thresholds = { healthyThreshold: 2, unhealthyThreshold: 3 };

function run(passes: boolean[], from: HealthState = INITIAL_HEALTH): string[] {
  const statuses: string[] = [];
  let state = from;
  for (const passed of passes) {
    state = afterProbe(state, passed, thresholds);
    statuses.push(state.status);
  }
  return statuses;
}

describe("health state", () => {
  it("becomes healthy after healthyThreshold passes in a row and unhealthy after unhealthyThreshold failures", () => {
    expect(run([true, true])).toEqual(["initial", "healthy"]);
    expect(run([true, true, false, false, true, false, false, false])).toEqual([
      "initial",
      "healthy",
      "healthy",
      "healthy",
      "healthy",
      "healthy",
      "healthy",
      "unhealthy",
    ]);
    expect(run([false, false, false, true, true])).toEqual(["initial", "initial", "unhealthy", "unhealthy", "healthy"]);
  });
});

describe("targets", () => {
  const nodes = exampleNodes(3);
  const cluster = { kind: "traffic-port", protocol: "TCP" } as const;

  it("targets each node's address of the configured type on the nodePort, probing by the health check", () => {
    const targets = targetsFor(nodes, 30008, cluster, "InternalIP", "IPv4");
    expect(targets.map((t) => [t.id, t.node, t.probe.key])).toEqual([
      ["192.168.1.2:30008", "node-1", "tcp://192.168.1.2:30008"],
      ["192.168.1.3:30008", "node-2", "tcp://192.168.1.3:30008"],
      ["192.168.1.4:30008", "node-3", "tcp://192.168.1.4:30008"],
    ]);
    const local = targetsFor(
      nodes,
      30008,
      { kind: "http", protocol: "HTTP", port: 32000, path: "/healthz" },
      "InternalIP",
      "IPv4",
    );
    expect(local[0]?.probe.key).toBe("http://192.168.1.2:32000/healthz");
    // exampleNodes have no ExternalIP: nobody to send to.
    expect(targetsFor(nodes, 30008, cluster, "ExternalIP", "IPv4")).toEqual([]);
    const v6 = targetsFor(
      [{ name: "n", addresses: [{ type: "InternalIP", address: "fd00::1" }], labels: {} }],
      1,
      cluster,
      "InternalIP",
      "IPv6",
    );
    expect(v6[0]?.id).toBe("[fd00::1]:1");
    // Dual-stack nodes are targeted on the address of the Service's primary family.
    expect(targetsFor(nodes, 30008, cluster, "InternalIP", "IPv6").map((t) => t.id)).toEqual([
      "[fd00:1::2]:30008",
      "[fd00:1::3]:30008",
      "[fd00:1::4]:30008",
    ]);
  });

  it("diffs by target and node, not by health check", () => {
    const current = new Map(targetsFor(nodes.slice(0, 2), 30008, cluster, "InternalIP", "IPv4").map((t) => [t.id, t]));
    const wanted = targetsFor(
      nodes.slice(1, 3),
      30008,
      { kind: "http", protocol: "HTTP", port: 1, path: "/" },
      "InternalIP",
      "IPv4",
    );
    const { register, deregister } = diffTargets(current, wanted);
    expect(register.map((t) => t.node)).toEqual(["node-3"]);
    expect(deregister).toEqual(["192.168.1.2:30008"]);
  });

  it("sends to healthy targets only, and to all of them when none is healthy (fail open)", () => {
    const targets = targetsFor(nodes, 30008, cluster, "InternalIP", "IPv4");
    const healthOf = (status: Record<string, "healthy" | "unhealthy">) => (key: string) => status[key] ?? "initial";
    const names = (list: readonly TargetSpec[]) => list.map((t) => t.node);
    expect(names(eligibleTargets(targets, healthOf({ "tcp://192.168.1.3:30008": "healthy" })))).toEqual(["node-2"]);
    expect(names(eligibleTargets(targets, healthOf({ "tcp://192.168.1.3:30008": "unhealthy" })))).toEqual([
      "node-1",
      "node-2",
      "node-3",
    ]);
  });

  it("rotates for round robin, keeping the others as fallbacks", () => {
    expect(rotate([1, 2, 3], 0)).toEqual([1, 2, 3]);
    expect(rotate([1, 2, 3], 4)).toEqual([2, 3, 1]);
    expect(rotate([], 7)).toEqual([]);
  });
});

describe("validateLocalSpec", () => {
  const base = { clusterName: "c", name: "s", nodes: exampleNodes(1) };
  const DUAL = AddressPool.parse("127.100.0.0/24, fd00:5::/120");

  it("accepts TCP and UDP on one port number", () => {
    expect(
      validateLocalSpec(
        conformanceSpec({ ...base, listeners: [listener(53, 30053, "UDP"), listener(53, 30053)] }),
        POOL,
      ),
    ).toEqual([]);
  });

  it("rejects SCTP and a repeated port and protocol, naming the port", () => {
    const issues = validateLocalSpec(
      conformanceSpec({ ...base, listeners: [listener(9, 30009, "SCTP"), listener(80, 30008), listener(80, 30010)] }),
      POOL,
    );
    expect(issues.map((i) => i.field)).toEqual(["spec.ports[0].protocol", "spec.ports[2].port"]);
    expect(issues.every((i) => i.severity === "error")).toBe(true);
  });

  it("serves the families its pool has addresses of", () => {
    const ipv6 = conformanceSpec({ ...base, ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" });
    expect(validateLocalSpec(ipv6, DUAL)).toEqual([]);
    expect(validateLocalSpec(ipv6, POOL).map((i) => [i.field, i.severity])).toEqual([["spec.ipFamilies", "error"]]);
    const prefer = conformanceSpec({ ...base, ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "PreferDualStack" });
    expect(validateLocalSpec(prefer, POOL).map((i) => [i.field, i.severity])).toEqual([["spec.ipFamilies", "warning"]]);
  });

  it("takes a requested address from the pool, of a family the load balancer serves", () => {
    const asking = (loadBalancerIP: string, ipFamilies: ("IPv4" | "IPv6")[] = ["IPv4"]) =>
      validateLocalSpec(conformanceSpec({ ...base, loadBalancerIP, ipFamilies }), DUAL);
    expect(asking("127.100.0.7")).toEqual([]);
    expect(asking("fd00:5::7", ["IPv4", "IPv6"])).toEqual([]);
    expect(asking("10.0.0.7")).toEqual([
      {
        field: "spec.loadBalancerIP",
        severity: "error",
        message:
          "10.0.0.7 is not in the local provider's address pool (--provider-config addresses 127.100.0.0/24,fd00:5::/120); ask for an address of the pool, or remove the field",
      },
    ]);
    expect(asking("fd00:5::7")[0]?.message).toBe(
      "fd00:5::7 is an IPv6 address, and the Service's load balancer serves IPv4; ask for an address of a family it serves",
    );
  });
});

describe("classifyBindError", () => {
  const attempt = { field: "spec.ports[1].port", address: "127.100.0.9", port: 80, protocol: "TCP" as const };
  const systemError = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

  it("a privileged port is invalid configuration naming the port and every fix", () => {
    const error = classifyBindError(systemError("EACCES"), attempt);
    expect(providerErrorKind(error)).toBe("invalid-configuration");
    expect((error as { field?: string }).field).toBe("spec.ports[1].port");
    expect(error.message).toContain("127.100.0.9:80/TCP");
    for (const fix of ["CAP_NET_BIND_SERVICE", "net.ipv4.ip_unprivileged_port_start", "1024 or above"]) {
      expect(error.message).toContain(fix);
    }
  });

  it("a port in use by another program is a conflict, never touched", () => {
    const error = classifyBindError(systemError("EADDRINUSE"), attempt);
    expect(providerErrorKind(error)).toBe("conflict");
    expect(error.message).toMatch(/^spec\.ports\[1\]\.port: 127\.100\.0\.9:80\/TCP is in use by another program/);
  });

  it("an address the machine does not have, and anything else, is transient", () => {
    expect(providerErrorKind(classifyBindError(systemError("EADDRNOTAVAIL"), attempt))).toBe("transient");
    expect(classifyBindError(systemError("EADDRNOTAVAIL"), attempt).message).toContain("--provider-config addresses");
    expect(providerErrorKind(classifyBindError(new Error("odd"), attempt))).toBe("transient");
  });
});

describe("sourceFilter", () => {
  it("admits everyone without ranges, and only addresses inside them otherwise", () => {
    expect(sourceFilter([])("203.0.113.9")).toBe(true);
    const allows = sourceFilter(["127.0.8.0/24", "2001:db8::/32"]);
    expect(allows("127.0.8.200")).toBe(true);
    expect(allows("::ffff:127.0.8.7")).toBe(true);
    expect(allows("127.0.9.1")).toBe(false);
    expect(allows("2001:db8::5")).toBe(true);
    expect(allows("2001:db9::5")).toBe(false);
    expect(allows(undefined)).toBe(false);
  });
});
