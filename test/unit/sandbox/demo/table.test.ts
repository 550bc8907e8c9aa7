import { describe, expect, it } from "vitest";
import type { NodeSpec, ObservedLoadBalancer } from "../../../../providers/index.ts";
import {
  describeTarget,
  LOAD_BALANCER_HEADERS,
  loadBalancerRows,
  renderLoadBalancerTable,
} from "../../../../sandbox/demo/table.ts";
import { renderTable } from "../../../../src/plan/table.ts";

const nodes: NodeSpec[] = [1, 2, 3].map((index) => ({
  name: `node-${index}`,
  providerID: `aws:///us-east-1a/i-000${index}`,
  addresses: [
    { type: "Hostname", address: `node-${index}.internal` },
    { type: "InternalIP", address: `192.168.1.${index + 1}` },
  ],
  labels: {},
}));

const observed: ObservedLoadBalancer = {
  ref: { clusterName: "demo", service: { namespace: "default", name: "myapp-service" } },
  status: { ingress: [{ hostname: "lb.example.test" }] },
  listeners: [
    {
      port: 80,
      protocol: "TCP",
      targetPort: 30008,
      targets: [
        { id: "node-1", port: 30008, health: "healthy" },
        { id: "i-0002", port: 30008 },
      ],
    },
    { port: 443, protocol: "TLS", targetPort: 30443, targets: [] },
  ],
};

describe("renderTable", () => {
  it("pads columns to the widest cell and trims trailing space", () => {
    expect(
      renderTable(
        ["A", "BB", "C"],
        [
          ["xxx", "y", ""],
          ["z", "", "w"],
        ],
      ),
    ).toBe("A    BB  C\nxxx  y\nz        w\n");
  });
});

describe("loadBalancerRows", () => {
  it("lists listener -> target group -> node address:nodePort for every target, as a tree", () => {
    expect(renderTable(LOAD_BALANCER_HEADERS, loadBalancerRows(observed, nodes))).toBe(
      [
        "SERVICE                ADDRESS          LISTENER    TARGET GROUP  TARGET                    HEALTH",
        "default/myapp-service  lb.example.test  80/TCP ->   TCP:30008 ->  node-1 192.168.1.2:30008  healthy",
        "                                                                  node-2 192.168.1.3:30008",
        "                                        443/TLS ->  TLS:30443 ->  (no targets)",
        "",
      ].join("\n"),
    );
  });

  it("shows the HEALTH column only when the provider reports health", () => {
    const unhealthy = renderLoadBalancerTable(observed, nodes);
    expect(unhealthy.split("\n")[0]).toMatch(/TARGET +HEALTH$/);
    const silent = {
      ...observed,
      listeners: [{ port: 80, protocol: "TCP", targetPort: 30008, targets: [{ id: "node-1", port: 30008 }] }],
    };
    expect(renderLoadBalancerTable(silent, nodes)).toBe(
      [
        "SERVICE                ADDRESS          LISTENER   TARGET GROUP  TARGET",
        "default/myapp-service  lb.example.test  80/TCP ->  TCP:30008 ->  node-1 192.168.1.2:30008",
        "",
      ].join("\n"),
    );
  });

  it("says so when there is no listener or address", () => {
    expect(loadBalancerRows({ ...observed, status: { ingress: [] }, listeners: [] }, nodes)).toEqual([
      ["default/myapp-service", "(none)", "(no listeners)", "", "", ""],
    ]);
  });
});

describe("describeTarget", () => {
  it.each([
    [{ id: "node-3", port: 1 }, "node-3 192.168.1.4:1"],
    [{ id: "i-0003", port: 1 }, "node-3 192.168.1.4:1"],
    [{ id: "x", node: "node-1", port: 2 }, "node-1 192.168.1.2:2"],
    [{ id: "192.168.1.3", port: 3 }, "node-2 192.168.1.3:3"],
    [{ id: "i-unknown", port: 4 }, "i-unknown:4"],
  ])("%o -> %s", (target, text) => {
    expect(describeTarget(target, nodes)).toBe(text);
  });
});
