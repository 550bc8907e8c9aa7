/**
 * The provider conformance suite against the AWS provider, with the real AWS SDK talking to the test
 * endpoint (moto by default). Nodes are real EC2 instances of a seeded VPC.
 */
import {
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { loadBalancerName } from "../../providers/aws/names.ts";
import { describeProviderConformance } from "../../providers/conformance/index.ts";
import { seedAwsNetwork, withAwsEndpoint } from "../harness/index.ts";
import { type AwsClients, awsClients, awsProviderOn, nodesOf, shareSubnets } from "./aws-provider-fixtures.ts";

const CLUSTER = "conformance";
const endpoint = withAwsEndpoint();
let clients: AwsClients | undefined;

describeProviderConformance({
  name: "aws",
  create: async ({ onCall }) => {
    clients = awsClients(endpoint);
    const network = await seedAwsNetwork(clients.ec2, { clusterName: CLUSTER, instances: 5 });
    // lists-owned-load-balancers builds one load balancer for a second cluster in the same VPC.
    await shareSubnets(clients.ec2, network, [`${CLUSTER}-other`]);
    const provider = await awsProviderOn(endpoint, clients, { clusterName: CLUSTER, onCall });
    return {
      provider,
      nodes: nodesOf(network),
      clusterName: CLUSTER,
      teardown: async () => {
        await provider.close();
        clients?.elbv2.destroy();
        clients?.ec2.destroy();
      },
    };
  },
  // As an operator would in the console: the load balancer goes (with its listeners); target groups
  // and the security group stay behind for the provider to find and reuse.
  deleteOutOfBand: async (ref) => {
    if (clients === undefined) throw new Error("clients are created in create()");
    const name = loadBalancerName({
      clusterName: ref.clusterName,
      namespace: ref.service.namespace,
      name: ref.service.name,
    });
    const found = await clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] }));
    for (const lb of found.LoadBalancers ?? []) {
      const listeners = await clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
      for (const listener of listeners.Listeners ?? [])
        await clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
      await clients.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    }
  },
});
