/**
 * The desired AWS state of one Service: a pure function of its spec and parsed annotations.
 *
 * One NLB; one listener per Service port number (a port carrying both TCP and UDP becomes one `TCP_UDP`
 * listener); one target group per listener on the nodePort; every eligible node as a target; one
 * security group admitting `loadBalancerSourceRanges` (everyone when empty) on the listener ports.
 * Defaults follow cloud-provider-aws: TCP traffic-port health checks every 30 s (3/3) for
 * `externalTrafficPolicy: Cluster`, HTTP `/healthz` on the healthCheckNodePort every 10 s (2/2) for
 * `Local`, cross-zone off, access logs off; other load balancer attributes as AWS has them unless asked for.
 * IP families, stickiness and what "open to all" means for a dualstack load balancer come from
 * `service-fields.ts`.
 *
 * @module
 */
import { InvalidConfigurationError } from "../errors.ts";
import { cidrContains, internalAddressOf } from "../rules/index.ts";
import type { IPFamily, ListenerSpec, LoadBalancerSpec, NodeSpec } from "../types.ts";
import {
  ANNOTATION,
  type AwsServiceConfig,
  annotationField,
  type NodeLabelSelector,
  tlsSelects,
} from "./annotations.ts";
import { loadBalancerName, securityGroupName, targetGroupName } from "./names.ts";
import {
  defaultTargetType,
  loadBalancerAddressType,
  NO_STICKINESS,
  nodeFamily,
  stickinessAttributes,
  targetGroupAddressType,
} from "./service-fields.ts";
import {
  type DesiredListener,
  type DesiredState,
  type DesiredTargetGroup,
  type HealthCheck,
  type IngressRule,
  ingressRuleKey,
  type ListenerProtocol,
  type LoadBalancerAddressType,
  type SubnetMapping,
  type Tags,
  type TargetGroupProtocol,
  type TargetType,
} from "./state.ts";
import { ownershipTags } from "./tags.ts";

/** Attribute values of a new NLB, so a fresh load balancer with default settings needs no modify call. */
export const NLB_DEFAULT_ATTRIBUTES: Tags = {
  "deletion_protection.enabled": "false",
  "dns_record.client_routing_policy": "any_availability_zone",
  "load_balancing.cross_zone.enabled": "false",
  "access_logs.s3.enabled": "false",
  "access_logs.s3.bucket": "",
  "access_logs.s3.prefix": "",
};

/** Attribute values of a new target group that this provider may set, so setting them costs no call. */
export const TARGET_GROUP_DEFAULT_ATTRIBUTES: Tags = NO_STICKINESS;

/** What an empty `loadBalancerSourceRanges` opens the security group to, per `IpAddressType`. */
export const OPEN_TO_ALL: Readonly<Record<LoadBalancerAddressType, readonly string[]>> = {
  ipv4: ["0.0.0.0/0"],
  dualstack: ["0.0.0.0/0", "::/0"],
};

/** The targets a spec resolves to, and the nodes left out (with why). */
export interface TargetResolution {
  readonly targetType: TargetType;
  /** The family of ip targets' addresses (instance targets are IPv4). */
  readonly family: IPFamily;
  /** Instance ids or addresses of `family`, sorted and unique. */
  readonly ids: readonly string[];
  readonly skipped: readonly { readonly node: string; readonly reason: string }[];
}

/** The instance id in an AWS providerID (`aws:///<zone>/<instance-id>`, or `aws:///<instance-id>`). */
export function instanceIdOf(providerID: string | undefined): string | undefined {
  if (providerID === undefined) return undefined;
  const match = /^aws:\/\/[^/]*\/(?:[^/]+\/)?(i-[0-9a-zA-Z]+)$/.exec(providerID);
  return match?.[1];
}

/** Whether a node's labels satisfy `target-node-labels`. */
export function matchesNodeLabels(node: NodeSpec, selector: NodeLabelSelector): boolean {
  return Object.entries(selector).every(([key, want]) => {
    const have = Object.hasOwn(node.labels, key) ? node.labels[key] : undefined;
    return typeof want === "string" ? have === want : have !== undefined;
  });
}

/**
 * Picks instance or ip targets and lists them. Instance targets unless the annotation asks for `ip`,
 * the Service's primary family (`family`) is IPv6, or no selected node has an AWS providerID (nodes
 * outside EC2's knowledge, e.g. not yet initialised by a cloud provider, are reached by address).
 * ip targets are the nodes' `InternalIP` of `family`.
 */
export function resolveTargets(
  nodes: readonly NodeSpec[],
  config: AwsServiceConfig,
  family: IPFamily = "IPv4",
): TargetResolution {
  const skipped: { node: string; reason: string }[] = [];
  const selected = nodes.filter((node) => {
    const ok = matchesNodeLabels(node, config.targetNodeLabels);
    if (!ok) skipped.push({ node: node.name, reason: `does not match ${ANNOTATION.targetNodeLabels}` });
    return ok;
  });
  const anyInstance = selected.length === 0 || selected.some((n) => instanceIdOf(n.providerID) !== undefined);
  const targetType: TargetType = config.targetType ?? defaultTargetType(family, anyInstance);
  const ids = new Set<string>();
  for (const node of selected) {
    const id = targetType === "instance" ? instanceIdOf(node.providerID) : internalAddressOf(node, family);
    if (id !== undefined) ids.add(id);
    else
      skipped.push({
        node: node.name,
        reason:
          targetType === "instance"
            ? `has no AWS providerID (aws:///<zone>/<instance-id>): ${JSON.stringify(node.providerID ?? "")}`
            : `has no ${family} InternalIP address`,
      });
  }
  return { targetType, family: targetType === "ip" ? family : "IPv4", ids: [...ids].sort(), skipped };
}

/** The health check every target group of the Service gets. */
export function buildHealthCheck(spec: LoadBalancerSpec, config: AwsServiceConfig): HealthCheck {
  const o = config.healthCheck;
  const local = spec.healthCheck.kind === "http";
  const base = baseHealthCheck(spec);
  const protocol = o.protocol ?? base.protocol;
  const port = healthCheckPort(spec, o.port, base.port);
  const path = protocol === "TCP" ? undefined : (o.path ?? (local ? base.path : undefined) ?? "/");
  const successCodes = protocol === "TCP" ? undefined : o.successCodes;
  return {
    protocol,
    port,
    ...(path !== undefined && { path }),
    intervalSeconds: o.intervalSeconds ?? base.intervalSeconds,
    ...(o.timeoutSeconds !== undefined && { timeoutSeconds: o.timeoutSeconds }),
    healthyThreshold: o.healthyThreshold ?? base.healthyThreshold,
    unhealthyThreshold: o.unhealthyThreshold ?? base.unhealthyThreshold,
    ...(successCodes !== undefined && { successCodes }),
  };
}

interface PortGroup {
  readonly port: number;
  readonly nodePort: number;
  readonly listeners: readonly ListenerSpec[];
}

function groupByPort(listeners: readonly ListenerSpec[]): PortGroup[] {
  const groups = new Map<number, ListenerSpec[]>();
  for (const l of listeners) groups.set(l.port, [...(groups.get(l.port) ?? []), l]);
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, members]) => ({ port, nodePort: members[0]?.nodePort ?? 0, listeners: members }));
}

function protocolsOf(
  group: PortGroup,
  config: AwsServiceConfig,
): { listener: ListenerProtocol; target: TargetGroupProtocol } {
  const hasTcp = group.listeners.some((l) => l.protocol === "TCP");
  const hasUdp = group.listeners.some((l) => l.protocol === "UDP");
  if (hasTcp && hasUdp) return { listener: "TCP_UDP", target: "TCP_UDP" };
  if (hasUdp) return { listener: "UDP", target: "UDP" };
  const tls = config.tls;
  if (tls !== undefined && group.listeners.some((l) => tlsSelects(tls.ports, l)))
    return { listener: "TLS", target: tls.backendTls ? "TLS" : "TCP" };
  return { listener: "TCP", target: "TCP" };
}

/** The full desired state of `spec` (already validated). */
/** cloud-provider-aws's health check before annotations: HTTP `/healthz` for `Local`, else TCP. */
function baseHealthCheck(spec: LoadBalancerSpec): HealthCheck {
  return spec.healthCheck.kind === "http"
    ? {
        protocol: "HTTP",
        port: spec.healthCheck.port,
        path: spec.healthCheck.path,
        intervalSeconds: 10,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      }
    : { protocol: "TCP", port: "traffic-port", intervalSeconds: 30, healthyThreshold: 3, unhealthyThreshold: 3 };
}

/** The port the annotation asks for — a number, `traffic-port`, or a Service port's nodePort by name — else `base`. */
function healthCheckPort(
  spec: LoadBalancerSpec,
  asked: AwsServiceConfig["healthCheck"]["port"],
  base: HealthCheck["port"],
): HealthCheck["port"] {
  if (asked === undefined) return base;
  if (asked === "traffic-port" || typeof asked === "number") return asked;
  return spec.listeners.find((l) => l.name === asked.portName)?.nodePort ?? base;
}

export function buildDesiredState(
  spec: LoadBalancerSpec,
  config: AwsServiceConfig,
  targets: TargetResolution = resolveTargets(spec.nodes, config, nodeFamily(spec)),
): DesiredState {
  const scope = { clusterName: spec.clusterName, namespace: spec.service.namespace, name: spec.service.name };
  const tags: Tags = { ...config.additionalTags, ...ownershipTags(spec) };
  const healthCheck = buildHealthCheck(spec, config);
  const targetGroups: DesiredTargetGroup[] = [];
  const listeners: DesiredListener[] = [];
  const ingress = new Map<string, IngressRule>();
  const ipAddressType = loadBalancerAddressType(spec, config);
  const targetGroupFamily = targetGroupAddressType(targets.targetType, targets.family);
  // The controller decided the ranges (the field, else the annotation); empty means open to all.
  const cidrs = spec.sourceRanges.length > 0 ? [...new Set(spec.sourceRanges)] : OPEN_TO_ALL[ipAddressType];

  for (const group of groupByPort(spec.listeners)) {
    const protocols = protocolsOf(group, config);
    const name = targetGroupName(scope, {
      servicePort: group.port,
      protocol: protocols.target,
      nodePort: group.nodePort,
      targetType: targets.targetType,
      healthCheckProtocol: healthCheck.protocol,
      ipAddressType: targetGroupFamily,
    });
    targetGroups.push({
      name,
      servicePort: group.port,
      protocol: protocols.target,
      port: group.nodePort,
      targetType: targets.targetType,
      ipAddressType: targetGroupFamily,
      healthCheck,
      attributes: { ...stickinessAttributes(spec, config, protocols.target), ...config.targetGroupAttributes },
      targets: targets.ids.map((id) => ({ id, port: group.nodePort })),
      tags,
    });
    listeners.push(desiredListenerOf(group.port, protocols.listener, name, config, tags));
    for (const rule of ingressRulesOf(group.port, protocols.listener, cidrs)) ingress.set(ingressRuleKey(rule), rule);
  }

  return {
    loadBalancer: {
      name: loadBalancerName(scope),
      scheme: config.scheme,
      ipAddressType,
      ipv6SourceNat:
        ipAddressType === "dualstack" && listeners.some((l) => l.protocol === "UDP" || l.protocol === "TCP_UDP"),
      tags,
      attributes: config.loadBalancerAttributes,
      ...(config.securityGroups !== undefined && { securityGroups: config.securityGroups }),
    },
    securityGroup: {
      name: securityGroupName(scope),
      description: securityGroupDescription(spec),
      tags,
      ingress: [...ingress.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, rule]) => rule),
    },
    targetGroups,
    listeners,
  };
}

/** EC2 allows 255 characters; long namespaces, names and cluster names are cut, the tags say it all. */
function securityGroupDescription(spec: LoadBalancerSpec): string {
  const text = `lb-provisioner: load balancer of ${spec.service.namespace}/${spec.service.name} in cluster ${spec.clusterName}`;
  return text.length <= 255 ? text : `${text.slice(0, 252)}...`;
}

/** A subnet as placement needs it. */
export interface PlacementSubnet {
  readonly id: string;
  readonly cidr: string;
}

/**
 * `CreateLoadBalancer` subnet mappings: Elastic IPs and private addresses are matched to subnets by
 * position, as cloud-provider-aws does, so their counts must equal the number of subnets.
 */
export function buildSubnetMappings(config: AwsServiceConfig, subnets: readonly PlacementSubnet[]): SubnetMapping[] {
  const eips = config.eipAllocations;
  const ips = config.privateIpv4Addresses;
  const ids = subnets.map((s) => s.id).join(", ");
  if (eips !== undefined && eips.length !== subnets.length)
    throw new InvalidConfigurationError(
      annotationField(ANNOTATION.eipAllocations),
      `lists ${eips.length} allocation IDs but the load balancer is placed in ${subnets.length} subnets (${ids}); list one per subnet, in the same order`,
    );
  if (ips !== undefined && ips.length !== subnets.length)
    throw new InvalidConfigurationError(
      annotationField(ANNOTATION.privateIpv4Addresses),
      `lists ${ips.length} addresses but the load balancer is placed in ${subnets.length} subnets (${ids}); list one per subnet, in the same order`,
    );
  return subnets.map((subnet, i) => {
    const privateIp = ips?.[i];
    if (privateIp !== undefined && !cidrContains(subnet.cidr, privateIp))
      throw new InvalidConfigurationError(
        annotationField(ANNOTATION.privateIpv4Addresses),
        `${privateIp} is not inside subnet ${subnet.id} (${subnet.cidr}); list addresses in subnet order`,
      );
    const allocationId = eips?.[i];
    return {
      subnetId: subnet.id,
      ...(allocationId !== undefined && { allocationId }),
      ...(privateIp !== undefined && { privateIPv4Address: privateIp }),
    };
  });
}

/** The listener on `port`, forwarding to the target group `targetGroupName`; TLS settings when it is TLS. */
function desiredListenerOf(
  port: number,
  protocol: DesiredListener["protocol"],
  targetGroupName: string,
  config: AwsServiceConfig,
  tags: Tags,
): DesiredListener {
  const tls = protocol === "TLS" ? config.tls : undefined;
  return {
    port,
    protocol,
    targetGroupName,
    ...(tls !== undefined && {
      certificateArn: tls.certificateArn,
      sniCertificateArns: [...tls.sniCertificateArns].sort(),
    }),
    ...(tls?.sslPolicy !== undefined && { sslPolicy: tls.sslPolicy }),
    ...(tls?.alpnPolicy !== undefined && { alpnPolicy: tls.alpnPolicy }),
    tags,
  };
}

/** The security group rules that let `cidrs` reach `port` over the listener's IP protocols. */
function ingressRulesOf(port: number, protocol: DesiredListener["protocol"], cidrs: readonly string[]): IngressRule[] {
  const ipProtocols: ("tcp" | "udp")[] =
    protocol === "TCP_UDP" ? ["tcp", "udp"] : protocol === "UDP" ? ["udp"] : ["tcp"];
  return ipProtocols.flatMap((ipProtocol) =>
    cidrs.map((cidr) => ({ protocol: ipProtocol, fromPort: port, toPort: port, cidr })),
  );
}
