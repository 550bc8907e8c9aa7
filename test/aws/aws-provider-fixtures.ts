/**
 * What the AWS provider's aws-tier tests share: real SDK clients pointed at the test endpoint, a call
 * recorder installed as SDK middleware (so counts come from what was really sent, not from the
 * provider's own reporting), the provider built on those clients, and seeded instances as Nodes.
 *
 * @module
 */
import {
  AssociateSubnetCidrBlockCommand,
  AssociateVpcCidrBlockCommand,
  CreateTagsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
  type LoadBalancer,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { type AwsProvider, newAwsProvider } from "../../providers/aws/index.ts";
import { loadBalancerName } from "../../providers/aws/names.ts";
import { type Clock, systemClock } from "../../providers/aws/rate-limit.ts";
import type { LoadBalancerRef, NodeSpec, ProviderCall, ProviderLogger } from "../../providers/types.ts";
import type { AwsEndpoint, SeededAwsNetwork } from "../harness/index.ts";

/** One request the SDK sent, as seen by the middleware. */
export interface SentCall {
  /** Operation name, e.g. `RegisterTargets`. */
  readonly operation: string;
  /** By AWS naming: everything but `Describe*`/`Get*`/`List*` changes something. */
  readonly mutating: boolean;
  /** The request's input (e.g. `TargetGroupArn`), for asserting what a call touched. */
  readonly input: Readonly<Record<string, unknown>>;
}

/** Records every command either client sends. */
export class CallRecorder {
  readonly calls: SentCall[] = [];

  attach(clients: AwsClients): void {
    const options = { step: "initialize", name: "lbpTestCallRecorder" } as const;
    clients.elbv2.middlewareStack.add(
      (next, context) => async (args) => {
        this.#record(context.commandName, args.input);
        return next(args);
      },
      options,
    );
    clients.ec2.middlewareStack.add(
      (next, context) => async (args) => {
        this.#record(context.commandName, args.input);
        return next(args);
      },
      options,
    );
  }

  #record(commandName: string | undefined, input: object): void {
    const operation = String(commandName ?? "").replace(/Command$/, "");
    this.calls.push({ operation, mutating: !/^(Describe|Get|List)/.test(operation), input: { ...input } });
  }

  reset(): void {
    this.calls.length = 0;
  }

  mutating(): SentCall[] {
    return this.calls.filter((c) => c.mutating);
  }

  /** `Operation` names of the mutating calls, in order. */
  mutatingOperations(): string[] {
    return this.mutating().map((c) => c.operation);
  }
}

export interface AwsClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
}

/** SDK clients for the endpoint, with the recorder attached when given. */
export function awsClients(endpoint: AwsEndpoint, recorder?: CallRecorder): AwsClients {
  const config = {
    region: endpoint.region,
    endpoint: endpoint.endpoint,
    credentials: { ...endpoint.credentials },
    maxAttempts: 1,
  };
  const clients = { elbv2: new ElasticLoadBalancingV2Client(config), ec2: new EC2Client(config) };
  recorder?.attach(clients);
  return clients;
}

export const silentLogger: ProviderLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** The AWS provider on the given clients; release retries are short because the emulator frees at once. */
export function awsProviderOn(
  endpoint: AwsEndpoint,
  clients: AwsClients,
  options: { clusterName: string; onCall?: (call: ProviderCall) => void; clock?: Clock },
): Promise<AwsProvider> {
  return newAwsProvider(
    {
      clusterName: options.clusterName,
      logger: silentLogger,
      ...(options.onCall !== undefined && { onCall: options.onCall }),
      settings: { region: endpoint.region, endpoint: endpoint.endpoint },
    },
    {
      elbv2: clients.elbv2,
      ec2: clients.ec2,
      releaseRetry: { retries: 3, minTimeoutMs: 100, maxTimeoutMs: 500 },
      ...(options.clock !== undefined && { clock: options.clock }),
    },
  );
}

/** The system clock, pushed forward on demand: lets a test step past the provider's age bounds. */
export function steppingClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => systemClock.now() + offset,
    sleep: systemClock.sleep,
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** The seeded instances as the Nodes a controller would hand the provider. */
export function nodesOf(network: SeededAwsNetwork): NodeSpec[] {
  return network.instances.map((instance) => ({
    name: instance.nodeName,
    providerID: instance.providerID,
    addresses: [
      { type: "InternalIP", address: instance.privateIp },
      { type: "Hostname", address: instance.nodeName },
    ],
    zone: instance.zone,
    labels: { "kubernetes.io/hostname": instance.nodeName, "topology.kubernetes.io/zone": instance.zone },
  }));
}

/** Marks the seeded subnets as shared with more clusters, as operators do for shared VPCs. */
export async function shareSubnets(
  ec2: EC2Client,
  network: SeededAwsNetwork,
  clusters: readonly string[],
): Promise<void> {
  await ec2.send(
    new CreateTagsCommand({
      Resources: network.subnets.map((s) => s.subnetId),
      Tags: clusters.map((cluster) => ({ Key: `kubernetes.io/cluster/${cluster}`, Value: "shared" })),
    }),
  );
}

/** A certificate from the endpoint's ACM (moto issues one on request; no ACM SDK client needed). */
export async function requestCertificate(endpoint: AwsEndpoint, domain = "myapp.example.com"): Promise<string> {
  const response = await fetch(endpoint.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "CertificateManager.RequestCertificate",
      authorization: `AWS4-HMAC-SHA256 Credential=${endpoint.credentials.accessKeyId}/20260101/${endpoint.region}/acm/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ DomainName: domain }),
  });
  const body = (await response.json()) as { CertificateArn?: string };
  if (body.CertificateArn === undefined) throw new Error(`the endpoint issued no certificate: ${JSON.stringify(body)}`);
  return body.CertificateArn;
}

/**
 * Gives the seeded VPC an Amazon-provided IPv6 block and each seeded subnet a /64 of it, as a
 * dual-stack VPC has, and returns the nodes with an IPv6 `InternalIP` inside their subnet's /64 beside
 * the IPv4 one. (The emulator gives instances no IPv6 addresses; the nodes carry the ones a dual-stack
 * cluster's kubelet would report.)
 */
export async function addIpv6(ec2: EC2Client, network: SeededAwsNetwork): Promise<NodeSpec[]> {
  const vpc = await ec2.send(
    new AssociateVpcCidrBlockCommand({ VpcId: network.vpcId, AmazonProvidedIpv6CidrBlock: true }),
  );
  const block = vpc.Ipv6CidrBlockAssociation?.Ipv6CidrBlock;
  if (block === undefined) throw new Error("the endpoint gave the VPC no IPv6 CIDR block");
  // A /56: subnet i gets the i-th /64, numbered in the low byte of the fourth group.
  const groups = expandIpv6(block.slice(0, block.indexOf("/")));
  const fourth = Number.parseInt(groups[3] ?? "0", 16) & 0xff00;
  const prefixOf = (i: number) => [...groups.slice(0, 3), (fourth + i).toString(16)].join(":");
  const prefixes = new Map<string, string>();
  for (const [i, subnet] of network.subnets.entries()) {
    const prefix = prefixOf(i);
    await ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: subnet.subnetId, Ipv6CidrBlock: `${prefix}::/64` }));
    prefixes.set(subnet.subnetId, prefix);
  }
  return nodesOf(network).map((node, i) => {
    const instance = network.instances[i];
    const prefix = prefixes.get(instance?.subnetId ?? "") ?? prefixOf(0);
    return {
      ...node,
      addresses: [...node.addresses, { type: "InternalIP", address: `${prefix}::${(i + 2).toString(16)}` }],
    };
  });
}

/** The eight groups of an IPv6 address, `::` expanded. */
function expandIpv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  return [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
}

/** The NLB the provider names for `ref`'s Service, as DescribeLoadBalancers reports it; `undefined` when there is none. */
export async function loadBalancerOf(clients: AwsClients, ref: LoadBalancerRef): Promise<LoadBalancer | undefined> {
  const name = loadBalancerName({
    clusterName: ref.clusterName,
    namespace: ref.service.namespace,
    name: ref.service.name,
  });
  const found = await clients.elbv2
    .send(new DescribeLoadBalancersCommand({ Names: [name] }))
    .catch((e: Error) => (e.name === "LoadBalancerNotFoundException" ? { LoadBalancers: [] } : Promise.reject(e)));
  return found.LoadBalancers?.[0];
}
