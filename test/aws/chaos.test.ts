/**
 * Chaos, end to end as processes: `lb-provisioner run --provider aws` against a real kube-apiserver and
 * moto, through a proxy that fails a quarter of the AWS calls (throttled in each API's own error format,
 * 5xx, or done but with the answer lost), while the controller is SIGKILLed at random moments and
 * restarted, more than a hundred Services are created, changed (ports, node ports, annotations, type)
 * and deleted, and nodes join and leave. Then the faults and the kills stop, and within a bound the
 * cloud must match the cluster exactly, as an auditor paging through every Describe call sees it:
 *
 * - every LoadBalancer Service has exactly one load balancer, its DNS name in the Service's status, one
 *   listener per port forwarding to a target group on that port's nodePort whose targets are exactly the
 *   nodes' instances, no other target group, one security group, and the cleanup finalizer;
 * - every Service deleted or switched away has nothing left: no load balancer, target group, security
 *   group, finalizer or status; a deleted one is gone from the apiserver.
 *
 * Seeded: the seed is printed, and `CHAOS_SEED=<seed>` replays the same workload, kill schedule and
 * fault draws (arrival order, and so the exact calls that fail, still depend on timing).
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1ServicePort } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNodes,
  type SeededInstance,
  seedAwsNetwork,
  seedNodes,
  withAwsEndpoint,
  withControlPlane,
} from "../harness/index.ts";
import { type ControllerProcess, startController } from "../integration/cli-process.ts";
import { awsCredentialsEnv, awsProviderFlags } from "./aws-controller.ts";
import { awsClients } from "./aws-provider-fixtures.ts";
import { type Random, seededRandom } from "./chaos-random.ts";
import { auditCloud, disagreements, instanceOf } from "./cloud-audit.ts";
import { type FaultProxy, NO_FAULTS, startFaultProxy } from "./fault-proxy.ts";

const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 32));
const CLUSTER = "chaos";
const NAMESPACE = "default";
const A = "service.beta.kubernetes.io/aws-load-balancer-";
/** Services created over the run (each name is used once; a create the apiserver refuses does not count). */
const SERVICES = 110;
/** How long the churn, the faults and the kills go on. */
const CHURN_MS = 70_000;
/** After the faults stop, the cloud must match within this. */
const CONVERGE_BOUND_MS = 180_000;
const FAULT_RATES = { throttle: 0.1, "server-error": 0.08, "lost-answer": 0.07 };
/** Nodes: instances 0-3 start in the cluster; the others join, and some leave, during the run. */
const INSTANCES = 6;
const INITIAL_NODES = 4;
/** How long a controller works (from its caches synced) before it is killed. */
const KILL_AFTER_WORKING_MS: readonly [number, number] = [3_000, 9_000];
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

const PORT_NUMBERS = [80, 443, 5000, 6000, 8080, 8443, 9000, 9090];
const ANNOTATIONS: readonly (readonly [string, readonly string[]])[] = [
  [`${A}healthcheck-interval`, ["10", "30"]],
  [`${A}cross-zone-load-balancing-enabled`, ["true", "false"]],
  [`${A}additional-resource-tags`, ["team=a", "team=b,env=chaos"]],
  [`${A}target-group-attributes`, ["deregistration_delay.timeout_seconds=30", "preserve_client_ip.enabled=true"]],
];

type Kind = "LoadBalancer" | "NodePort" | "ClusterIP" | "deleted";

interface Tally {
  created: number;
  portChanges: number;
  annotationChanges: number;
  typeChanges: number;
  deleted: number;
  nodesJoined: number;
  nodesLeft: number;
  /** Changes the apiserver refused (e.g. a node port already taken): harmless, counted for the report. */
  refused: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function randomPorts(random: Random): V1ServicePort[] {
  const count = random.next() < 0.7 ? 1 : random.int(2, 3);
  const numbers = new Set<number>();
  while (numbers.size < count) numbers.add(random.pick(PORT_NUMBERS));
  return [...numbers].map((port) => ({
    name: `p${port}`,
    port,
    protocol: "TCP",
    // Some ports get a node port chosen here, so node-port changes happen too (a clash is refused).
    ...(random.next() < 0.3 ? { nodePort: random.int(30_100, 32_700) } : {}),
  }));
}

function randomAnnotations(random: Random): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [key, values] of ANNOTATIONS) if (random.next() < 0.3) annotations[key] = random.pick(values);
  return annotations;
}

describe("chaos: faults, kills, churn (aws provider, moto)", () => {
  const controlPlane = withControlPlane();
  const aws = withAwsEndpoint();
  const random = seededRandom(SEED);
  const workloadRandom = random.fork();
  const killRandom = random.fork();
  let core: CoreV1Api;
  let ec2: EC2Client;
  let elbv2: ElasticLoadBalancingV2Client;
  let proxy: FaultProxy;
  let instances: SeededInstance[] = [];
  const controllers: ControllerProcess[] = [];

  function startOne(): Promise<ControllerProcess> {
    return startController({
      name: `chaos-${controllers.length + 1}`,
      args: [
        ...awsProviderFlags(controlPlane, aws, CLUSTER, proxy.endpoint),
        "--leader-elect=false",
        "--log-level",
        "info",
      ],
      env: awsCredentialsEnv(aws),
    }).then((controller) => {
      controllers.push(controller);
      return controller;
    });
  }

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    ({ ec2, elbv2 } = awsClients(aws));
    const network = await seedAwsNetwork(ec2, { clusterName: CLUSTER, instances: INSTANCES });
    instances = [...network.instances];
    await createNodes(core, seedNodes(instances.slice(0, INITIAL_NODES)));
    proxy = await startFaultProxy(aws.endpoint, random.fork());
  });

  afterAll(async () => {
    await Promise.all(controllers.map((controller) => controller.process.stop(5_000)));
    await proxy?.close();
    ec2?.destroy();
    elbv2?.destroy();
  });

  /** Creates, changes and deletes Services and moves nodes until `until`. Returns every name used. */
  async function churn(until: number, tally: Tally): Promise<string[]> {
    const kinds = new Map<string, Kind>();
    const inCluster = new Set(instances.slice(0, INITIAL_NODES).map((i) => i.nodeName));
    let named = 0;
    const nodeMoves = [0.2, 0.4, 0.6, 0.8].map((share) => until - CHURN_MS + share * CHURN_MS);
    const refused = async (change: Promise<unknown>): Promise<void> => {
      try {
        await change;
      } catch {
        tally.refused++;
      }
    };
    // Past `until` only if the Services created still fall short of the number the run promises.
    while (Date.now() < until || tally.created < SERVICES) {
      if (nodeMoves.length > 0 && Date.now() >= (nodeMoves[0] ?? 0)) {
        nodeMoves.shift();
        const out = instances.filter((i) => !inCluster.has(i.nodeName));
        if (out.length > 0 && (workloadRandom.next() < 0.5 || inCluster.size <= 2)) {
          const joining = workloadRandom.pick(out);
          await createNodes(core, seedNodes([joining]));
          inCluster.add(joining.nodeName);
          tally.nodesJoined++;
        } else {
          const leaving = workloadRandom.pick([...inCluster]);
          await core.deleteNode({ name: leaving });
          inCluster.delete(leaving);
          tally.nodesLeft++;
        }
      }
      const existing = [...kinds].filter(([, kind]) => kind !== "deleted").map(([name]) => name);
      if (tally.created < SERVICES && (existing.length === 0 || workloadRandom.next() < 0.55)) {
        const name = `svc-${String(named++).padStart(3, "0")}`;
        try {
          await core.createNamespacedService({
            namespace: NAMESPACE,
            body: {
              metadata: { name, namespace: NAMESPACE, annotations: randomAnnotations(workloadRandom) },
              spec: { type: "LoadBalancer", selector: { app: name }, ports: randomPorts(workloadRandom) },
            },
          });
          kinds.set(name, "LoadBalancer");
          tally.created++;
        } catch {
          tally.refused++;
        }
      } else if (existing.length > 0) {
        const name = workloadRandom.pick(existing);
        const kind = kinds.get(name);
        const draw = workloadRandom.next();
        if (draw < 0.3 && kind !== "ClusterIP") {
          tally.portChanges++;
          await refused(
            core.patchNamespacedService(
              { namespace: NAMESPACE, name, body: { spec: { ports: randomPorts(workloadRandom) } } },
              mergePatch,
            ),
          );
        } else if (draw < 0.6) {
          tally.annotationChanges++;
          const [key, values] = workloadRandom.pick(ANNOTATIONS);
          const value = workloadRandom.next() < 0.3 ? null : workloadRandom.pick(values);
          await refused(
            core.patchNamespacedService(
              { namespace: NAMESPACE, name, body: { metadata: { annotations: { [key]: value } } } },
              mergePatch,
            ),
          );
        } else if (draw < 0.85) {
          tally.typeChanges++;
          const next: Kind =
            kind === "LoadBalancer" ? workloadRandom.pick(["NodePort", "ClusterIP"] as const) : "LoadBalancer";
          kinds.set(name, next);
          await refused(
            core.patchNamespacedService({ namespace: NAMESPACE, name, body: { spec: { type: next } } }, mergePatch),
          );
        } else {
          tally.deleted++;
          kinds.set(name, "deleted");
          await core.deleteNamespacedService({ namespace: NAMESPACE, name });
        }
      }
      await sleep(workloadRandom.int(50, 250));
    }
    return [...kinds.keys()];
  }

  /**
   * SIGKILLs the running controller at random moments once it is at work (its caches synced), and starts
   * a new one, until `until`. Counting from "at work" keeps the kills meaningful on a slow machine,
   * where a process may take seconds to start.
   */
  async function killAtRandom(until: number): Promise<number> {
    let kills = 0;
    for (;;) {
      const running = controllers.at(-1);
      await running
        ?.waitForLog((line) => line.msg === "caches synced; starting workers", "its caches synced", 60_000)
        .catch(() => undefined);
      await sleep(killRandom.int(...KILL_AFTER_WORKING_MS));
      if (Date.now() >= until) return kills;
      if (running && !running.process.exit) {
        process.kill(running.pid, "SIGKILL");
        await running.process.exited;
        kills++;
      }
      await sleep(killRandom.int(200, 1_500));
      await startOne();
    }
  }

  async function run(): Promise<string> {
    await startOne();
    proxy.setRates(FAULT_RATES);
    const until = Date.now() + CHURN_MS;
    const tally: Tally = {
      created: 0,
      portChanges: 0,
      annotationChanges: 0,
      typeChanges: 0,
      deleted: 0,
      nodesJoined: 0,
      nodesLeft: 0,
      refused: 0,
    };
    const [names, kills] = await Promise.all([churn(until, tally), killAtRandom(until)]);
    proxy.setRates(NO_FAULTS);
    const faultsStopped = Date.now();
    const faults = proxy.counts();
    expect(tally.created).toBe(SERVICES);
    expect(kills).toBeGreaterThan(0);
    const injected = faults.throttle + faults["server-error"] + faults["lost-answer"];
    expect(faults.calls, "AWS calls while the faults were on").toBeGreaterThan(100);
    expect(injected / faults.calls).toBeGreaterThanOrEqual(0.2);

    let problems: string[] = ["not audited yet"];
    let audits = 0;
    let pages = 0;
    while (problems.length > 0 && Date.now() - faultsStopped < CONVERGE_BOUND_MS) {
      if (audits > 0) await sleep(2_000);
      const audit = await auditCloud(elbv2, ec2, CLUSTER);
      pages = audit.pages;
      const services = (await core.listNamespacedService({ namespace: NAMESPACE })).items;
      const nodes = (await core.listNode()).items;
      problems = disagreements(
        audit,
        NAMESPACE,
        services,
        nodes.map((node) => instanceOf(node.spec?.providerID)),
        names,
      );
      audits++;
    }
    const convergedMs = Date.now() - faultsStopped;
    const running = controllers.at(-1);
    expect(running?.process.exit, "the last controller exited on its own").toBeUndefined();
    const summary = {
      seed: SEED,
      calls: faults.calls,
      faultsInjected: injected,
      faults,
      kills,
      ...tally,
      convergedMs: problems.length === 0 ? convergedMs : null,
      audits,
      auditPages: pages,
      disagreements: problems.length,
    };
    expect(problems, `not converged ${CONVERGE_BOUND_MS / 1000} s after the faults stopped`).toEqual([]);
    return JSON.stringify(summary);
  }

  it(`converges exactly after ${SERVICES} Services churned through faults and kills`, async () => {
    try {
      console.log(`chaos: ${await run()}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`chaos run failed; replay with CHAOS_SEED=${SEED}: ${message}`, { cause: error });
    }
  }, 420_000);
});
