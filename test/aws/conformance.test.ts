/**
 * The provider conformance suite against the AWS provider, with the real AWS SDK talking to the test
 * endpoint (moto by default). Nodes are real EC2 instances of a seeded VPC, made dual-stack.
 */
import {
  CreateLoadBalancerCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  type LoadBalancer,
  LoadBalancerNotFoundException,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { loadBalancerName } from "../../providers/aws/names.ts";
import { describeProviderConformance } from "../../providers/conformance/index.ts";
import type { LoadBalancerRef } from "../../providers/index.ts";
import { type SeededAwsNetwork, seedAwsNetwork, withAwsEndpoint } from "../harness/index.ts";
import { type AwsClients, addIpv6, awsClients, awsProviderOn, shareSubnets } from "./aws-provider-fixtures.ts";

const CLUSTER = "conformance";
const endpoint = withAwsEndpoint();
let clients: AwsClients | undefined;
let network: SeededAwsNetwork | undefined;

function created(): { clients: AwsClients; network: SeededAwsNetwork } {
  if (clients === undefined || network === undefined) throw new Error("clients and network are made in create()");
  return { clients, network };
}

const nameOf = (ref: LoadBalancerRef) =>
  loadBalancerName({ clusterName: ref.clusterName, namespace: ref.service.namespace, name: ref.service.name });

/** The load balancer of that name, if any. */
async function findLoadBalancer(name: string): Promise<LoadBalancer | undefined> {
  try {
    const found = await created().clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] }));
    return found.LoadBalancers?.[0];
  } catch (error) {
    if (error instanceof LoadBalancerNotFoundException) return undefined;
    throw error;
  }
}

describeProviderConformance({
  name: "aws",
  create: async ({ onCall }) => {
    clients = awsClients(endpoint);
    network = await seedAwsNetwork(clients.ec2, { clusterName: CLUSTER, instances: 5 });
    // lists-owned-load-balancers builds one load balancer for a second cluster in the same VPC.
    await shareSubnets(clients.ec2, network, [`${CLUSTER}-other`]);
    // A dual-stack VPC, so the ip-families case can build dualstack NLBs and IPv6 target groups.
    const nodes = await addIpv6(clients.ec2, network);
    const provider = await awsProviderOn(endpoint, clients, { clusterName: CLUSTER, onCall });
    return {
      provider,
      nodes,
      clusterName: CLUSTER,
      teardown: async () => {
        await provider.close();
        clients?.elbv2.destroy();
        clients?.ec2.destroy();
      },
    };
  },
  // A second provider on the same account, as after a restart of the controller.
  restart: ({ onCall }) => awsProviderOn(endpoint, created().clients, { clusterName: CLUSTER, onCall }),
  // As an operator would in the console: the load balancer goes (with its listeners); target groups
  // and the security group stay behind for the provider to find and reuse.
  deleteOutOfBand: async (ref) => {
    const { elbv2 } = created().clients;
    const lb = await findLoadBalancer(nameOf(ref));
    if (lb === undefined) return;
    const listeners = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    for (const listener of listeners.Listeners ?? [])
      await elbv2.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
    await elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
  },
  // Another tool's NLB under the name the provider would give this Service's, without its tags.
  occupy: async (ref) => {
    const { clients: aws, network: seeded } = created();
    const name = nameOf(ref);
    const subnets = seeded.subnets.map((subnet) => subnet.subnetId);
    const made = await aws.elbv2.send(new CreateLoadBalancerCommand({ Name: name, Type: "network", Subnets: subnets }));
    const arn = made.LoadBalancers?.[0]?.LoadBalancerArn;
    return {
      exists: async () => (await findLoadBalancer(name))?.LoadBalancerArn === arn,
      remove: async () => void (await aws.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }))),
    };
  },
});
