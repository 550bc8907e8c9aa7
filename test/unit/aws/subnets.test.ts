import { describe, expect, it } from "vitest";
import { ANNOTATION, annotationField } from "../../../providers/aws/annotations.ts";
import {
  type DiscoveryInput,
  discoverSubnets,
  INTERNAL_ROLE_TAG,
  isPublicSubnet,
  PUBLIC_ROLE_TAG,
  type RouteTableInfo,
  resolveNamedSubnets,
  type SubnetInfo,
} from "../../../providers/aws/subnets.ts";

function subnet(id: string, zone: string, tags: Record<string, string> = {}): SubnetInfo {
  return { id, vpcId: "vpc-1", zone, cidr: "10.0.0.0/24", tags };
}

const publicTable: RouteTableInfo = { subnetIds: [], main: true, internetGateway: true };
const privateTable = (...subnetIds: string[]): RouteTableInfo => ({ subnetIds, main: false, internetGateway: false });

function discover(overrides: Partial<DiscoveryInput>) {
  return discoverSubnets({
    subnets: [],
    routeTables: [publicTable],
    zoneTypes: new Map(),
    scheme: "internet-facing",
    clusterName: "prod",
    ...overrides,
  }).map((s) => s.id);
}

describe("discoverSubnets", () => {
  it("takes one subnet per zone, sorted by zone", () => {
    const subnets = [
      subnet("subnet-b", "us-east-1b"),
      subnet("subnet-a", "us-east-1a"),
      subnet("subnet-a2", "us-east-1a"),
    ];
    expect(discover({ subnets })).toEqual(["subnet-a", "subnet-b"]);
  });

  it("skips subnets tagged for another cluster, keeps own-cluster and untagged ones", () => {
    const subnets = [
      subnet("subnet-1", "us-east-1a", { "kubernetes.io/cluster/other": "shared" }),
      subnet("subnet-2", "us-east-1b", { "kubernetes.io/cluster/prod": "shared" }),
      subnet("subnet-3", "us-east-1c"),
    ];
    expect(discover({ subnets })).toEqual(["subnet-2", "subnet-3"]);
  });

  it("breaks ties by role tag, then cluster tag, then lowest id", () => {
    const subnets = [
      subnet("subnet-1", "us-east-1a"),
      subnet("subnet-2", "us-east-1a", { "kubernetes.io/cluster/prod": "owned" }),
      subnet("subnet-3", "us-east-1a", { [PUBLIC_ROLE_TAG]: "1" }),
      subnet("subnet-4", "us-east-1b"),
      subnet("subnet-5", "us-east-1b", { "kubernetes.io/cluster/prod": "owned" }),
      subnet("subnet-6", "us-east-1c", { [INTERNAL_ROLE_TAG]: "1" }),
      subnet("subnet-7", "us-east-1c"),
    ];
    expect(discover({ subnets })).toEqual(["subnet-3", "subnet-5", "subnet-6"]);
    expect(discover({ subnets, scheme: "internal" })).toEqual(["subnet-2", "subnet-5", "subnet-6"]);
  });

  it("uses only public subnets for internet-facing load balancers, any for internal ones", () => {
    const subnets = [subnet("subnet-pub", "us-east-1a"), subnet("subnet-priv", "us-east-1b")];
    const routeTables = [publicTable, privateTable("subnet-priv")];
    expect(discover({ subnets, routeTables })).toEqual(["subnet-pub"]);
    expect(discover({ subnets, routeTables, scheme: "internal" })).toEqual(["subnet-pub", "subnet-priv"]);
  });

  it("drops Local Zone and Wavelength subnets", () => {
    const subnets = [subnet("subnet-az", "us-east-1a"), subnet("subnet-lz", "us-east-1-bos-1a")];
    expect(discover({ subnets, zoneTypes: new Map([["us-east-1-bos-1a", "local-zone"]]) })).toEqual(["subnet-az"]);
  });

  it("explains which tags it wanted when nothing qualifies", () => {
    const subnets = [subnet("subnet-priv", "us-east-1a")];
    expect(() => discover({ subnets, routeTables: [privateTable("subnet-priv")] })).toThrow(
      expect.objectContaining({
        field: annotationField(ANNOTATION.subnets),
        message: expect.stringMatching(/kubernetes\.io\/cluster\/prod.*internet gateway.*kubernetes\.io\/role\/elb=1/),
      }),
    );
  });
});

describe("isPublicSubnet", () => {
  it("uses the subnet's own table, else the VPC's main table", () => {
    const tables: RouteTableInfo[] = [
      { subnetIds: [], main: true, internetGateway: false },
      { subnetIds: ["subnet-pub"], main: false, internetGateway: true },
    ];
    expect(isPublicSubnet("subnet-pub", tables)).toBe(true);
    expect(isPublicSubnet("subnet-other", tables)).toBe(false);
    expect(isPublicSubnet("subnet-x", [])).toBe(false);
  });
});

describe("resolveNamedSubnets", () => {
  const found = [
    subnet("subnet-a", "us-east-1a", { Name: "public-a" }),
    subnet("subnet-b", "us-east-1b", { Name: "public-b" }),
    subnet("subnet-c", "us-east-1b", { Name: "dup" }),
    subnet("subnet-d", "us-east-1c", { Name: "dup" }),
  ];

  it("resolves ids and Name tags in annotation order", () => {
    expect(resolveNamedSubnets(["public-b", "subnet-a"], found).map((s) => s.id)).toEqual(["subnet-b", "subnet-a"]);
  });

  it.each([
    [["subnet-zzz"], /"subnet-zzz" matches no subnet/],
    [["dup"], /"dup" matches 2 subnets/],
    [["subnet-b", "subnet-c"], /two subnets in us-east-1b/],
  ])("rejects %j", (entries, message) => {
    expect(() => resolveNamedSubnets(entries, found)).toThrow(
      expect.objectContaining({ field: annotationField(ANNOTATION.subnets), message: expect.stringMatching(message) }),
    );
  });

  it("rejects subnets from two VPCs", () => {
    const mixed = [subnet("subnet-a", "us-east-1a"), { ...subnet("subnet-b", "us-east-1b"), vpcId: "vpc-2" }];
    expect(() => resolveNamedSubnets(["subnet-a", "subnet-b"], mixed)).toThrow(/2 VPCs/);
  });
});
