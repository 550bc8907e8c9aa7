/**
 * `plan`, `status` and `gc` as an operator runs them: child processes of `node src/cli.ts` with
 * `--provider aws` against the AWS endpoint, looking at a real kube-apiserver where the controller (in
 * this process, on the same endpoint) built the seed scenario's load balancer. The cloud is read back
 * with the SDK to prove that `plan`, `status` and `gc` without `--yes` change nothing.
 */
import { DescribeListenersCommand, DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsProvider } from "../../providers/aws/index.ts";
import { demoParts } from "../../sandbox/demo/parts.ts";
import type { RunningController } from "../../sandbox/demo/scenario.ts";
import { createLogger } from "../../src/observability/logger.ts";
import {
  createNodes,
  seedAwsNetwork,
  seedNodes,
  seedService,
  waitFor,
  withAwsEndpoint,
  withControlPlane,
} from "../harness/index.ts";
import { type FinishedCommand, runCommand } from "../integration/cli-process.ts";
import { awsCredentialsEnv, awsProviderFlags } from "./aws-controller.ts";
import { type AwsClients, awsClients, awsProviderOn } from "./aws-provider-fixtures.ts";

const CLUSTER = "operator";
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("plan, status and gc as processes against aws", () => {
  const controlPlane = withControlPlane();
  const aws = withAwsEndpoint();
  let core: CoreV1Api;
  let clients: AwsClients;
  let provider: AwsProvider;
  let controller: RunningController | undefined;

  function cli(...args: string[]): Promise<FinishedCommand> {
    return runCommand([...args, ...awsProviderFlags(controlPlane, aws, CLUSTER)], awsCredentialsEnv(aws));
  }

  /** Every load balancer in the account, with its listener ports: the cloud as the SDK sees it. */
  async function cloudState(): Promise<string[]> {
    const loadBalancers = (await clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const state: string[] = [];
    for (const loadBalancer of loadBalancers) {
      const listeners = await clients.elbv2.send(
        new DescribeListenersCommand({ LoadBalancerArn: loadBalancer.LoadBalancerArn }),
      );
      const ports = (listeners.Listeners ?? []).map((listener) => listener.Port).sort();
      state.push(`${loadBalancer.LoadBalancerName} ${ports.join(",")}`);
    }
    return state.sort();
  }

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    clients = awsClients(aws);
    provider = await awsProviderOn(aws, clients, { clusterName: CLUSTER });
    const network = await seedAwsNetwork(clients.ec2, { clusterName: CLUSTER });
    await createNodes(core, seedNodes(network.instances));
    await core.createNamespacedService({ namespace: "default", body: seedService({ type: "LoadBalancer" }) });
    controller = await demoParts("aws", createLogger("silent")).startController({
      kubeConfig: controlPlane.kubeConfig(),
      provider,
      clusterName: CLUSTER,
    });
    await waitFor(
      async () => {
        const service = await core.readNamespacedService({ namespace: "default", name: "myapp-service" });
        return service.status?.loadBalancer?.ingress?.[0]?.hostname;
      },
      { description: "the Service to get the NLB's hostname", timeoutMs: 90_000 },
    );
  });

  afterAll(async () => {
    await controller?.stop();
    await provider?.close?.();
    clients?.elbv2.destroy();
    clients?.ec2.destroy();
  });

  it("status lists the Service with its NLB, listener, three targets and last result", async () => {
    const run = await waitFor(
      async () => {
        const result = await cli("status");
        return result.stdout.includes("Normal EnsuredLoadBalancer") ? result : undefined;
      },
      { description: "status to show the EnsuredLoadBalancer event", timeoutMs: 60_000 },
    );
    expect(run.code).toBe(0);
    const row = run.stdout.split("\n").find((line) => line.startsWith("default/myapp-service"));
    expect(row).toMatch(
      /^default\/myapp-service\s+\S+\.elb\.amazonaws\.com\s+aws\s+80\/TCP\s+3\s+True\s+Normal EnsuredLoadBalancer\s+\d+s$/,
    );
  });

  it("plan exits 0 with nothing to do on the converged cluster", async () => {
    const before = await cloudState();
    const run = await cli("plan");
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("default/myapp-service: up to date\nNo changes: 1 Service up to date.\n");
    expect(run.code).toBe(0);
    expect(await cloudState()).toEqual(before);
  });

  it("plan exits 2 and lists the listener change after a port edit, changing nothing", async () => {
    await controller?.stop();
    controller = undefined;
    await core.patchNamespacedService(
      {
        namespace: "default",
        name: "myapp-service",
        body: { spec: { ports: [{ port: 8080, targetPort: 80, nodePort: 30008, protocol: "TCP" }] } },
      },
      mergePatch,
    );
    const before = await cloudState();
    expect(before).toHaveLength(1);
    expect(before[0]).toMatch(/ 80$/);

    const run = await cli("plan", "default/myapp-service", "--output", "json");

    expect(run.code).toBe(2);
    const document = JSON.parse(run.stdout) as { changed: boolean; services: { action: string; changes: unknown[] }[] };
    expect(document.changed).toBe(true);
    expect(document.services[0]?.action).toBe("update");
    expect(document.services[0]?.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: "create", subject: "listener", name: "8080/TCP" }),
        expect.objectContaining({ action: "delete", subject: "listener", name: "80/TCP" }),
      ]),
    );
    expect(await cloudState()).toEqual(before);
  });

  it("gc lists the NLB of a Service deleted with its finalizer removed by hand, and deletes it only with --yes", async () => {
    await core.patchNamespacedService(
      { namespace: "default", name: "myapp-service", body: { metadata: { finalizers: null } } },
      mergePatch,
    );
    await core.deleteNamespacedService({ namespace: "default", name: "myapp-service" });
    const before = await cloudState();

    const listed = await cli("gc");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^default\/myapp-service\s+\S+\.elb\.amazonaws\.com\s+Service not found/m);
    expect(listed.stdout).toContain("1 orphaned load balancer; run again with --yes to delete.");
    expect(await cloudState()).toEqual(before);

    const deleted = await cli("gc", "--yes");
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain("Deleted 1 orphaned load balancer.");
    expect(await cloudState()).toEqual([]);

    const again = await cli("gc");
    expect(again.stdout).toBe(`No orphaned load balancers in cluster ${CLUSTER}.\n`);
  });
});
