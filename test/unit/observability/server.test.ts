import { afterEach, describe, expect, it } from "vitest";
import { ProbeState } from "../../../src/observability/health.ts";
import { ControllerMetrics } from "../../../src/observability/metrics.ts";
import { type ObservabilityServers, startObservabilityServers } from "../../../src/observability/server.ts";

const LOOPBACK_ANY_PORT = { host: "127.0.0.1", port: 0 };
let running: ObservabilityServers | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

function endpointFor(servers: ObservabilityServers, path: string): string {
  const endpoint = servers.endpoints.find((candidate) => candidate.paths.includes(path));
  if (!endpoint) throw new Error(`no endpoint serves ${path}`);
  return `${endpoint.url}${path}`;
}

describe("observability servers", () => {
  it("serves /metrics from the process registry and probes on a separate listener", async () => {
    const metrics = new ControllerMetrics({ processMetrics: false });
    metrics.reconcileTotal.inc({ result: "success" }, 3);
    metrics.providerCallObserver("fake")({ operation: "Create", mutating: true, outcome: "success", durationMs: 4 });
    const probes = new ProbeState();
    probes.role = "leader";
    running = await startObservabilityServers({
      metricsBindAddress: LOOPBACK_ANY_PORT,
      healthProbeBindAddress: LOOPBACK_ANY_PORT,
      registry: metrics.registry,
      probes,
    });
    expect(running.endpoints).toHaveLength(2);

    const scrape = await fetch(endpointFor(running, "/metrics"));
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get("content-type")).toContain("text/plain");
    const body = await scrape.text();
    expect(body).toContain('lbp_reconcile_total{result="success"} 3');
    expect(body).toContain(
      'lbp_provider_calls_total{provider="fake",operation="Create",outcome="success",mutating="true"} 1',
    );

    expect((await fetch(endpointFor(running, "/healthz"))).status).toBe(200);
    const notSynced = await fetch(endpointFor(running, "/readyz"));
    expect([notSynced.status, await notSynced.text()]).toEqual([503, "informers not synced\n"]);
    probes.hasSynced = () => true;
    const synced = await fetch(endpointFor(running, "/readyz"));
    expect([synced.status, await synced.text()]).toEqual([200, "ok: leader\n"]);

    const metricsOrigin = running.endpoints.find((endpoint) => endpoint.paths.includes("/metrics"))?.url;
    expect((await fetch(`${metricsOrigin}/healthz`)).status).toBe(404);
  });

  it("answers 405 to anything but GET and HEAD", async () => {
    running = await startObservabilityServers({
      healthProbeBindAddress: LOOPBACK_ANY_PORT,
      registry: new ControllerMetrics({ processMetrics: false }).registry,
      probes: new ProbeState(),
    });
    const response = await fetch(endpointFor(running, "/healthz"), { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });

  it("serves everything from one listener when both flags name the same address", async () => {
    const first = await startObservabilityServers({
      healthProbeBindAddress: LOOPBACK_ANY_PORT,
      registry: new ControllerMetrics({ processMetrics: false }).registry,
      probes: new ProbeState(),
    });
    const port = first.endpoints[0]?.address.port ?? 0;
    await first.close();
    const address = { host: "127.0.0.1", port };
    running = await startObservabilityServers({
      metricsBindAddress: address,
      healthProbeBindAddress: address,
      registry: new ControllerMetrics({ processMetrics: false }).registry,
      probes: new ProbeState(),
    });
    expect(running.endpoints.map((endpoint) => endpoint.paths)).toEqual([["/metrics", "/healthz", "/readyz"]]);
    expect((await fetch(endpointFor(running, "/readyz"))).status).toBe(200);
  });

  it("starts nothing when both are disabled", async () => {
    running = await startObservabilityServers({
      registry: new ControllerMetrics({ processMetrics: false }).registry,
      probes: new ProbeState(),
    });
    expect(running.endpoints).toEqual([]);
  });

  it("rejects when the address is taken, and leaves no listener behind", async () => {
    const taken = await startObservabilityServers({
      healthProbeBindAddress: LOOPBACK_ANY_PORT,
      registry: new ControllerMetrics({ processMetrics: false }).registry,
      probes: new ProbeState(),
    });
    running = taken;
    const port = taken.endpoints[0]?.address.port ?? 0;
    await expect(
      startObservabilityServers({
        metricsBindAddress: LOOPBACK_ANY_PORT,
        healthProbeBindAddress: { host: "127.0.0.1", port },
        registry: new ControllerMetrics({ processMetrics: false }).registry,
        probes: new ProbeState(),
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
