import { describe, expect, it } from "vitest";
import type { AwsServiceConfig } from "../../../providers/aws/annotations.ts";
import type { AwsClient } from "../../../providers/aws/client.ts";
import { NETWORK_MAX_AGE_MS, Placement } from "../../../providers/aws/placement.ts";
import { requireValidSpec } from "../../../providers/aws/validate.ts";
import { newNode, newSpec, withNodes } from "./fixtures.ts";

/** A VPC with one public subnet per zone; counts what is read. */
function region() {
  const reads: string[] = [];
  const client = {
    describeInstances: async (ids: readonly string[]) => {
      reads.push("DescribeInstances");
      await new Promise((resolve) => setTimeout(resolve, 5));
      return ids.map((id) => ({ InstanceId: id, VpcId: "vpc-1" }));
    },
    describeSubnets: async () => {
      reads.push("DescribeSubnets");
      return ["a", "b"].map((z) => ({
        SubnetId: `subnet-${z}`,
        VpcId: "vpc-1",
        AvailabilityZone: `us-east-1${z}`,
        CidrBlock: "10.0.0.0/24",
      }));
    },
    describeRouteTables: async () => {
      reads.push("DescribeRouteTables");
      return [{ Associations: [{ Main: true }], Routes: [{ GatewayId: "igw-1" }] }];
    },
    describeAvailabilityZones: async () => {
      reads.push("DescribeAvailabilityZones");
      return [];
    },
  };
  return { client: client as unknown as AwsClient, reads };
}

describe("Placement", () => {
  const spec = newSpec();
  const config: AwsServiceConfig = requireValidSpec(spec).config;

  it("reads the VPC's network once for load balancers created together, and again when it is old", async () => {
    let now = 0;
    const { client, reads } = region();
    const placement = new Placement(client, undefined, { now: () => now, sleep: async () => {} });
    const placed = await Promise.all([1, 2, 3].map(() => placement.resolve(spec, config)));
    for (const result of placed) expect(result.subnetMappings.map((m) => m.subnetId)).toEqual(["subnet-a", "subnet-b"]);
    expect(reads.sort()).toEqual([
      "DescribeAvailabilityZones",
      "DescribeInstances",
      "DescribeRouteTables",
      "DescribeSubnets",
    ]);
    now = NETWORK_MAX_AGE_MS + 1;
    reads.length = 0;
    await placement.resolve(spec, config);
    expect(reads.sort()).toEqual(["DescribeAvailabilityZones", "DescribeRouteTables", "DescribeSubnets"]);
  });

  it("lets each Service probe its own nodes when a shared probe found no VPC", async () => {
    const { client, reads } = region();
    const placement = new Placement(client, undefined, { now: () => 0, sleep: async () => {} });
    const bare = newSpec(withNodes({ ...newNode(0), providerID: "" }));
    const [failed, found] = await Promise.allSettled([placement.vpcId(bare), placement.vpcId(spec)]);
    expect(failed.status).toBe("rejected");
    expect(found).toEqual({ status: "fulfilled", value: "vpc-1" });
    expect(reads.filter((r) => r === "DescribeInstances")).toHaveLength(2);
  });
});
