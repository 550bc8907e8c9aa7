/**
 * The annotations charts ship for the AWS Load Balancer Controller, and `aws-load-balancer-attributes`,
 * through the AWS provider against the test endpoint (moto by default): each one read back from AWS with
 * plain SDK calls, and a second ensure with nothing changed makes no mutating call.
 */
import {
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AwsProvider } from "../../providers/aws/index.ts";
import { loadBalancerName } from "../../providers/aws/names.ts";
import { conformanceSpec, refOf } from "../../providers/conformance/index.ts";
import type { LoadBalancerRef, LoadBalancerSpec, NodeSpec } from "../../providers/types.ts";
import { seedAwsNetwork, withAwsEndpoint } from "../harness/index.ts";
import { type AwsClients, awsClients, awsProviderOn, CallRecorder, nodesOf } from "./aws-provider-fixtures.ts";

const CLUSTER = "charts";
const NAMESPACE = "default";
const A = "service.beta.kubernetes.io/aws-load-balancer-";
const endpoint = withAwsEndpoint();
const recorder = new CallRecorder();
let clients: AwsClients;
let nodes: NodeSpec[];
let provider: AwsProvider;
const created: LoadBalancerRef[] = [];

beforeAll(async () => {
  clients = awsClients(endpoint, recorder);
  const network = await seedAwsNetwork(clients.ec2, { clusterName: CLUSTER, instances: 3 });
  nodes = nodesOf(network);
  provider = await awsProviderOn(endpoint, clients, { clusterName: CLUSTER });
});

afterEach(async () => {
  for (const ref of created.splice(0)) await provider.ensureLoadBalancerDeleted(ref);
});

afterAll(async () => {
  await provider?.close();
  clients?.elbv2.destroy();
  clients?.ec2.destroy();
});

function spec(name: string, overrides: Partial<Parameters<typeof conformanceSpec>[0]> = {}): LoadBalancerSpec {
  const built = conformanceSpec({ clusterName: CLUSTER, namespace: NAMESPACE, name, nodes, ...overrides });
  created.push(refOf(built));
  return built;
}

/** Ensures `of`, then again: the second must change nothing. */
async function ensureTwice(of: LoadBalancerSpec): Promise<void> {
  await provider.ensureLoadBalancer(of);
  recorder.reset();
  await provider.ensureLoadBalancer(of);
  expect(recorder.mutatingOperations()).toEqual([]);
}

async function loadBalancerArn(of: LoadBalancerSpec): Promise<string> {
  const name = loadBalancerName({ clusterName: CLUSTER, namespace: of.service.namespace, name: of.service.name });
  const out = await clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] }));
  const arn = out.LoadBalancers?.[0]?.LoadBalancerArn;
  if (arn === undefined) throw new Error(`no load balancer ${name}`);
  return arn;
}

async function attributesInAws(of: LoadBalancerSpec): Promise<Record<string, string>> {
  const out = await clients.elbv2.send(
    new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: await loadBalancerArn(of) }),
  );
  return Object.fromEntries((out.Attributes ?? []).map((a) => [a.Key ?? "", a.Value ?? ""]));
}

describe("aws-load-balancer-attributes", () => {
  it("sets each attribute given, with cross-zone and access logs from either annotation", async () => {
    const attributed = spec("attributed", {
      annotations: {
        [`${A}attributes`]:
          "deletion_protection.enabled=true,dns_record.client_routing_policy=availability_zone_affinity,load_balancing.cross_zone.enabled=true,access_logs.s3.enabled=true,access_logs.s3.prefix=nlb",
        [`${A}access-log-s3-bucket-name`]: "my-nlb-logs",
      },
    });
    await ensureTwice(attributed);
    expect(await attributesInAws(attributed)).toMatchObject({
      "deletion_protection.enabled": "true",
      "dns_record.client_routing_policy": "availability_zone_affinity",
      "load_balancing.cross_zone.enabled": "true",
      "access_logs.s3.enabled": "true",
      "access_logs.s3.bucket": "my-nlb-logs",
      "access_logs.s3.prefix": "nlb",
    });

    // Taken out of the annotation, deletion protection and the routing policy keep their last values.
    const relaxed = spec("attributed", { annotations: { [`${A}attributes`]: "deletion_protection.enabled=false" } });
    await ensureTwice(relaxed);
    expect(await attributesInAws(relaxed)).toMatchObject({
      "deletion_protection.enabled": "false",
      "dns_record.client_routing_policy": "availability_zone_affinity",
      "load_balancing.cross_zone.enabled": "false",
      "access_logs.s3.enabled": "false",
    });
  });
});
