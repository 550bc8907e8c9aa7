import { describe, expect, it } from "vitest";
import type {
  LoadBalancerSpec,
  NodeSpec,
  ObservedListener,
  ObservedLoadBalancer,
  ValidationIssue,
} from "../../../providers/index.ts";
import { formatIngress, nodeIdentities, planService } from "../../../src/plan/diff.ts";
import type { PlanInput, PlannedChange } from "../../../src/plan/types.ts";

const ref = { clusterName: "demo", service: { namespace: "default", name: "myapp-service", uid: "u-1" } };
const ingress = [{ hostname: "lb-1.example.test" }];

function node(index: number, providerID?: string): NodeSpec {
  return {
    name: `node-${index}`,
    addresses: [{ type: "InternalIP", address: `192.168.1.${index + 1}` }],
    labels: {},
    ...(providerID === undefined ? {} : { providerID }),
  };
}

const seedNodes = [node(1), node(2), node(3)];

function spec(tweak: Partial<LoadBalancerSpec> = {}): LoadBalancerSpec {
  return {
    ...ref,
    listeners: [{ name: "", port: 80, protocol: "TCP", nodePort: 30008 }],
    nodes: seedNodes,
    healthCheck: { kind: "traffic-port", protocol: "TCP" },
    externalTrafficPolicy: "Cluster",
    sourceRanges: [],
    annotations: {},
    ...tweak,
  };
}

function listener(tweak: Partial<ObservedListener> = {}): ObservedListener {
  return {
    port: 80,
    protocol: "TCP",
    targetPort: 30008,
    targets: seedNodes.map((n) => ({ id: n.name, port: 30008 })),
    healthCheck: { protocol: "TCP", port: "traffic-port" },
    ...tweak,
  };
}

function observed(tweak: Partial<ObservedLoadBalancer> = {}): ObservedLoadBalancer {
  return { ref, status: { ingress }, listeners: [listener()], ...tweak };
}

function input(tweak: Partial<PlanInput> = {}): PlanInput {
  return {
    service: "default/myapp-service",
    desired: spec(),
    observed: observed(),
    publishedIngress: ingress,
    ...tweak,
  };
}

const summary = (changes: readonly PlannedChange[]) =>
  changes.map((c) => `${c.action} ${c.subject} ${c.name}${c.from || c.to ? ` ${c.from ?? ""}->${c.to ?? ""}` : ""}`);

describe("planService", () => {
  it.each<{ case: string; input: PlanInput; action: string; changes: string[] }>([
    { case: "converged", input: input(), action: "none", changes: [] },
    {
      case: "built by another controller, to be adopted: its own kind of change, first, keeping the address",
      input: input({ observed: observed({ adoptFrom: "the legacy AWS cloud provider" }) }),
      action: "adopt",
      changes: [
        "adopt load-balancer default/myapp-service built by the legacy AWS cloud provider->kept at lb-1.example.test",
      ],
    },
    {
      case: "to be adopted, and the Service wants more than it has",
      input: input({
        desired: spec({ nodes: [...seedNodes, node(4)] }),
        observed: observed({ adoptFrom: "the legacy AWS cloud provider" }),
      }),
      action: "adopt",
      changes: [
        "adopt load-balancer default/myapp-service built by the legacy AWS cloud provider->kept at lb-1.example.test",
        "create target node-4:30008",
      ],
    },
    {
      case: "converged, targets reported by instance id and mapped back to nodes",
      input: input({
        desired: spec({ nodes: [node(1, "aws:///us-east-1a/i-0aaa")] }),
        observed: observed({ listeners: [listener({ targets: [{ id: "i-0aaa", port: 30008 }] })] }),
      }),
      action: "none",
      changes: [],
    },
    {
      case: "converged, targets reported by IP",
      input: input({
        observed: observed({
          listeners: [
            listener({ targets: seedNodes.map((n) => ({ id: n.addresses[0]?.address ?? "", port: 30008 })) }),
          ],
        }),
      }),
      action: "none",
      changes: [],
    },
    {
      case: "converged, provider reports no health check, ranges or status details",
      input: input({
        observed: observed({
          listeners: [{ port: 80, protocol: "TCP", targetPort: 30008, targets: listener().targets }],
        }),
      }),
      action: "none",
      changes: [],
    },
    {
      case: "nothing exists yet",
      input: input({ observed: undefined, publishedIngress: [] }),
      action: "create",
      changes: [
        "create load-balancer default/myapp-service ->1 listener, 3 nodes",
        "create listener 80/TCP ->forward to nodePort 30008",
        "create target-group 80/TCP ->TCP:30008, health TCP traffic-port",
        "create target node-1:30008",
        "create target node-2:30008",
        "create target node-3:30008",
        "create status ingress ->the new load balancer's address",
      ],
    },
    {
      case: "deleted out of band while the Service still shows the old address",
      input: input({ observed: undefined, desired: spec({ nodes: [node(1)] }) }),
      action: "create",
      changes: [
        "create load-balancer default/myapp-service ->1 listener, 1 node",
        "create listener 80/TCP ->forward to nodePort 30008",
        "create target-group 80/TCP ->TCP:30008, health TCP traffic-port",
        "create target node-1:30008",
        "update status ingress lb-1.example.test->the new load balancer's address",
      ],
    },
    {
      case: "a fourth node joins",
      input: input({ desired: spec({ nodes: [...seedNodes, node(4)] }) }),
      action: "update",
      changes: ["create target node-4:30008"],
    },
    {
      case: "a node leaves",
      input: input({ desired: spec({ nodes: [node(1), node(3)] }) }),
      action: "update",
      changes: ["delete target node-2:30008"],
    },
    {
      case: "the observed target was mapped to another node",
      input: input({
        desired: spec({ nodes: [node(1)] }),
        observed: observed({ listeners: [listener({ targets: [{ id: "node-1", node: "node-9", port: 30008 }] })] }),
      }),
      action: "update",
      changes: ["delete target node-9:30008", "create target node-1:30008"],
    },
    {
      case: "the nodePort changed",
      input: input({ desired: spec({ listeners: [{ name: "", port: 80, protocol: "TCP", nodePort: 30009 }] }) }),
      action: "update",
      changes: [
        "update target-group 80/TCP nodePort 30008->nodePort 30009",
        "delete target node-1:30008",
        "delete target node-2:30008",
        "delete target node-3:30008",
        "create target node-1:30009",
        "create target node-2:30009",
        "create target node-3:30009",
      ],
    },
    {
      case: "the Service port changed",
      input: input({
        desired: spec({ nodes: [node(1)], listeners: [{ name: "", port: 8080, protocol: "TCP", nodePort: 30008 }] }),
        observed: observed({ listeners: [listener({ targets: [{ id: "node-1", port: 30008 }] })] }),
      }),
      action: "update",
      changes: [
        "create listener 8080/TCP ->forward to nodePort 30008",
        "create target-group 8080/TCP ->TCP:30008, health TCP traffic-port",
        "create target node-1:30008",
        "delete listener 80/TCP forward to nodePort 30008->",
        "delete target-group 80/TCP 1 target on 30008->",
      ],
    },
    {
      case: "externalTrafficPolicy switched to Local",
      input: input({
        desired: spec({
          externalTrafficPolicy: "Local",
          healthCheck: { kind: "http", protocol: "HTTP", port: 32000, path: "/healthz" },
        }),
      }),
      action: "update",
      changes: ["update health-check 80/TCP TCP traffic-port->HTTP:32000/healthz"],
    },
    {
      case: "HTTP health check converged",
      input: input({
        desired: spec({ healthCheck: { kind: "http", protocol: "HTTP", port: 32000, path: "/healthz" } }),
        observed: observed({
          listeners: [listener({ healthCheck: { protocol: "HTTP", port: 32000, path: "/healthz" } })],
        }),
      }),
      action: "none",
      changes: [],
    },
    {
      case: "source ranges narrowed",
      input: input({ desired: spec({ sourceRanges: ["10.0.0.0/8"] }), observed: observed({ sourceRanges: [] }) }),
      action: "update",
      changes: ["update source-ranges sourceRanges any->10.0.0.0/8"],
    },
    {
      case: "allow-all reported as CIDRs",
      input: input({ observed: observed({ sourceRanges: ["0.0.0.0/0", "::/0"] }) }),
      action: "none",
      changes: [],
    },
    {
      case: "status not yet published",
      input: input({ publishedIngress: [] }),
      action: "update",
      changes: ["create status ingress ->lb-1.example.test"],
    },
    {
      case: "status carries extra fields the controller ignores, in another order",
      input: input({
        observed: observed({ status: { ingress: [{ ip: "10.0.0.2" }, { hostname: "a.test" }] } }),
        publishedIngress: [{ hostname: "a.test" }, { ip: "10.0.0.2", ipMode: "VIP" } as never],
      }),
      action: "none",
      changes: [],
    },
    {
      case: "same addresses, but the controller would still re-patch the status (e.g. a foreign ipMode)",
      input: input({ statusInSync: false }),
      action: "update",
      changes: ["update status ingress lb-1.example.test->lb-1.example.test"],
    },
    {
      case: "the controller's own judgement wins over the address comparison",
      input: input({ publishedIngress: [], statusInSync: true }),
      action: "none",
      changes: [],
    },
    {
      case: "the Service no longer wants a load balancer",
      input: input({ desired: undefined }),
      action: "delete",
      changes: [
        "delete load-balancer default/myapp-service lb-1.example.test->",
        "delete listener 80/TCP forward to nodePort 30008->",
        "delete target-group 80/TCP 3 targets on 30008->",
        "delete status ingress lb-1.example.test->",
      ],
    },
    {
      case: "cleaned up in the cloud but the status was left behind",
      input: input({ desired: undefined, observed: undefined }),
      action: "update",
      changes: ["delete status ingress lb-1.example.test->"],
    },
    {
      case: "nothing wanted, nothing there",
      input: input({ desired: undefined, observed: undefined, publishedIngress: [] }),
      action: "none",
      changes: [],
    },
    {
      case: "TCP and UDP on one port, carried by one TCP_UDP listener",
      input: input({
        desired: spec({
          listeners: [
            { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30053 },
            { name: "dns-udp", port: 53, protocol: "UDP", nodePort: 30053 },
          ],
        }),
        observed: observed({
          listeners: [
            listener({
              port: 53,
              protocol: "TCP_UDP",
              targetPort: 30053,
              targets: [{ id: "node-1", port: 30053 }],
            }),
          ],
        }),
      }),
      action: "update",
      changes: ["create target node-2:30053", "create target node-3:30053"],
    },
    {
      case: "a leftover target group is removed",
      input: input({
        observed: observed({ leftovers: [{ kind: "target-group", id: "tg-old", targetPort: 30007, protocol: "TCP" }] }),
      }),
      action: "update",
      changes: ["delete leftover target-group tg-old TCP:30007, no listener forwards to it->"],
    },
    {
      case: "a leftover target group that the new nodePort's listener takes into use is not removed",
      input: input({
        desired: spec({ listeners: [{ name: "", port: 80, protocol: "TCP", nodePort: 30009 }] }),
        observed: observed({
          leftovers: [{ kind: "target-group", id: "tg-next", targetPort: 30009, protocol: "TCP" }],
        }),
      }),
      action: "update",
      changes: [
        "update target-group 80/TCP nodePort 30008->nodePort 30009",
        "delete target node-1:30008",
        "delete target node-2:30008",
        "delete target node-3:30008",
        "create target node-1:30009",
        "create target node-2:30009",
        "create target node-3:30009",
      ],
    },
    {
      case: "a cleanup removes the leftovers with the load balancer",
      input: input({
        desired: undefined,
        observed: observed({ leftovers: [{ kind: "security-group", id: "sg-1" }] }),
        publishedIngress: [],
      }),
      action: "delete",
      changes: [
        "delete load-balancer default/myapp-service lb-1.example.test->",
        "delete listener 80/TCP forward to nodePort 30008->",
        "delete target-group 80/TCP 3 targets on 30008->",
        "delete leftover security-group sg-1 not in use->",
      ],
    },
  ])("$case", ({ input: given, action, changes }) => {
    const plan = planService(given);
    expect(plan.action).toBe(action);
    expect(summary(plan.changes)).toEqual(changes);
  });

  it("an invalid spec plans no changes and carries the issues", () => {
    const issues: ValidationIssue[] = [
      { field: "spec.ports[0].protocol", message: "SCTP is not supported; use TCP or UDP.", severity: "error" },
    ];
    const plan = planService(input({ observed: undefined, issues }));
    expect(plan).toEqual({ service: "default/myapp-service", action: "invalid", changes: [], issues });
  });

  it("warnings do not stop the plan", () => {
    const issues: ValidationIssue[] = [{ field: "metadata.annotations[x]", message: "ignored", severity: "warning" }];
    const plan = planService(input({ issues, desired: spec({ nodes: [...seedNodes, node(4)] }) }));
    expect(plan.action).toBe("update");
    expect(plan.issues).toEqual(issues);
  });

  it("never mutates its input", () => {
    const given = input({ desired: spec({ nodes: [node(4)] }) });
    const copy = structuredClone(given);
    planService(given);
    expect(given).toEqual(copy);
  });
});

describe("helpers", () => {
  it("a node is known by its name, addresses and instance id", () => {
    expect(nodeIdentities(node(1, "aws:///us-east-1a/i-0abc"))).toEqual(["node-1", "192.168.1.2", "i-0abc"]);
    expect(nodeIdentities(node(2))).toEqual(["node-2", "192.168.1.3"]);
  });

  it("formats addresses independently of order", () => {
    expect(formatIngress([{ ip: "10.0.0.9" }, { hostname: "b.test", ip: "10.0.0.1" }])).toBe(
      "10.0.0.9, b.test/10.0.0.1",
    );
    expect(formatIngress([])).toBe("");
  });
});
