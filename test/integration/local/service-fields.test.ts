/**
 * The local provider and the Service fields that came after version 1's first release, with real
 * sockets on loopback: IP families (an address per family, targets on the primary family's node
 * addresses), `ipMode: Proxy`, ClientIP session affinity and `spec.loadBalancerIP`. And the conformance
 * cases about them with a pool that holds IPv6 (`::1`, the one IPv6 loopback address).
 */
import { afterEach, describe, expect, it } from "vitest";
import { conformanceSpec, listener, runConformanceCases } from "../../../providers/conformance/index.ts";
import { providerErrorKind } from "../../../providers/errors.ts";
import createLocalProvider, { LocalProvider, parseLocalSettings } from "../../../providers/local/index.ts";
import type { LoadBalancerSpec, NodeSpec } from "../../../providers/types.ts";
import { waitFor } from "../../harness/index.ts";
import { canBindPrivilegedPorts, httpGet, loopbackNode, type NodeStandIn, spread, startStandIn } from "./loopback.ts";

// Addresses of this file: nodes on 127.0.106.x (and ::1), the pool 127.106.0.0/16 and ::1, clients
// on 127.0.107.x.
const NODE_PORT = 30116;
const privileged = await canBindPrivilegedPorts();
const PORT = 8086;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newProvider(addresses = "127.106.0.0/16, ::1"): LocalProvider {
  const provider = createLocalProvider({
    clusterName: "service-fields",
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    settings: { addresses, healthCheckIntervalSeconds: "0.1", healthyThreshold: "1", unhealthyThreshold: "1" },
  }) as LocalProvider;
  cleanups.push(() => provider.close());
  return provider;
}

async function standIn(name: string, address: string): Promise<NodeStandIn> {
  const started = await startStandIn(name, address, NODE_PORT);
  cleanups.push(() => started.stop());
  return started;
}

async function ipv4Nodes(count: number): Promise<NodeSpec[]> {
  const started = await Promise.all(
    Array.from({ length: count }, (_, i) => standIn(`node-${i + 1}`, `127.0.106.${i + 2}`)),
  );
  return started.map((s) => loopbackNode(s.name, s.address));
}

function specOf(nodes: readonly NodeSpec[], extra: Partial<Parameters<typeof conformanceSpec>[0]> = {}) {
  return conformanceSpec({
    clusterName: "service-fields",
    name: "web",
    listeners: [listener(PORT, NODE_PORT)],
    nodes,
    ...extra,
  });
}

function waitHealthy(provider: LocalProvider, spec: LoadBalancerSpec) {
  return waitFor(
    async () => {
      const targets = (await provider.getLoadBalancer(spec))?.listeners[0]?.targets ?? [];
      return targets.length === spec.nodes.length && targets.every((t) => t.health === "healthy");
    },
    { description: "every target healthy", timeoutMs: 10_000, intervalMs: 25 },
  );
}

describe("local provider: IP families", () => {
  it("declares the families of its pool", () => {
    expect(newProvider().capabilities.ipFamilies).toEqual(["IPv4", "IPv6"]);
    expect(newProvider("127.106.0.0/16").capabilities.ipFamilies).toEqual(["IPv4"]);
  });

  it("gives a dual-stack Service an address of each family, both published as Proxy and both serving", async () => {
    const provider = newProvider();
    const nodes = await ipv4Nodes(2);
    const spec = specOf(nodes, { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" });
    const status = await provider.ensureLoadBalancer(spec);
    expect(status.ingress).toEqual([
      { ip: expect.stringMatching(/^127\.106\./), ipMode: "Proxy" },
      { ip: "::1", ipMode: "Proxy" },
    ]);
    expect((await provider.getLoadBalancer(spec))?.ipFamilies).toEqual(["IPv4", "IPv6"]);
    await waitHealthy(provider, spec);
    const [ipv4, ipv6] = status.ingress.map((entry) => entry.ip as string);
    // The primary family is IPv4, so both addresses forward to the nodes' IPv4 addresses.
    expect(await spread(ipv4 as string, PORT, 2)).toEqual({ "node-1": 1, "node-2": 1 });
    expect(await spread(ipv6 as string, PORT, 2)).toEqual({ "node-1": 1, "node-2": 1 });

    // Back to IPv4: the IPv6 address stops serving, the IPv4 one stays.
    const single = specOf(nodes, { ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack" });
    expect((await provider.ensureLoadBalancer(single)).ingress).toEqual([{ ip: ipv4, ipMode: "Proxy" }]);
    await expect(httpGet("::1", PORT)).rejects.toThrow(/ECONNREFUSED/);
    expect(await httpGet(ipv4 as string, PORT)).toMatch(/^node-/);
  });

  it("targets the nodes' IPv6 addresses for an IPv6 Service", async () => {
    const provider = newProvider();
    const v6 = await standIn("node-v6", "::1");
    const node: NodeSpec = {
      name: "node-v6",
      addresses: [
        { type: "InternalIP", address: "127.0.106.40" },
        { type: "InternalIP", address: v6.address },
      ],
      labels: {},
    };
    const spec = specOf([node], { ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" });
    expect((await provider.ensureLoadBalancer(spec)).ingress).toEqual([{ ip: "::1", ipMode: "Proxy" }]);
    expect((await provider.getLoadBalancer(spec))?.listeners[0]?.targets.map((t) => t.id)).toEqual(["::1"]);
    await waitHealthy(provider, spec);
    expect(await httpGet("::1", PORT)).toBe("node-v6");
  });

  it("refuses an IPv6 Service with an IPv4-only pool, before binding anything", async () => {
    const provider = newProvider("127.106.0.0/16");
    const spec = specOf(await ipv4Nodes(1), { ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" });
    const error = await provider.ensureLoadBalancer(spec).catch((e: unknown) => e);
    expect(providerErrorKind(error)).toBe("invalid-configuration");
    expect((error as { field?: string }).field).toBe("spec.ipFamilies");
    expect(await provider.getLoadBalancer(spec)).toBeUndefined();
  });
});

describe("local provider: ClientIP session affinity", () => {
  it("sends every connection of one client to one node, and spreads again once it is turned off", async () => {
    const provider = newProvider("127.106.0.0/16");
    const nodes = await ipv4Nodes(3);
    const sticky = specOf(nodes, { sessionAffinity: { type: "ClientIP", timeoutSeconds: 60 } });
    const ip = (await provider.ensureLoadBalancer(sticky)).ingress[0]?.ip as string;
    await waitHealthy(provider, sticky);
    const one = await spread(ip, PORT, 6, { localAddress: "127.0.107.1" });
    expect(Object.values(one), "one client, one node").toEqual([6]);
    const other = await spread(ip, PORT, 6, { localAddress: "127.0.107.2" });
    expect(Object.values(other), "another client is pinned too").toEqual([6]);
    expect((await provider.getLoadBalancer(sticky))?.sessionAffinity).toEqual({ type: "ClientIP", timeoutSeconds: 60 });

    await provider.ensureLoadBalancer(specOf(nodes));
    expect(await spread(ip, PORT, 6, { localAddress: "127.0.107.1" })).toEqual({
      "node-1": 2,
      "node-2": 2,
      "node-3": 2,
    });
  });

  it("moves a pinned client when its node becomes unhealthy", async () => {
    const provider = newProvider("127.106.0.0/16");
    const nodes = await ipv4Nodes(2);
    const spec = specOf(nodes, { sessionAffinity: { type: "ClientIP", timeoutSeconds: 60 } });
    const ip = (await provider.ensureLoadBalancer(spec)).ingress[0]?.ip as string;
    await waitHealthy(provider, spec);
    const first = await httpGet(ip, PORT, { localAddress: "127.0.107.3" });
    const affinity = { type: "ClientIP", timeoutSeconds: 60 } as const;
    await provider.ensureLoadBalancer(
      specOf(
        nodes.filter((n) => n.name !== first),
        { sessionAffinity: affinity },
      ),
    );
    const moved = await httpGet(ip, PORT, { localAddress: "127.0.107.3" });
    expect(moved).not.toBe(first);
    expect(await spread(ip, PORT, 3, { localAddress: "127.0.107.3" })).toEqual({ [moved]: 3 });
  });
});

describe("local provider: spec.loadBalancerIP", () => {
  it("takes the address asked for from the pool, moves to another one asked for, and refuses one another Service holds", async () => {
    const provider = newProvider("127.106.0.0/16");
    const nodes = await ipv4Nodes(1);
    const asked = specOf(nodes, { loadBalancerIP: "127.106.9.9" });
    expect((await provider.ensureLoadBalancer(asked)).ingress).toEqual([{ ip: "127.106.9.9", ipMode: "Proxy" }]);
    await waitHealthy(provider, asked);
    expect(await httpGet("127.106.9.9", PORT)).toBe("node-1");

    const moved = specOf(nodes, { loadBalancerIP: "127.106.9.10" });
    expect((await provider.ensureLoadBalancer(moved)).ingress).toEqual([{ ip: "127.106.9.10", ipMode: "Proxy" }]);
    await expect(httpGet("127.106.9.9", PORT)).rejects.toThrow(/ECONNREFUSED/);

    const rival = specOf(nodes, { name: "rival", loadBalancerIP: "127.106.9.10" });
    const error = await provider.ensureLoadBalancer(rival).catch((e: unknown) => e);
    expect(providerErrorKind(error)).toBe("conflict");
    expect(String(error)).toContain(
      "spec.loadBalancerIP: 127.106.9.10 is held by the load balancer of lbp-conformance/web",
    );
    expect(await provider.getLoadBalancer(rival)).toBeUndefined();
    // The holder keeps its address when a Service asks to move onto a taken one.
    const onto = specOf(nodes, { name: "rival", loadBalancerIP: "127.106.9.11" });
    await provider.ensureLoadBalancer(onto);
    const refused = await provider.ensureLoadBalancer({ ...asked, loadBalancerIP: "127.106.9.11" }).catch((e) => e);
    expect(providerErrorKind(refused)).toBe("conflict");
    expect(await httpGet("127.106.9.10", PORT)).toBe("node-1");
  });
});

describe("local provider conformance with IPv6 in the pool", () => {
  // The cases listen on port 80, as real Services do; without the privilege the provider rightly refuses.
  it.skipIf(!privileged)("passes the cases of the fields that came later", async () => {
    const settings = parseLocalSettings({ addresses: "127.108.0.0/16, ::1", healthCheckIntervalSeconds: "0.2" });
    const outcomes = await runConformanceCases(
      {
        name: "local with ::1",
        create: ({ onCall }) => ({
          provider: new LocalProvider({ settings, onCall }),
          nodes: [1, 2, 3, 4, 5].map((i) => ({
            ...loopbackNode(`node-${i}`, `127.0.108.${i + 1}`),
            addresses: [
              { type: "InternalIP", address: `127.0.108.${i + 1}` },
              // Not on this machine: probes fail, and no case sends traffic.
              { type: "InternalIP", address: `fd00:108::${i + 1}` },
            ],
          })),
        }),
        loadBalancerIP: "127.108.7.7",
      },
      ["ip-families", "session-affinity", "load-balancer-ip"],
    );
    expect(outcomes).toEqual([
      { name: "ip-families", status: "passed" },
      { name: "session-affinity", status: "passed" },
      { name: "load-balancer-ip", status: "passed" },
    ]);
  });
});
