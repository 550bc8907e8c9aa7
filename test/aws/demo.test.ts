/**
 * `npm run demo -- --provider aws` as a user runs it, as a child process (not a TTY), against the
 * emulator named by AWS_ENDPOINT_URL (the run's shared endpoint): the NLB's DNS name and the three
 * instance-backed targets appear as healthy, then the fourth, then the cleanup; it exits 0 and leaves
 * no load balancer of its cluster behind.
 */
import { DescribeLoadBalancersCommand, DescribeTagsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, describe, expect, it } from "vitest";
import { withAwsEndpoint } from "../harness/index.ts";
import { runCommand } from "../integration/cli-process.ts";
import { type AwsClients, awsClients } from "./aws-provider-fixtures.ts";

describe("demo --provider aws, run as a process", () => {
  const aws = withAwsEndpoint();
  let clients: AwsClients | undefined;

  afterAll(() => {
    clients?.elbv2.destroy();
    clients?.ec2.destroy();
  });

  it("shows the NLB and its instance targets, the fourth node and the cleanup, then exits 0", async () => {
    const run = await runCommand(["demo", "--provider", "aws", "--cluster-name", "demo-aws"], {
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
      NO_COLOR: "1",
    });

    expect(run.code, run.stdout + run.stderr).toBe(0);
    const out = run.stdout;
    expect(out).toContain(`Start the provider: aws against AWS_ENDPOINT_URL at ${aws.endpoint}`);
    expect(out).toMatch(/Wait for the load balancer: address \S+\.elb\.amazonaws\.com/);
    for (const ip of ["192.168.1.2", "192.168.1.3", "192.168.1.4"]) {
      expect(out).toMatch(new RegExp(`node-\\d ${ip.replaceAll(".", "\\.")}:30008 +healthy`));
    }
    const fourth = out.indexOf("Wait for the new target: node-4 192.168.1.5:30008");
    const cleanup = out.indexOf("Wait for the cleanup: load balancer deleted, finalizer removed, Service gone");
    expect(fourth).toBeGreaterThan(0);
    expect(cleanup).toBeGreaterThan(fourth);

    clients = awsClients(aws);
    const loadBalancers = (await clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const arns = loadBalancers.map((loadBalancer) => loadBalancer.LoadBalancerArn ?? "");
    const tags =
      arns.length === 0
        ? []
        : ((await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: arns }))).TagDescriptions ?? []);
    const ownedByDemo = tags.filter((description) =>
      (description.Tags ?? []).some((tag) => tag.Key === "kubernetes.io/cluster/demo-aws"),
    );
    expect(ownedByDemo).toEqual([]);
  });
});
