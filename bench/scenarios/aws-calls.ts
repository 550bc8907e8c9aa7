/**
 * AWS calls per Service, counted on the wire: the controller with `--provider aws` against moto,
 * through a counting proxy ({@link startAwsCallCounter}), on the embedded kube-apiserver.
 *
 * Phases, each measured on its own (calls divided by the Services):
 * 1. create: `--services` LoadBalancer Services on `--nodes` instance-backed Nodes, until every one is
 *    addressed and no mutating call came for 2 s;
 * 2. node join: one more Node (a seeded instance), until every target group got it (checked in moto);
 * 3. resync: the controller restarted with `--resync-ms`; after its start-up pass settles, one
 *    periodic pass over the converged Services (all of them reconciled once more, then 2 s quiet);
 * 4. delete: every Service deleted, until the last is gone; nothing owned may remain in moto.
 *
 * @module
 */
import { DescribeSecurityGroupsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { CoreV1Api } from "@kubernetes/client-node";
import { pino } from "pino";
import { newAwsProvider } from "../../providers/aws/index.ts";
import {
  type AwsEndpoint,
  newNode,
  type SeededAwsNetwork,
  seedAwsNetwork,
  startAwsEndpoint,
} from "../../sandbox/index.ts";
import { createServiceController } from "../../src/controller/index.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { ControllerMetrics } from "../../src/observability/metrics.ts";
import { type AwsCallCounter, type CallCounts, startAwsCallCounter, totalOf } from "../lib/aws-call-counter.ts";
import { createBenchServices, startBenchCluster } from "../lib/cluster.ts";
import { mapConcurrent, pollUntil } from "../lib/concurrency.ts";
import { BENCH_CLUSTER_NAME, CLI_DEFAULT_WORKERS } from "../lib/controller.ts";
import { BENCH_NAMESPACE } from "../lib/objects.ts";
import type { ResultRow, ScenarioResult } from "../lib/report.ts";
import { intOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { round } from "../lib/stats.ts";
import { AddressWatch } from "../lib/watch.ts";

/** The reference: the legacy cloud-provider-aws, 20 NLB Services against moto (calls per Service). */
const LEGACY = { create: 14.2, join: 13, delete: 8.1 };
const TARGETS = {
  create: `at most 0.8x the legacy provider's ${LEGACY.create}`,
  join: "one RegisterTargets per target group and at most 2 reads",
  resync: "at most 0.2 calls per Service (200 for 1,000 Services), 0 mutating",
  delete: `at most 1.0x the legacy provider's ${LEGACY.delete}`,
};

interface Phase {
  readonly counts: CallCounts;
  readonly seconds: number;
}

/** SDK clients for `url` (moto itself, or the counter in front of it) with the endpoint's credentials. */
function sdkClients(endpoint: AwsEndpoint, url: string): { elbv2: ElasticLoadBalancingV2Client; ec2: EC2Client } {
  const config = { region: endpoint.region, endpoint: url, credentials: { ...endpoint.credentials }, maxAttempts: 1 };
  return { elbv2: new ElasticLoadBalancingV2Client(config), ec2: new EC2Client(config) };
}

/** The controller in this process with the AWS provider on the counting endpoint. */
function startAwsController(
  core: { kubeConfig: Parameters<typeof createServiceController>[0]["kubeConfig"] },
  endpoint: AwsEndpoint,
  counter: AwsCallCounter,
  options: { workers: number; resyncPeriodMs: number },
) {
  const metrics = new ControllerMetrics({ processMetrics: false });
  const logger = createLogger("warn", pino.destination(2));
  const { elbv2, ec2 } = sdkClients(endpoint, counter.endpoint);
  const stop = new AbortController();
  const ready = newAwsProvider(
    {
      clusterName: BENCH_CLUSTER_NAME,
      logger,
      onCall: metrics.providerCallObserver("aws"),
      settings: { region: endpoint.region, endpoint: counter.endpoint },
    },
    { elbv2, ec2, releaseRetry: { retries: 5, minTimeoutMs: 100, maxTimeoutMs: 1_000 } },
  ).then((provider) => {
    const controller = createServiceController({
      kubeConfig: core.kubeConfig,
      provider,
      clusterName: BENCH_CLUSTER_NAME,
      workers: options.workers,
      resyncPeriodMs: options.resyncPeriodMs,
      logger,
      metrics,
    });
    return { provider, running: controller.run(stop.signal) };
  });
  return {
    async reconciled(): Promise<number> {
      const { values } = await metrics.reconcileTotal.get();
      return values.reduce((sum, value) => sum + value.value, 0);
    },
    async stop(): Promise<void> {
      stop.abort();
      const { provider, running } = await ready;
      await running;
      await provider.close();
      elbv2.destroy();
      ec2.destroy();
    },
  };
}

/** Resolves once `check` holds and then no mutating call came through the counter for `quietMs`. */
async function settle(counter: AwsCallCounter, what: string, check: () => Promise<boolean> | boolean, quietMs = 2_000) {
  await pollUntil(what, check, { timeoutMs: 900_000, intervalMs: 100 });
  await pollUntil(
    `${quietMs} ms without a mutating AWS call`,
    () => performance.now() - (counter.lastMutationAt ?? 0) >= quietMs,
    { timeoutMs: 300_000, intervalMs: 100 },
  );
}

async function measure(counter: AwsCallCounter, run: () => Promise<void>): Promise<Phase> {
  counter.take();
  const started = performance.now();
  await run();
  return { counts: counter.take(), seconds: round((performance.now() - started) / 1000, 1) };
}

/** Target groups in moto holding `instanceId`, out of all of them (read directly, not counted). */
async function targetGroupsWith(elbv2: ElasticLoadBalancingV2Client, instanceId: string) {
  const groups = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  const holding = await mapConcurrent(groups, 8, async (group) => {
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: group.TargetGroupArn }));
    return (health.TargetHealthDescriptions ?? []).some((d) => d.Target?.Id === instanceId);
  });
  return { total: groups.length, holding: holding.filter(Boolean).length };
}

/** What the controller left in moto: load balancers, target groups and its security groups. */
async function leftInAws(elbv2: ElasticLoadBalancingV2Client, ec2: EC2Client) {
  const loadBalancers = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
  const targetGroups = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  const groups = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [{ Name: "tag-key", Values: [`kubernetes.io/cluster/${BENCH_CLUSTER_NAME}`] }],
    }),
  );
  const ownGroups = (groups.SecurityGroups ?? []).filter((g) => g.GroupName?.startsWith("k8s-"));
  return loadBalancers.length + targetGroups.length + ownGroups.length;
}

async function createNodeFor(core: CoreV1Api, instance: SeededAwsNetwork["instances"][number]) {
  await core.createNode({ body: newNode(instance) });
}

function perService(counts: CallCounts, services: number) {
  return {
    all: round(totalOf(counts) / services, 2),
    reads: round(totalOf(counts, "reads") / services, 2),
    mutating: round(totalOf(counts, "mutating") / services, 2),
  };
}

function describeCounts(counts: CallCounts): string {
  return Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([operation, count]) => `${operation} ${count}`)
    .join(", ");
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const options = {
    services: intOption(context, "services", 20),
    nodes: intOption(context, "nodes", 3),
    workers: intOption(context, "workers", CLI_DEFAULT_WORKERS),
    resyncPeriodMs: intOption(context, "resync-ms", 40_000),
  };
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const cluster = await startBenchCluster(context.log);
    cleanups.push(() => cluster.stop());
    const endpoint = await startAwsEndpoint();
    cleanups.push(() => endpoint.stop());
    // The scenario's own reads and the seeding go to moto directly, uncounted.
    const { elbv2, ec2 } = sdkClients(endpoint, endpoint.endpoint);
    cleanups.push(() => {
      elbv2.destroy();
      ec2.destroy();
    });
    const network = await seedAwsNetwork(ec2, { clusterName: BENCH_CLUSTER_NAME, instances: options.nodes + 1 });
    const joining = network.instances[options.nodes];
    if (joining === undefined) throw new Error("the seeded network has no instance left to join");
    for (const instance of network.instances.slice(0, options.nodes)) await createNodeFor(cluster.core, instance);
    const counter = await startAwsCallCounter(endpoint.endpoint);
    cleanups.push(() => counter.close());
    const watch = await AddressWatch.start(cluster.kubeConfig);
    cleanups.push(() => watch.stop());
    const kubeConfig = cluster.controllerKubeConfig(false);

    let controller = startAwsController({ kubeConfig }, endpoint, counter, { ...options, resyncPeriodMs: 0 });
    const create = await measure(counter, async () => {
      await createBenchServices(cluster.core, options.services, { ports: 1 });
      await settle(counter, `${options.services} Services addressed`, () => watch.addressedCount >= options.services);
    });
    context.log(`create: ${describeCounts(create.counts)}`);

    const join = await measure(counter, async () => {
      await createNodeFor(cluster.core, joining);
      await settle(
        counter,
        "the joining node in every target group",
        () => (counter.counts().RegisterTargets ?? 0) >= options.services,
        3_000,
      );
    });
    const joined = await targetGroupsWith(elbv2, joining.instanceId);
    context.log(`node join: ${describeCounts(join.counts)}; ${joined.holding}/${joined.total} target groups hold it`);

    // A periodic pass of a long-running controller: restart with a resync period, let the start-up pass
    // (every Service ensured once, as after any restart) settle, then count one periodic pass.
    await controller.stop();
    controller = startAwsController({ kubeConfig }, endpoint, counter, options);
    await settle(counter, "the start-up pass", async () => (await controller.reconciled()) >= options.services);
    const before = await controller.reconciled();
    const resync = await measure(counter, () =>
      settle(counter, "one resync pass", async () => (await controller.reconciled()) >= before + options.services),
    );
    context.log(`resync: ${describeCounts(resync.counts)}`);

    const remove = await measure(counter, async () => {
      const names = (await cluster.core.listNamespacedService({ namespace: BENCH_NAMESPACE })).items.map(
        (s) => s.metadata?.name ?? "",
      );
      await mapConcurrent(names, 8, (name) =>
        cluster.core.deleteNamespacedService({ namespace: BENCH_NAMESPACE, name }),
      );
      await settle(
        counter,
        "every Service gone",
        async () => (await cluster.core.listNamespacedService({ namespace: BENCH_NAMESPACE })).items.length === 0,
      );
    });
    context.log(`delete: ${describeCounts(remove.counts)}`);
    const left = await leftInAws(elbv2, ec2);
    await controller.stop();

    const s = options.services;
    const perCreate = perService(create.counts, s);
    const perJoin = perService(join.counts, s);
    const perDelete = perService(remove.counts, s);
    const resyncTotal = totalOf(resync.counts);
    const resyncMutating = totalOf(resync.counts, "mutating");
    const met = {
      create: perCreate.all <= 0.8 * LEGACY.create,
      join: (join.counts.RegisterTargets ?? 0) === s && perJoin.mutating === 1 && perJoin.reads <= 2,
      resync: resyncMutating === 0 && resyncTotal <= (200 * s) / 1000,
      delete: perDelete.all <= LEGACY.delete,
    };
    const verdict = Object.values(met).every(Boolean) && joined.holding === joined.total && left === 0;
    const rows: ResultRow[] = [
      { metric: "Services x nodes (1 port each), workers", value: `${s} x ${options.nodes}, ${options.workers}` },
      {
        metric: "create: calls per Service (reads + mutating)",
        value: `${perCreate.all} (${perCreate.reads} + ${perCreate.mutating})`,
      },
      {
        metric: "node join: calls per Service (reads + mutating)",
        value: `${perJoin.all} (${perJoin.reads} + ${perJoin.mutating})`,
      },
      {
        metric: "node join: RegisterTargets / target groups holding the node",
        value: `${join.counts.RegisterTargets ?? 0} / ${joined.holding} of ${joined.total}`,
      },
      { metric: "resync pass: calls in all (mutating)", value: `${resyncTotal} (${resyncMutating})` },
      { metric: "resync pass: calls per Service", value: round(resyncTotal / s, 2) },
      {
        metric: "delete: calls per Service (reads + mutating)",
        value: `${perDelete.all} (${perDelete.reads} + ${perDelete.mutating})`,
      },
      { metric: "owned resources left after delete", value: left },
    ];
    return {
      target: Object.entries(TARGETS)
        .map(([phase, target]) => `${phase}: ${target}`)
        .join("; "),
      verdict: verdict ? "met" : "missed",
      summary: Object.entries(met)
        .map(([phase, ok]) => `${phase} ${ok ? "met" : "missed"}`)
        .join(", "),
      rows,
      details: { parameters: options, legacyReference: LEGACY, create, join, joined, resync, delete: remove, left },
    };
  } finally {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  }
}

export const awsCalls: Scenario = {
  name: "aws-calls",
  title: "AWS calls per Service: create, node join, resync, delete (moto)",
  optionHelp: {
    services: "LoadBalancer Services, one port each (20); the resync target is for 1000",
    nodes: "instance-backed Nodes before the join (3; at most 249)",
    workers: `controller workers (the CLI default, ${CLI_DEFAULT_WORKERS})`,
    "resync-ms": "the restarted controller's resync period (40000)",
  },
  run,
};
