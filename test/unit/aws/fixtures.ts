/**
 * Builders for AWS provider unit tests: the seed scenario's Service (port 80 -> nodePort 30008) on three
 * EC2 nodes, with tweaks.
 *
 * @module
 */
import { buildDesiredState } from "../../../providers/aws/model.ts";
import type { ActualState, ActualTargetGroup, DesiredState } from "../../../providers/aws/state.ts";
import { requireValidSpec } from "../../../providers/aws/validate.ts";
import type { ListenerSpec, LoadBalancerSpec, NodeSpec } from "../../../providers/types.ts";

export type SpecTweak = (spec: Mutable<LoadBalancerSpec>) => void;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function newNode(index: number, overrides: Partial<NodeSpec> = {}): NodeSpec {
  const zone = ["us-east-1a", "us-east-1b", "us-east-1c"][index % 3] ?? "us-east-1a";
  return {
    name: `node-${index}`,
    providerID: `aws:///${zone}/i-0000000000000000${index}`,
    addresses: [{ type: "InternalIP", address: `192.168.1.${index + 2}` }],
    zone,
    labels: {},
    ...overrides,
  };
}

export function newSpec(...tweaks: SpecTweak[]): LoadBalancerSpec {
  const spec: Mutable<LoadBalancerSpec> = {
    clusterName: "prod",
    service: { namespace: "default", name: "myapp", uid: "0b6f1c1e-8a0d-4f7c-9d1e-3c2b1a000001" },
    listeners: [{ name: "", port: 80, protocol: "TCP", nodePort: 30008 }],
    nodes: [newNode(0), newNode(1), newNode(2)],
    healthCheck: { kind: "traffic-port", protocol: "TCP" },
    externalTrafficPolicy: "Cluster",
    sourceRanges: [],
    annotations: {},
  };
  for (const tweak of tweaks) tweak(spec);
  return spec;
}

export const withAnnotations =
  (annotations: Record<string, string>): SpecTweak =>
  (spec) => {
    spec.annotations = { ...spec.annotations, ...annotations };
  };

export const withListeners =
  (...listeners: ListenerSpec[]): SpecTweak =>
  (spec) => {
    spec.listeners = listeners;
  };

export const withLocalTraffic =
  (healthCheckNodePort = 32000): SpecTweak =>
  (spec) => {
    spec.externalTrafficPolicy = "Local";
    spec.healthCheck = { kind: "http", protocol: "HTTP", port: healthCheckNodePort, path: "/healthz" };
  };

export const withNodes =
  (...nodes: NodeSpec[]): SpecTweak =>
  (spec) => {
    spec.nodes = nodes;
  };

export const withSourceRanges =
  (...ranges: string[]): SpecTweak =>
  (spec) => {
    spec.sourceRanges = ranges;
  };

/** The annotation key with the common prefix added. */
export function key(suffix: string): string {
  return `service.beta.kubernetes.io/${suffix}`;
}

/** The desired state the provider builds from a valid spec. */
export function desiredOf(spec: LoadBalancerSpec): DesiredState {
  return buildDesiredState(spec, requireValidSpec(spec).config);
}

export const arnOf = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0001`;

/** The actual state that exactly matches `desired`, as AWS would report it. */
export function inSync(desired: DesiredState): ActualState {
  return {
    loadBalancer: {
      arn: "arn:lb",
      name: desired.loadBalancer.name,
      dnsName: "lb.example",
      scheme: desired.loadBalancer.scheme,
      vpcId: "vpc-1",
      securityGroups: ["sg-1"],
      tags: desired.loadBalancer.tags,
      attributes: { ...desired.loadBalancer.attributes, "deletion_protection.enabled": "false" },
    },
    listeners: desired.listeners.map((l, i) => ({
      arn: `arn:listener/${i}`,
      port: l.port,
      protocol: l.protocol,
      targetGroupArn: arnOf(l.targetGroupName),
      ...(l.certificateArn !== undefined && { certificateArn: l.certificateArn }),
      ...(l.sniCertificateArns !== undefined && { sniCertificateArns: l.sniCertificateArns }),
      // AWS reports a policy even on TCP listeners (moto does too): it must not cause a modify.
      sslPolicy: l.sslPolicy ?? "ELBSecurityPolicy-2016-08",
      alpnPolicy: l.alpnPolicy ?? "None",
    })),
    targetGroups: desired.targetGroups.map(
      (tg): ActualTargetGroup => ({
        arn: arnOf(tg.name),
        name: tg.name,
        protocol: tg.protocol,
        port: tg.port,
        targetType: tg.targetType,
        healthCheck: {
          protocol: tg.healthCheck.protocol,
          port: String(tg.healthCheck.port),
          ...(tg.healthCheck.path !== undefined && { path: tg.healthCheck.path }),
          intervalSeconds: tg.healthCheck.intervalSeconds,
          timeoutSeconds: 10,
          healthyThreshold: tg.healthCheck.healthyThreshold,
          unhealthyThreshold: tg.healthCheck.unhealthyThreshold,
          // AWS reports a matcher for HTTP checks whether or not one was asked for.
          successCodes: tg.healthCheck.successCodes ?? "200-399",
        },
        tags: { ...tg.tags, extra: "kept" },
        ...(Object.keys(tg.attributes).length > 0 && {
          attributes: { ...tg.attributes, "stickiness.enabled": "false" },
        }),
        targets: tg.targets,
      }),
    ),
    securityGroup: {
      id: "sg-1",
      name: desired.securityGroup.name,
      tags: desired.securityGroup.tags,
      ingress: desired.securityGroup.ingress,
    },
  };
}
