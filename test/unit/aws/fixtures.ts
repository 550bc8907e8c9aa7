/**
 * Builders for AWS provider unit tests: the seed scenario's Service (port 80 -> nodePort 30008) on three
 * EC2 nodes, with tweaks.
 *
 * @module
 */
import { buildDesiredState } from "../../../providers/aws/model.ts";
import type { DesiredState } from "../../../providers/aws/state.ts";
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
