/**
 * The local provider's data plane with real sockets on loopback: round robin, node changes with
 * draining, health checks (TCP and HTTP /healthz, fail open), half-close, backpressure, UDP flows,
 * TCP+UDP on one port, source ranges, all-or-nothing binds, stable addresses and metrics.
 */
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { connect, createServer as createTcpServer, type Server, type Socket } from "node:net";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { conformanceSpec, listener } from "../../../providers/conformance/index.ts";
import { providerErrorKind } from "../../../providers/errors.ts";
import createLocalProvider, { LocalProvider, parseLocalSettings } from "../../../providers/local/index.ts";
import type { LoadBalancerSpec, NodeSpec } from "../../../providers/types.ts";
import { waitFor } from "../../harness/index.ts";
import { httpGet, loopbackNode, type NodeStandIn, spread, startStandIn } from "./loopback.ts";

// Addresses of this file: nodes on 127.0.104.x, the pool 127.104.0.0/16, clients on 127.0.105.x.
const NODE_PORT = 30108;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newProvider(settings: Record<string, string> = {}, registry?: Registry): LocalProvider {
  const provider = createLocalProvider({
    clusterName: "data-plane",
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    settings: {
      addresses: "127.104.0.0/16",
      healthCheckIntervalSeconds: "0.1",
      healthyThreshold: "1",
      unhealthyThreshold: "1",
      deregistrationDelaySeconds: "0.5",
      ...settings,
    },
    ...(registry === undefined ? {} : { metricsRegistry: registry }),
  }) as LocalProvider;
  cleanups.push(() => provider.close());
  return provider;
}

async function standIns(count: number, port = NODE_PORT): Promise<NodeStandIn[]> {
  const started = await Promise.all(
    Array.from({ length: count }, (_, i) => startStandIn(`node-${i + 1}`, `127.0.104.${i + 2}`, port)),
  );
  for (const standIn of started) cleanups.push(() => standIn.stop());
  return started;
}

const nodesOf = (standIns: readonly NodeStandIn[]): NodeSpec[] => standIns.map((s) => loopbackNode(s.name, s.address));

function specOf(nodes: readonly NodeSpec[], extra: Partial<Parameters<typeof conformanceSpec>[0]> = {}) {
  return conformanceSpec({
    clusterName: "data-plane",
    name: "web",
    listeners: [listener(8080, NODE_PORT)],
    nodes,
    ...extra,
  });
}

async function ensure(provider: LocalProvider, spec: LoadBalancerSpec): Promise<string> {
  const status = await provider.ensureLoadBalancer(spec);
  const ip = status.ingress[0]?.ip;
  if (ip === undefined) throw new Error("no ip in status");
  return ip;
}

async function healthOf(provider: LocalProvider, spec: LoadBalancerSpec): Promise<Record<string, string>> {
  const observed = await provider.getLoadBalancer(spec);
  return Object.fromEntries((observed?.listeners[0]?.targets ?? []).map((t) => [t.node, t.health ?? "?"]));
}

function waitForHealth(provider: LocalProvider, spec: LoadBalancerSpec, wanted: Record<string, string>) {
  return waitFor(async () => JSON.stringify(await healthOf(provider, spec)) === JSON.stringify(wanted), {
    description: `target health ${JSON.stringify(wanted)}`,
    timeoutMs: 10_000,
    intervalMs: 25,
  });
}

describe("local data plane: TCP", () => {
  it("spreads requests round robin over the healthy nodes, follows node changes, and moves off a stopped node", async () => {
    const nodes = await standIns(4);
    const provider = newProvider();
    const three = specOf(nodesOf(nodes.slice(0, 3)));
    const ip = await ensure(provider, three);
    expect(ip).toMatch(/^127\.104\./);
    await waitForHealth(provider, three, { "node-1": "healthy", "node-2": "healthy", "node-3": "healthy" });
    expect(await spread(ip, 8080, 9)).toEqual({ "node-1": 3, "node-2": 3, "node-3": 3 });

    const four = specOf(nodesOf(nodes));
    expect(await ensure(provider, four), "a node change keeps the address").toBe(ip);
    await waitForHealth(provider, four, {
      "node-1": "healthy",
      "node-2": "healthy",
      "node-3": "healthy",
      "node-4": "healthy",
    });
    expect(await spread(ip, 8080, 8)).toEqual({ "node-1": 2, "node-2": 2, "node-3": 2, "node-4": 2 });

    await nodes[1]?.stop();
    await waitForHealth(provider, four, {
      "node-1": "healthy",
      "node-2": "unhealthy",
      "node-3": "healthy",
      "node-4": "healthy",
    });
    expect(await spread(ip, 8080, 6)).toEqual({ "node-1": 2, "node-3": 2, "node-4": 2 });

    await provider.ensureLoadBalancerDeleted(four);
    await expect(httpGet(ip, 8080)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("fails open to every node when none is healthy, and tries the next node when one refuses", async () => {
    const nodes = await standIns(2);
    const provider = newProvider({ unhealthyThreshold: "1" });
    // node-9 has no stand-in: its connections are refused, and the proxy moves on to node-1 or node-2.
    const spec = specOf([...nodesOf(nodes), loopbackNode("node-9", "127.0.104.60")], {
      externalTrafficPolicy: "Local",
      healthCheck: { kind: "http", protocol: "HTTP", port: NODE_PORT, path: "/healthz" },
    });
    for (const node of nodes) node.healthz = 503;
    const ip = await ensure(provider, spec);
    await waitForHealth(provider, spec, { "node-1": "unhealthy", "node-2": "unhealthy", "node-9": "unhealthy" });
    // Round robin over all three; node-9's turns go to the next node in line.
    const tally = await spread(ip, 8080, 6);
    expect(Object.keys(tally).sort(), "all unhealthy: every live node takes traffic").toEqual(["node-1", "node-2"]);
    expect((tally["node-1"] ?? 0) + (tally["node-2"] ?? 0), "no request fails on the refusing node").toBe(6);
  });

  it("sends to a node only while its /healthz answers 200 (externalTrafficPolicy Local)", async () => {
    const nodes = await standIns(3);
    const provider = newProvider();
    const spec = specOf(nodesOf(nodes), {
      externalTrafficPolicy: "Local",
      healthCheck: { kind: "http", protocol: "HTTP", port: NODE_PORT, path: "/healthz" },
    });
    (nodes[0] as NodeStandIn).healthz = 503;
    const ip = await ensure(provider, spec);
    await waitForHealth(provider, spec, { "node-1": "unhealthy", "node-2": "healthy", "node-3": "healthy" });
    expect(await spread(ip, 8080, 6)).toEqual({ "node-2": 3, "node-3": 3 });
    const observed = await provider.getLoadBalancer(spec);
    expect(observed?.listeners[0]?.healthCheck).toEqual({ protocol: "HTTP", port: NODE_PORT, path: "/healthz" });
  });

  it("lets a removed node's open connection finish, then cuts it after the deregistration delay", async () => {
    const holder = await holdingServer("127.0.104.30");
    const provider = newProvider({ deregistrationDelaySeconds: "0.6" });
    const spec = specOf([loopbackNode("node-hold", "127.0.104.30")]);
    const ip = await ensure(provider, spec);
    const client = connect({ host: ip, port: 8080 });
    cleanups.push(() => client.destroy());
    await once(holder.server, "connection");
    const echoed = once(client, "data");
    client.write("ping");
    expect(String((await echoed)[0])).toBe("ping");

    await ensure(provider, specOf([]));
    expect((await provider.getLoadBalancer(spec))?.listeners[0]?.targets, "no longer registered").toEqual([]);
    // Still draining: the held connection keeps working...
    const again = once(client, "data");
    client.write("pong");
    expect(String((await again)[0])).toBe("pong");
    // ...until the delay is over.
    const started = Date.now();
    await once(client, "close");
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(httpGet(ip, 8080), "no target left: new connections are reset").rejects.toThrow(
      /ECONNRESET|socket hang up/,
    );
  });

  it("passes half-closes through: the client finishes sending and still reads the whole answer", async () => {
    // A target that reads until the client's FIN, then answers with what it got and closes.
    const server = createTcpServer({ allowHalfOpen: true }, (socket) => {
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("end", () => socket.end(`got ${Buffer.concat(chunks).length} bytes`));
    });
    await listen(server, "127.0.104.31", NODE_PORT);
    const provider = newProvider();
    const ip = await ensure(provider, specOf([loopbackNode("node-half", "127.0.104.31")]));
    const client = connect({ host: ip, port: 8080, allowHalfOpen: true });
    cleanups.push(() => client.destroy());
    await once(client, "connect");
    client.end(Buffer.alloc(100_000, 7));
    const answer: Buffer[] = [];
    client.on("data", (chunk: Buffer) => answer.push(chunk));
    await once(client, "end");
    expect(Buffer.concat(answer).toString()).toBe("got 100000 bytes");
  });

  it("keeps backpressure: a target that stops reading stops the proxy reading from the client", async () => {
    let paused: Socket | undefined;
    const server = createTcpServer((socket) => {
      socket.pause();
      paused = socket;
    });
    await listen(server, "127.0.104.32", NODE_PORT);
    const registry = new Registry();
    const provider = newProvider({}, registry);
    const ip = await ensure(provider, specOf([loopbackNode("node-slow", "127.0.104.32")]));
    const client = connect({ host: ip, port: 8080 });
    cleanups.push(() => client.destroy());
    await once(client, "connect");
    await waitFor(() => paused !== undefined, { description: "the target accepted", intervalMs: 10 });
    // Offer 64 MiB; with backpressure only what fits in the socket buffers on the way ever leaves it.
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < 64; i++) client.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const bytesIn = await metricValue(registry, "lbp_local_bytes_total", { direction: "in" });
    expect(bytesIn).toBeGreaterThan(0);
    expect(bytesIn, "the proxy must not read (and buffer) what the target does not take").toBeLessThan(32 << 20);
    expect(client.writableLength, "the rest waits in the client").toBeGreaterThan(16 << 20);
  });
});

describe("local data plane: UDP", () => {
  it("keeps a flow per client on one node, spreads new clients, and forgets idle flows", async () => {
    await Promise.all(["127.0.104.40", "127.0.104.41"].map((address, i) => udpEcho(address, `node-${i + 1}`)));
    const registry = new Registry();
    const provider = newProvider({ udpIdleTimeoutSeconds: "1" }, registry);
    const spec = specOf([loopbackNode("node-1", "127.0.104.40"), loopbackNode("node-2", "127.0.104.41")], {
      listeners: [listener(5353, NODE_PORT, "UDP")],
    });
    const ip = await ensure(provider, spec);
    const first = await udpClient();
    const second = await udpClient();
    const nodeOf = (answer: string) => answer.split(":")[0];
    const first1 = await first.ask(ip, 5353, "a");
    const first2 = await first.ask(ip, 5353, "b");
    expect([first1.split(":")[1], first2.split(":")[1]], "each datagram is answered").toEqual(["a", "b"]);
    expect(nodeOf(first2), "one client stays on one node").toBe(nodeOf(first1));
    const second1 = await second.ask(ip, 5353, "c");
    expect(nodeOf(second1), "the next client goes to the next node").not.toBe(nodeOf(first1));
    expect(await metricValue(registry, "lbp_local_connections_active", {})).toBe(2);
    await waitFor(async () => (await metricValue(registry, "lbp_local_connections_active", {})) === 0, {
      description: "idle flows forgotten",
      timeoutMs: 5_000,
    });
  });

  it("serves TCP and UDP on one port number", async () => {
    await udpEcho("127.0.104.50", "node-1");
    await startStandIn("node-1", "127.0.104.50", NODE_PORT).then((s) => cleanups.push(() => s.stop()));
    const provider = newProvider();
    const spec = specOf([loopbackNode("node-1", "127.0.104.50")], {
      listeners: [listener(8053, NODE_PORT, "TCP", "dns-tcp"), listener(8053, NODE_PORT, "UDP", "dns")],
    });
    const ip = await ensure(provider, spec);
    expect(await httpGet(ip, 8053)).toBe("node-1");
    const client = await udpClient();
    expect(await client.ask(ip, 8053, "q")).toBe("node-1:q");
    expect((await provider.getLoadBalancer(spec))?.listeners.map((l) => `${l.port}/${l.protocol}`)).toEqual([
      "8053/TCP",
      "8053/UDP",
    ]);
  });
});

describe("local data plane: source ranges", () => {
  it("resets TCP connections and drops datagrams from outside loadBalancerSourceRanges", async () => {
    await standIns(1);
    await udpEcho("127.0.104.2", "node-1");
    const registry = new Registry();
    const provider = newProvider({}, registry);
    const spec = specOf(nodesOf([{ name: "node-1", address: "127.0.104.2" } as NodeStandIn]), {
      listeners: [listener(8080, NODE_PORT), listener(8080, NODE_PORT, "UDP", "udp")],
      sourceRanges: ["127.0.105.0/28"],
    });
    const ip = await ensure(provider, spec);
    expect(await httpGet(ip, 8080, { localAddress: "127.0.105.5" })).toBe("node-1");
    await expect(httpGet(ip, 8080, { localAddress: "127.0.105.99" })).rejects.toThrow(/ECONNRESET|socket hang up/);
    const outside = await udpClient("127.0.105.99");
    await expect(outside.ask(ip, 8080, "x", 300)).rejects.toThrow(/no answer/);
    const inside = await udpClient("127.0.105.6");
    expect(await inside.ask(ip, 8080, "y")).toBe("node-1:y");
    expect(await metricValue(registry, "lbp_local_rejected_connections_total", { reason: "source_range" })).toBe(2);

    await ensure(provider, specOf(nodesOf([{ name: "node-1", address: "127.0.104.2" } as NodeStandIn])));
    expect(await httpGet(ip, 8080, { localAddress: "127.0.105.99" }), "ranges removed: open to all").toBe("node-1");
  });
});

describe("local provider: binding", () => {
  it("leaves nothing when a port is in use by another program, and reports a conflict naming the port", async () => {
    const provider = newProvider({ addresses: "127.0.106.1" });
    const squatter = createTcpServer();
    await listen(squatter, "127.0.106.1", 8443);
    const spec = specOf([], { listeners: [listener(8080, NODE_PORT), listener(8443, 30443)] });
    const error = await provider.ensureLoadBalancer(spec).catch((e: unknown) => e);
    expect(providerErrorKind(error)).toBe("conflict");
    expect(String((error as Error).message)).toMatch(/^spec\.ports\[1\]\.port: 127\.0\.106\.1:8443\/TCP is in use/);
    expect(await provider.getLoadBalancer(spec), "all or nothing: no half-built load balancer").toBeUndefined();
    // The 8080 listener bound before the failure was closed again.
    const probe = createTcpServer();
    await listen(probe, "127.0.106.1", 8080);
    probe.close();

    // An existing load balancer keeps exactly what it had when an added port cannot be bound.
    const one = specOf([], { listeners: [listener(8080, NODE_PORT)] });
    expect(await ensure(provider, one)).toBe("127.0.106.1");
    await expect(provider.ensureLoadBalancer(spec)).rejects.toThrow(/8443\/TCP is in use/);
    expect((await provider.getLoadBalancer(one))?.listeners.map((l) => l.port)).toEqual([8080]);
  });

  it("keeps every address across a restart, the collided one from the Service's published status", async () => {
    const settings = parseLocalSettings({ addresses: "127.0.107.1-127.0.107.2" });
    const before = new LocalProvider({ settings });
    const a = specOf([], { name: "a" });
    // Two Services that hash to the same one of two addresses.
    const { preferredIndex } = await import("../../../providers/local/address-pool.ts");
    let n = 0;
    while (preferredIndex(settings.addresses, specOf([], { name: `b${n}` })) !== preferredIndex(settings.addresses, a))
      n++;
    const b = specOf([], { name: `b${n}` });
    const addressA = await ensure(before, a);
    const addressB = await ensure(before, b);
    expect(addressB).not.toBe(addressA);
    await before.close();

    const after = new LocalProvider({ settings });
    cleanups.push(() => after.close());
    // Re-ensured in the other order, each with what it publishes.
    const again = (spec: LoadBalancerSpec, ip: string) =>
      ensure(after, { ...spec, publishedStatus: { ingress: [{ ip }] } });
    expect(await again(b, addressB)).toBe(addressB);
    expect(await again(a, addressA)).toBe(addressA);
  });
});

describe("local provider: metrics", () => {
  it("counts connections and bytes and reports target health per load balancer, and drops them on delete", async () => {
    await standIns(2);
    const registry = new Registry();
    const provider = newProvider({}, registry);
    const spec = specOf(
      nodesOf([
        { name: "node-1", address: "127.0.104.2" },
        { name: "node-2", address: "127.0.104.3" },
      ] as NodeStandIn[]),
    );
    const ip = await ensure(provider, spec);
    await waitForHealth(provider, spec, { "node-1": "healthy", "node-2": "healthy" });
    await spread(ip, 8080, 4);
    const labels = { load_balancer: "lbp-conformance/web", listener: "8080/TCP" };
    expect(await metricValue(registry, "lbp_local_connections_total", labels)).toBe(4);
    expect(await metricValue(registry, "lbp_local_bytes_total", { ...labels, direction: "in" })).toBeGreaterThan(0);
    expect(await metricValue(registry, "lbp_local_bytes_total", { ...labels, direction: "out" })).toBeGreaterThan(0);
    expect(
      await metricValue(registry, "lbp_local_target_healthy", {
        ...labels,
        node: "node-2",
        target: "127.0.104.3:30108",
      }),
    ).toBe(1);
    await provider.ensureLoadBalancerDeleted(spec);
    expect((await registry.getSingleMetric("lbp_local_connections_total")?.get())?.values).toEqual([]);
  });
});

// ---- helpers ---------------------------------------------------------------------------------------

/** Listens, and on cleanup closes the server and every connection it accepted. */
function listen(server: Server, address: string, port: number): Promise<void> {
  const accepted = new Set<Socket>();
  server.on("connection", (socket: Socket) => accepted.add(socket));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of accepted) socket.destroy();
      }),
  );
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
}

/** A TCP echo server that keeps connections open. */
async function holdingServer(address: string) {
  const server = createTcpServer((socket) => socket.pipe(socket));
  await listen(server, address, NODE_PORT);
  return { server };
}

/** A UDP server answering each datagram with `name:payload`. */
async function udpEcho(address: string, name: string) {
  const socket = createSocket("udp4");
  socket.on("message", (message, from) => socket.send(`${name}:${message}`, from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(NODE_PORT, address, () => resolve()));
  cleanups.push(() => socket.close());
  return socket;
}

async function udpClient(localAddress = "127.0.0.1") {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, localAddress, () => resolve()));
  cleanups.push(() => socket.close());
  return {
    ask(address: string, port: number, payload: string, timeoutMs = 3_000): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.off("message", onMessage);
          reject(new Error(`no answer from ${address}:${port}`));
        }, timeoutMs);
        const onMessage = (message: Buffer): void => {
          clearTimeout(timer);
          resolve(String(message));
        };
        socket.once("message", onMessage);
        socket.send(payload, port, address);
      });
    },
  };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}
