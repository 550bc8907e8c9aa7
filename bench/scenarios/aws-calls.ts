/**
 * AWS calls per Service, side by side: the legacy AWS provider (k8s.io/cloud-provider-aws under the
 * upstream service controller, `bench/upstream/aws-service-controller`) and `lb-provisioner run
 * --provider aws`, each against moto through the same call-counting proxy
 * ({@link startAwsCallCounter}), in the same run. Targets: create at most 0.8x, node join at most 0.25x,
 * delete at most 1.0x the legacy provider's; a resync of 1,000 converged Services at most 200 calls
 * (here: per Service at most 0.2).
 *
 * For each controller moto is reset and seeded with the same network (a VPC, a cluster-tagged public
 * subnet per zone, instances tagged for the cluster, one more than there are Nodes), the Nodes are
 * created for all but the last instance, and the controller is started. Then, each phase counting
 * only its own calls:
 * 1. create: the NLB Services are created at once; until every one has an address and no call came
 *    for 3 s;
 * 2. node join: a Node for the last instance is created; until there is a RegisterTargets per target
 *    group and no call for 3 s (or 3 minutes pass: what was called is still reported);
 * 3. resync: lb-provisioner's first resync pass (period 90 s here, `--resync-ms` for more Services, so
 *    that no pass falls into the phases before; successful reconciles grow by the Services); the legacy provider has no such
 *    resync, so its window is one of its informer's 30 s resyncs (35 s);
 * 4. delete: every Service is deleted; until they are gone and no call came for 3 s. Load balancers
 *    left in moto afterwards are reported.
 *
 * @module
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { startAwsEndpoint } from "../../sandbox/aws-endpoint.ts";
import { seedAwsNetwork } from "../../sandbox/aws-seed.ts";
import { newNode } from "../../sandbox/seed-objects.ts";
import { type AwsCallCounter, startAwsCallCounter, totalOf } from "../lib/aws-call-counter.ts";
import { type BenchCluster, createBenchServices, startBenchCluster } from "../lib/cluster.ts";
import {
  type ComparisonRow,
  overallVerdict,
  ratioTarget,
  summarizeTargets,
  type TargetCheck,
} from "../lib/comparison.ts";
import { pollUntil } from "../lib/concurrency.ts";
import {
  BENCH_CLUSTER_NAME,
  CLI_DEFAULT_WORKERS,
  type ContenderName,
  startContender,
  UNLIMITED_CLIENT,
} from "../lib/contenders.ts";
import { waitForQuiet } from "../lib/fleet.ts";
import { BENCH_NAMESPACE } from "../lib/objects.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { intOption, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { COMMON_OPTION_HELP, type CommonOptions, commonOptions, compareRuns, eachContender } from "../lib/session.ts";
import { AddressWatch } from "../lib/watch.ts";

const NLB = { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" };
const QUIET_MS = 3_000;
/** Long enough that no pass falls into the create and node-join phases of 20 Services, which come first. */
const LB_RESYNC_MS = 90_000;
const LEGACY_RESYNC_WINDOW_MS = 35_000;
const RESYNC_TARGET_PER_SERVICE = 200 / 1000;

interface Phase {
  readonly calls: number;
  readonly mutating: number;
  readonly byCall: Readonly<Record<string, number>>;
  /** The phase ended on its condition (false: it timed out and reports what was called until then). */
  readonly completed: boolean;
}

/** Runs `act`, waits for `done` (at most `timeoutMs`) and `QUIET_MS` without a call; the calls made meanwhile. */
async function phase(
  proxy: AwsCallCounter,
  act: () => Promise<void>,
  done: () => Promise<boolean>,
  timeoutMs: number,
): Promise<Phase> {
  proxy.take();
  await act();
  let completed = true;
  await pollUntil("the phase's end", done, { timeoutMs, intervalMs: 200 }).catch(() => {
    completed = false;
  });
  await waitForQuiet(async () => totalOf(proxy.counts()), QUIET_MS, 300_000);
  const counts = proxy.counts();
  return { calls: totalOf(counts), mutating: totalOf(counts, "mutating"), byCall: counts, completed };
}

async function runOne(
  context: ScenarioContext,
  common: CommonOptions,
  cluster: BenchCluster,
  aws: Awaited<ReturnType<typeof startAwsEndpoint>>,
  proxy: AwsCallCounter,
  contender: ContenderName,
  parameters: {
    readonly services: number;
    readonly nodes: number;
    readonly workers: number;
    readonly resyncMs: number;
  },
) {
  const { services, nodes, workers, resyncMs } = parameters;
  const ec2 = new EC2Client({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
  const elbv2 = new ElasticLoadBalancingV2Client({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: aws.credentials,
  });
  await aws.reset();
  const network = await seedAwsNetwork(ec2, { clusterName: BENCH_CLUSTER_NAME, instances: nodes + 1 });
  await cluster.core.deleteCollectionNode({});
  for (const instance of network.instances.slice(0, nodes)) await cluster.core.createNode({ body: newNode(instance) });
  const joining = network.instances[nodes];
  if (!joining) throw new Error("the seeded network lacks the joining instance");

  const watch = await AddressWatch.start(cluster.kubeConfig);
  const controller = await startContender(
    contender,
    {
      workers,
      clientRateLimit: UNLIMITED_CLIENT,
      costPerNewLoadBalancerMs: 0,
      resyncPeriod: `${resyncMs}ms`,
      aws: {
        endpoint: proxy.endpoint,
        region: aws.region,
        accessKeyId: aws.credentials.accessKeyId,
        secretAccessKey: aws.credentials.secretAccessKey,
        vpcId: network.vpcId,
        subnetId: network.subnets[0]?.subnetId ?? "",
      },
    },
    { ...common.start, kubeconfigPath: cluster.kubeconfigPath },
    context.log,
  );
  try {
    const create = await phase(
      proxy,
      async () => {
        await createBenchServices(cluster.core, services, { annotations: NLB });
      },
      async () => watch.addressedCount >= services,
      300_000,
    );
    context.log(`${contender}: create ${create.calls} calls (${create.mutating} mutating)`);
    const join = await phase(
      proxy,
      async () => {
        await cluster.core.createNode({ body: newNode(joining) });
      },
      async () => (proxy.counts().RegisterTargets ?? 0) >= services,
      180_000,
    );
    context.log(`${contender}: node join ${join.calls} calls (${join.mutating} mutating)`);
    const ensuredBefore = await controller.ensured();
    const resync = await phase(
      proxy,
      async () => {},
      async () =>
        contender === "lb-provisioner"
          ? (await controller.ensured()) - ensuredBefore >= services
          : new Promise((resolve) => setTimeout(() => resolve(true), LEGACY_RESYNC_WINDOW_MS)),
      resyncMs + 120_000,
    );
    context.log(`${contender}: resync ${resync.calls} calls (${resync.mutating} mutating)`);
    const remove = await phase(
      proxy,
      async () => {
        await cluster.core.deleteCollectionNamespacedService({ namespace: BENCH_NAMESPACE });
      },
      async () => (await cluster.core.listNamespacedService({ namespace: BENCH_NAMESPACE })).items.length === 0,
      300_000,
    );
    const left = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers?.length ?? 0;
    context.log(
      `${contender}: delete ${remove.calls} calls (${remove.mutating} mutating), ${left} load balancers left`,
    );
    return { create, join, resync, remove, loadBalancersLeft: left };
  } finally {
    watch.stop();
    await controller.stop();
    ec2.destroy();
    elbv2.destroy();
  }
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const services = intOption(context, "services", 20);
  const nodes = intOption(context, "nodes", 3);
  const workers = intOption(context, "workers", CLI_DEFAULT_WORKERS);
  const resyncMs = intOption(context, "resync-ms", LB_RESYNC_MS);
  const common = commonOptions(context, 1);
  if (nodes + 1 > 250) throw new Error(`--nodes=${nodes}: at most 249 (the seeded subnet's addresses)`);

  const aws = await startAwsEndpoint({ logger: context.log });
  try {
    const proxy = await startAwsCallCounter(aws.endpoint);
    try {
      const cluster = await startBenchCluster(context.log);
      try {
        const runs = await eachContender(context, common, (contender) =>
          runOne(context, common, cluster, aws, proxy, contender, { services, nodes, workers, resyncMs }),
        );
        const perService = (label: string, pick: (r: (typeof runs)[number]) => number) =>
          compareRuns(runs, label, "", (r) => pick(r) / services, 2);
        const rows: ComparisonRow[] = [
          perService("create", (r) => r.create.calls),
          perService("create, of which mutating", (r) => r.create.mutating),
          perService("one node joins", (r) => r.join.calls),
          perService("one node joins, of which mutating", (r) => r.join.mutating),
          perService("resync of converged Services, per pass", (r) => r.resync.calls),
          perService("delete", (r) => r.remove.calls),
          compareRuns(runs, "load balancers left after delete", "", (r) => r.loadBalancersLeft, 0),
        ];
        const [create, , join, , resyncRow, remove] = rows;
        const resyncPerService = resyncRow?.lbProvisioner;
        const targets: TargetCheck[] = [
          ratioTarget("AWS calls to create, per Service, at most 0.8x the legacy provider", create, 0.8),
          ratioTarget("AWS calls for a node join, per Service, at most 0.25x", join, 0.25),
          {
            target: "a resync of 1,000 converged Services at most 200 calls (0.2 per Service)",
            verdict:
              resyncPerService === undefined
                ? "not measured"
                : resyncPerService <= RESYNC_TARGET_PER_SERVICE
                  ? "met"
                  : "missed",
            measured:
              resyncPerService === undefined
                ? "—"
                : `${resyncPerService.toFixed(2)} per Service (${Math.round(resyncPerService * 1000).toLocaleString("en-US")} at 1,000)`,
          },
          ratioTarget("AWS calls to delete, per Service, at most 1.0x", remove, 1.0),
        ];
        return {
          target: "create <= 0.8x, node join <= 0.25x, delete <= 1.0x legacy; resync <= 200 calls per 1,000",
          verdict: overallVerdict(targets),
          summary: summarizeTargets(targets),
          rows: [],
          comparison: [
            {
              title: `AWS calls per Service (${services} NLB Services, ${nodes} nodes + 1 joining, moto)`,
              referenceName: "legacy cloud-provider-aws",
              rows,
              loadAverages: runs.map((r) => r.loadAverage),
            },
          ],
          targets,
          details: { parameters: { services, nodes, workers, lbResyncPeriodMs: resyncMs }, runs },
        };
      } finally {
        await cluster.stop();
      }
    } finally {
      await proxy.close();
    }
  } finally {
    await aws.stop();
  }
}

export const awsCalls: Scenario = {
  name: "aws-calls",
  title: "AWS calls per Service against the legacy cloud-provider-aws",
  optionHelp: {
    services: "NLB Services (20)",
    nodes: "Nodes (instances) before one more joins (3)",
    workers: `workers of both controllers (lb-provisioner's default, ${CLI_DEFAULT_WORKERS})`,
    "resync-ms": `lb-provisioner's resync period, longer than its create and node-join phases (${LB_RESYNC_MS})`,
    ...COMMON_OPTION_HELP,
    repetitions: "runs of each controller, alternating which goes first (1)",
  },
  run,
};
