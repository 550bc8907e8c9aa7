/**
 * Where a new load balancer is created: its VPC and subnets. Needed only when a load balancer (or its
 * security group) does not exist yet; an existing load balancer's VPC is read from it.
 *
 * The VPC is, in order: that of the subnets the annotation names; the `vpcId` provider setting; the VPC
 * of the Service's nodes (their EC2 instances, from providerIDs). The nodes' VPC is remembered: a
 * cluster does not move. What discovery reads of a VPC (subnets, route tables, zones) is reused for
 * {@link NETWORK_MAX_AGE_MS}, so Services created together cost those reads once; a subnet tagged or
 * added meanwhile is used by load balancers created after that.
 *
 * A dualstack load balancer goes only into subnets with an IPv6 CIDR block, new or changed to dualstack:
 * otherwise placement refuses, naming the subnets, before anything is created or changed.
 *
 * @module
 */
import type { Subnet } from "@aws-sdk/client-ec2";
import { InvalidConfigurationError } from "../errors.ts";
import type { LoadBalancerSpec } from "../types.ts";
import { ANNOTATION, type AwsServiceConfig, annotationField } from "./annotations.ts";
import type { AwsClient } from "./client.ts";
import { buildSubnetMappings, instanceIdOf } from "./model.ts";
import type { Clock } from "./rate-limit.ts";
import { loadBalancerAddressType } from "./service-fields.ts";
import type { SubnetMapping } from "./state.ts";
import {
  type DualStackReason,
  discoverSubnets,
  type RouteTableInfo,
  requireIpv6Subnets,
  resolveNamedSubnets,
  type SubnetInfo,
} from "./subnets.ts";
import { fromTagList } from "./tags.ts";

/** How many node instances to ask EC2 about when looking for the cluster's VPC. */
const VPC_PROBE_INSTANCES = 5;

/** How long a VPC's subnets, route tables and zones, read for subnet discovery, are reused. */
export const NETWORK_MAX_AGE_MS = 5 * 60_000;

interface VpcNetwork {
  readonly readAt: number;
  readonly subnets: readonly SubnetInfo[];
  readonly routeTables: readonly RouteTableInfo[];
  readonly zoneTypes: ReadonlyMap<string, string>;
}

export interface PlacementResult {
  readonly vpcId: string;
  readonly subnetMappings: readonly SubnetMapping[];
}

export class Placement {
  readonly #client: AwsClient;
  readonly #configuredVpcId: string | undefined;
  readonly #clock: Clock;
  #nodesVpcId: string | undefined;
  #probing: Promise<string> | undefined;
  readonly #networks = new Map<string, Promise<VpcNetwork>>();

  constructor(client: AwsClient, vpcId: string | undefined, clock: Clock) {
    this.#client = client;
    this.#configuredVpcId = vpcId;
    this.#clock = clock;
  }

  /** The VPC and subnet mappings for a new load balancer of `spec`. */
  async resolve(spec: LoadBalancerSpec, config: AwsServiceConfig, signal?: AbortSignal): Promise<PlacementResult> {
    const dualStack = loadBalancerAddressType(spec, config) === "dualstack";
    if (config.subnets !== undefined) {
      const subnets = await this.#namedSubnets(config.subnets, signal);
      if (dualStack) requireIpv6Subnets(subnets, dualStackReason(config));
      return { vpcId: subnets[0]?.vpcId ?? "", subnetMappings: buildSubnetMappings(config, subnets) };
    }
    const vpcId = await this.vpcId(spec, signal);
    const network = await this.#network(vpcId, signal);
    const subnets = discoverSubnets({
      subnets: network.subnets,
      routeTables: network.routeTables,
      zoneTypes: network.zoneTypes,
      scheme: config.scheme,
      clusterName: spec.clusterName,
      dualStack,
    });
    if (dualStack) requireIpv6Subnets(subnets, dualStackReason(config));
    return { vpcId, subnetMappings: buildSubnetMappings(config, subnets) };
  }

  /**
   * Before an existing load balancer in `subnetIds` becomes dualstack: throws, naming the subnets,
   * unless each has an IPv6 CIDR block. Reads them now: a block may have been associated since.
   */
  async requireDualStackSubnets(
    subnetIds: readonly string[],
    config: AwsServiceConfig,
    signal?: AbortSignal,
  ): Promise<void> {
    if (subnetIds.length === 0) return;
    const raw = await this.#client.describeSubnets([{ Name: "subnet-id", Values: [...subnetIds] }], { signal });
    const subnets = raw.map(toSubnetInfo).filter((s): s is SubnetInfo => s !== undefined);
    requireIpv6Subnets(subnets, { ...dualStackReason(config), existing: true });
  }

  /** What subnet discovery needs of `vpcId`, read at most every {@link NETWORK_MAX_AGE_MS}. */
  async #network(vpcId: string, signal: AbortSignal | undefined): Promise<VpcNetwork> {
    const cached = this.#networks.get(vpcId);
    if (cached !== undefined) {
      const network = await cached.catch(() => undefined);
      if (network !== undefined && this.#clock.now() - network.readAt <= NETWORK_MAX_AGE_MS) return network;
    }
    // Callers arriving together share one read; a failed or stale one is replaced once.
    let reading = this.#networks.get(vpcId);
    if (reading === undefined || reading === cached) {
      reading = this.#readNetwork(vpcId, signal);
      this.#networks.set(vpcId, reading);
    }
    try {
      return await reading;
    } catch (error) {
      if (this.#networks.get(vpcId) === reading) this.#networks.delete(vpcId);
      throw error;
    }
  }

  async #readNetwork(vpcId: string, signal: AbortSignal | undefined): Promise<VpcNetwork> {
    const readAt = this.#clock.now();
    const [rawSubnets, routeTables, zones] = await Promise.all([
      this.#client.describeSubnets([{ Name: "vpc-id", Values: [vpcId] }], { signal }),
      this.#client.describeRouteTables(vpcId, { signal }),
      this.#client.describeAvailabilityZones({ signal }),
    ]);
    return {
      readAt,
      subnets: rawSubnets.map(toSubnetInfo).filter((s): s is SubnetInfo => s !== undefined),
      routeTables: routeTables.map(
        (table): RouteTableInfo => ({
          subnetIds: (table.Associations ?? []).flatMap((a) => (a.SubnetId === undefined ? [] : [a.SubnetId])),
          main: (table.Associations ?? []).some((a) => a.Main === true),
          internetGateway: (table.Routes ?? []).some((r) => r.GatewayId?.startsWith("igw") ?? false),
        }),
      ),
      zoneTypes: new Map(
        zones.flatMap((z) => (z.ZoneName === undefined || z.ZoneType === undefined ? [] : [[z.ZoneName, z.ZoneType]])),
      ),
    };
  }

  /** The cluster's VPC (see the module doc). */
  async vpcId(spec: LoadBalancerSpec, signal?: AbortSignal): Promise<string> {
    if (this.#configuredVpcId !== undefined) return this.#configuredVpcId;
    if (this.#nodesVpcId !== undefined) return this.#nodesVpcId;
    // Services created together wait for one probe; one that found nothing leaves each to probe its own nodes.
    if (this.#probing !== undefined) {
      const shared = await this.#probing.catch(() => undefined);
      if (shared !== undefined) return shared;
    }
    const probe = this.#probeNodes(spec, signal);
    this.#probing = probe;
    try {
      return await probe;
    } finally {
      if (this.#probing === probe) this.#probing = undefined;
    }
  }

  async #probeNodes(spec: LoadBalancerSpec, signal: AbortSignal | undefined): Promise<string> {
    const ids = spec.nodes
      .map((n) => instanceIdOf(n.providerID))
      .filter((id): id is string => id !== undefined)
      .slice(0, VPC_PROBE_INSTANCES);
    const instances = await this.#client.describeInstances(ids, { signal });
    const vpcId = instances.find((i) => i.VpcId !== undefined)?.VpcId;
    if (vpcId === undefined)
      throw new InvalidConfigurationError(
        annotationField(ANNOTATION.subnets),
        "cannot tell which VPC the load balancer belongs in: no node has an AWS providerID of a known EC2 instance; " +
          "list the subnets in this annotation, or start the controller with --provider-config vpcId=<vpc-id>",
      );
    this.#nodesVpcId = vpcId;
    return vpcId;
  }

  async #namedSubnets(entries: readonly string[], signal: AbortSignal | undefined): Promise<SubnetInfo[]> {
    const ids = entries.filter((e) => e.startsWith("subnet-"));
    const names = entries.filter((e) => !e.startsWith("subnet-"));
    const vpcFilter = this.#configuredVpcId === undefined ? [] : [{ Name: "vpc-id", Values: [this.#configuredVpcId] }];
    const [byId, byName] = await Promise.all([
      ids.length === 0 ? [] : this.#client.describeSubnets([{ Name: "subnet-id", Values: ids }], { signal }),
      names.length === 0
        ? []
        : this.#client.describeSubnets([{ Name: "tag:Name", Values: names }, ...vpcFilter], { signal }),
    ]);
    const found = [...byId, ...byName].map(toSubnetInfo).filter((s): s is SubnetInfo => s !== undefined);
    return resolveNamedSubnets(entries, found);
  }
}

/**
 * IPv6 blocks in these states are going or never came. Any other block counts, whatever its state
 * reads as: moto 5.2 nests the state one level too deep, and lists only associated blocks anyway.
 */
const GONE_IPV6_STATES: ReadonlySet<string> = new Set(["disassociating", "disassociated", "failing", "failed"]);

function toSubnetInfo(subnet: Subnet): SubnetInfo | undefined {
  if (subnet.SubnetId === undefined || subnet.VpcId === undefined || subnet.AvailabilityZone === undefined)
    return undefined;
  const ipv6Cidrs = (subnet.Ipv6CidrBlockAssociationSet ?? []).flatMap((association) =>
    association.Ipv6CidrBlock !== undefined && !GONE_IPV6_STATES.has(String(association.Ipv6CidrBlockState?.State))
      ? [association.Ipv6CidrBlock]
      : [],
  );
  return {
    id: subnet.SubnetId,
    vpcId: subnet.VpcId,
    zone: subnet.AvailabilityZone,
    cidr: subnet.CidrBlock ?? "",
    ipv6Cidrs,
    tags: fromTagList(subnet.Tags),
  };
}

/** Which field made the load balancer dualstack, and how to ask for IPv4 only there. */
function dualStackReason(config: AwsServiceConfig): DualStackReason {
  return config.ipAddressType === "dualstack"
    ? { field: annotationField(ANNOTATION.ipAddressType), instead: 'set it to "ipv4"' }
    : {
        field: "spec.ipFamilies",
        instead: "give the Service IPv4 only (spec.ipFamilies: [IPv4], spec.ipFamilyPolicy: SingleStack)",
      };
}
