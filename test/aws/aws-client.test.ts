/**
 * The AWS provider's client wrapper against the test endpoint: the error answers AWS (and moto) give
 * for missing, malformed and duplicate resources, as the provider sees them after the error boundary.
 */
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsClient } from "../../providers/aws/client.ts";
import { NotFoundError } from "../../providers/aws/errors.ts";
import { ConflictError, InvalidConfigurationError } from "../../providers/errors.ts";
import type { ProviderCall } from "../../providers/types.ts";
import { type SeededAwsNetwork, seedAwsNetwork, withAwsEndpoint } from "../harness/index.ts";
import { type AwsClients, awsClients } from "./aws-provider-fixtures.ts";

const endpoint = withAwsEndpoint();
let clients: AwsClients;
let network: SeededAwsNetwork;
let client: AwsClient;
const calls: ProviderCall[] = [];

beforeAll(async () => {
  clients = awsClients(endpoint);
  network = await seedAwsNetwork(clients.ec2, { clusterName: "prod", instances: 0 });
  client = new AwsClient({ elbv2: clients.elbv2, ec2: clients.ec2, onCall: (call) => calls.push(call) });
});

beforeEach(() => {
  calls.length = 0;
});

afterAll(() => {
  clients?.elbv2.destroy();
  clients?.ec2.destroy();
});

async function targetGroup(name: string): Promise<string> {
  const out = await clients.elbv2.send(
    new CreateTargetGroupCommand({ Name: name, Protocol: "TCP", Port: 30008, VpcId: network.vpcId }),
  );
  return out.TargetGroups?.[0]?.TargetGroupArn ?? "";
}

describe("AwsClient against the endpoint", () => {
  it("reads a missing load balancer or target group as absent, reporting not_found", async () => {
    expect(await client.findLoadBalancers("k8s-nothing-here-0123456789")).toEqual([]);
    expect(await client.findTargetGroup("k8s-nothing-here-0123456789")).toBeUndefined();
    expect(calls.map((c) => `${c.operation}:${c.outcome}`)).toEqual([
      "DescribeLoadBalancers:not_found",
      "DescribeTargetGroups:not_found",
    ]);
  });

  it("treats deleting what is already gone as done", async () => {
    const arn = await targetGroup("client-gone");
    await clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
    await client.deleteTargetGroup(arn);
    await client.deleteSecurityGroup("sg-0123456789abcdef0");
    expect(calls.map((c) => `${c.operation}:${c.outcome}`)).toEqual([
      "DeleteTargetGroup:not_found",
      "DeleteSecurityGroup:not_found",
    ]);
  });

  it("reports a change to a resource that is gone as NotFoundError (transient)", async () => {
    const arn = await targetGroup("client-vanished");
    await clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
    await expect(client.registerTargets(arn, [{ id: "i-0123456789abcdef0", port: 30008 }])).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("refuses a malformed request as invalid configuration, without retrying it", async () => {
    const error = await client
      .createTargetGroup({ Name: "-not_a_valid_name", Protocol: "TCP", Port: 30008, VpcId: network.vpcId })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect(calls.map((c) => `${c.operation}:${c.outcome}`)).toEqual(["CreateTargetGroup:invalid"]);
  });

  it("reports a name taken with other settings as a conflict", async () => {
    await targetGroup("client-taken");
    const error = await client
      .createTargetGroup({ Name: "client-taken", Protocol: "UDP", Port: 30009, VpcId: network.vpcId })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(calls.map((c) => c.outcome)).toEqual(["conflict"]);
  });

  it("still describes the rest when one resource of a batch vanished", async () => {
    const keep = await targetGroup("client-keep");
    const also = await targetGroup("client-also");
    const gone = await targetGroup("client-vanishes");
    await clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: gone }));
    const groups = await client.describeTargetGroups([keep, gone, also]);
    expect(groups.map((g) => g.TargetGroupName).sort()).toEqual(["client-also", "client-keep"]);
    const tags = await client.describeTags([keep, gone, also]);
    expect(tags.has(keep) && tags.has(also)).toBe(true);
    // AWS refuses the batch (the client then narrows it down); moto answers with no tags. Either way
    // the vanished one proves no ownership.
    expect(tags.get(gone) ?? {}).toEqual({});
  });

  it("aggregates every page of a listing", async () => {
    const all = await client.listTargetGroups();
    const direct = await clients.elbv2.send(new DescribeTargetGroupsCommand({}));
    expect(all.map((g) => g.TargetGroupArn).sort()).toEqual(
      (direct.TargetGroups ?? []).map((g) => g.TargetGroupArn).sort(),
    );
  });
});
