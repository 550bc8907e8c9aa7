/**
 * The seed scenario through `lb-provisioner run --provider local` as a process, against a real
 * kube-apiserver, with real HTTP requests through the load balancer: node stand-ins on loopback answer
 * with their node's name on nodePort 30008, and the Nodes' InternalIPs point at them.
 */
import { createServer } from "node:net";
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodes,
  newNode,
  SEED_NAMESPACE,
  SEED_SERVICE_NAME,
  seedService,
  waitFor,
  withControlPlane,
} from "../../harness/index.ts";
import { type ControllerProcess, parseMetrics, startController } from "../cli-process.ts";
import { MERGE_PATCH } from "../controller-support.ts";
import { httpGet, type NodeStandIn, spread, startStandIn } from "./loopback.ts";

// Nodes at 127.0.110.2-.5; three pool addresses for three Services, so they collide and the restart
// has to bring the collided ones back from their published status; clients on 127.0.111.x (allowed)
// and 127.0.112.x (outside the source range).
const NODE_ADDRESSES = ["127.0.110.2", "127.0.110.3", "127.0.110.4", "127.0.110.5"];
const POOL = "127.110.0.1-127.110.0.3";
const LOCAL_NODE_PORT = 30009;
const HEALTH_CHECK_NODE_PORT = 32109;

describe("seed scenario through the CLI with --provider local", () => {
  const controlPlane = withControlPlane();
  let core: CoreV1Api;
  let controller: ControllerProcess | undefined;
  const standIns = new Map<string, NodeStandIn>();
  const healthStandIns = new Map<string, NodeStandIn>();

  function start(name: string): Promise<ControllerProcess> {
    return startController({
      name,
      args: [
        "--kubeconfig",
        controlPlane.kubeconfigPath(),
        "--provider",
        "local",
        "--leader-elect=false",
        "--provider-config",
        `addresses=${POOL}`,
        "--provider-config",
        "healthCheckIntervalSeconds=0.2",
        "--provider-config",
        "healthyThreshold=1",
        "--provider-config",
        "unhealthyThreshold=1",
        "--provider-config",
        "deregistrationDelaySeconds=1",
      ],
    });
  }

  async function addressOf(name: string): Promise<string> {
    return waitFor(
      async () => {
        const service: V1Service = await core.readNamespacedService({ namespace: SEED_NAMESPACE, name });
        return service.status?.loadBalancer?.ingress?.[0]?.ip;
      },
      { description: `${SEED_NAMESPACE}/${name} to get an ip`, timeoutMs: 60_000 },
    );
  }

  async function healthyTargets(service: string): Promise<string[]> {
    if (controller === undefined) throw new Error("no controller");
    const samples = parseMetrics(await (await fetch(`${await controller.endpoint("/metrics")}/metrics`)).text());
    return [...samples]
      .filter(([series, value]) => series.startsWith("lbp_local_target_healthy{") && value === 1)
      .filter(([series]) => series.includes(`load_balancer="${SEED_NAMESPACE}/${service}"`))
      .map(([series]) => /node="([^"]+)"/.exec(series)?.[1] ?? "?")
      .sort();
  }

  function waitForHealthy(service: string, nodes: string[]): Promise<true> {
    return waitFor(async () => JSON.stringify(await healthyTargets(service)) === JSON.stringify(nodes), {
      description: `${service}: healthy targets ${nodes.join(", ")}`,
      timeoutMs: 30_000,
    });
  }

  async function addNode(index: number): Promise<void> {
    const name = `node-${index + 1}`;
    const address = NODE_ADDRESSES[index] as string;
    standIns.set(name, await startStandIn(name, address, 30008));
    await createNodes(core, [newNode({ nodeName: name, privateIp: address })]);
  }

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    for (const index of [0, 1, 2]) await addNode(index);
    controller = await start("lbp-local");
  });

  afterAll(async () => {
    await controller?.process.stop(5_000);
    for (const standIn of [...standIns.values(), ...healthStandIns.values()]) await standIn.stop();
  });

  it("publishes its address as a Proxy and sends real requests through it to all three nodes, then four, then three after one stops", async () => {
    await core.createNamespacedService({
      namespace: SEED_NAMESPACE,
      body: seedService({ type: "LoadBalancer" }),
    });
    const ip = await addressOf(SEED_SERVICE_NAME);
    expect(POOL.includes(ip.split(".").slice(0, 3).join("."))).toBe(true);
    // The controller process is a proxy, which the provider says and the controller publishes, so
    // kube-proxy leaves the address alone.
    const published = await core.readNamespacedService({ namespace: SEED_NAMESPACE, name: SEED_SERVICE_NAME });
    expect(published.status?.loadBalancer?.ingress).toEqual([{ ip, ipMode: "Proxy" }]);
    await waitForHealthy(SEED_SERVICE_NAME, ["node-1", "node-2", "node-3"]);
    expect(await spread(ip, 80, 9)).toEqual({ "node-1": 3, "node-2": 3, "node-3": 3 });

    await addNode(3);
    await waitForHealthy(SEED_SERVICE_NAME, ["node-1", "node-2", "node-3", "node-4"]);
    expect(await spread(ip, 80, 8)).toEqual({ "node-1": 2, "node-2": 2, "node-3": 2, "node-4": 2 });

    await standIns.get("node-2")?.stop();
    await waitForHealthy(SEED_SERVICE_NAME, ["node-1", "node-3", "node-4"]);
    expect(await spread(ip, 80, 6)).toEqual({ "node-1": 2, "node-3": 2, "node-4": 2 });
  });

  it("with externalTrafficPolicy Local sends only to nodes whose /healthz answers 200", async () => {
    for (const [index, name] of ["node-1", "node-2", "node-3", "node-4"].entries()) {
      const address = NODE_ADDRESSES[index] as string;
      standIns.set(`${name}-local`, await startStandIn(name, address, LOCAL_NODE_PORT));
      const health = await startStandIn(name, address, HEALTH_CHECK_NODE_PORT);
      // kube-proxy answers 200 only where the Service has a ready endpoint: here node-1 and node-3.
      health.healthz = name === "node-1" || name === "node-3" ? 200 : 503;
      healthStandIns.set(name, health);
    }
    const service = seedService({ type: "LoadBalancer", name: "myapp-local", nodePort: LOCAL_NODE_PORT });
    service.spec = { ...service.spec, externalTrafficPolicy: "Local", healthCheckNodePort: HEALTH_CHECK_NODE_PORT };
    await core.createNamespacedService({ namespace: SEED_NAMESPACE, body: service });
    const ip = await addressOf("myapp-local");
    await waitForHealthy("myapp-local", ["node-1", "node-3"]);
    expect(await spread(ip, 80, 6)).toEqual({ "node-1": 3, "node-3": 3 });
  });

  it("refuses a client outside loadBalancerSourceRanges", async () => {
    const ip = await addressOf(SEED_SERVICE_NAME);
    await core.patchNamespacedService(
      {
        namespace: SEED_NAMESPACE,
        name: SEED_SERVICE_NAME,
        body: { spec: { loadBalancerSourceRanges: ["127.0.111.0/24"] } },
      },
      MERGE_PATCH,
    );
    await waitFor(
      () =>
        httpGet(ip, 80, { localAddress: "127.0.112.9" }).then(
          () => false,
          () => true,
        ),
      { description: "a client outside the range to be refused" },
    );
    expect(Object.keys(await spread(ip, 80, 3, { localAddress: "127.0.111.9" })).length).toBeGreaterThan(0);
    await expect(httpGet(ip, 80, { localAddress: "127.0.112.9" })).rejects.toThrow(/ECONNRESET|socket hang up/);
  });

  it("keeps every address across a restart, and a killed process leaves no socket bound", async () => {
    const third = seedService({ type: "LoadBalancer", name: "myapp-third", nodePort: 30010 });
    await core.createNamespacedService({ namespace: SEED_NAMESPACE, body: third });
    const names = [SEED_SERVICE_NAME, "myapp-local", "myapp-third"];
    const before = await Promise.all(names.map(addressOf));
    expect(new Set(before).size, "three Services, three addresses: the whole pool").toBe(3);

    const killed = controller as ControllerProcess;
    process.kill(killed.pid, "SIGKILL");
    await killed.process.exited;
    for (const address of before) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(80, address, () => server.close(() => resolve()));
      });
    }

    controller = await start("lbp-local-restarted");
    await waitForHealthy("myapp-local", ["node-1", "node-3"]);
    expect(await Promise.all(names.map(addressOf)), "same address for every Service").toEqual(before);
    await waitForHealthy(SEED_SERVICE_NAME, ["node-1", "node-3", "node-4"]);
    const seedIp = before[0] as string;
    expect(await spread(seedIp, 80, 3, { localAddress: "127.0.111.9" })).toEqual({
      "node-1": 1,
      "node-3": 1,
      "node-4": 1,
    });
    const restartLog = controller.logs().filter((line) => line.msg === "allocated load balancer address");
    expect(restartLog.map((line) => line.address).sort()).toEqual([...before].sort());
  });

  it("stops answering on the address once the Service is deleted", async () => {
    const ip = await addressOf(SEED_SERVICE_NAME);
    await core.deleteNamespacedService({ namespace: SEED_NAMESPACE, name: SEED_SERVICE_NAME });
    await waitFor(
      () =>
        httpGet(ip, 80, { localAddress: "127.0.111.9" }).then(
          () => false,
          (error: Error) => /ECONNREFUSED/.test(error.message),
        ),
      { description: "the deleted Service's address to refuse connections" },
    );
  });
});
