/**
 * Bad input at the API boundary, through `lb-provisioner run --provider aws` as a process against a
 * real kube-apiserver and moto: Services the apiserver accepts but no load balancer can be built from —
 * malformed or contradictory AWS annotations, and Service fields a Network Load Balancer cannot serve
 * (the apiserver itself refuses malformed ports and source ranges). Each must end in one Warning Event that names the
 * field at fault, with no cloud resource (not one mutating cloud call), and stay at one Warning across
 * periodic resyncs (no hot loop); a good Service created after all of them is still served.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api, type CoreV1Event, type V1Service, type V1ServicePort } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  controllerWarningsOn,
  createNodes,
  seedAwsNetwork,
  seedNodes,
  waitFor,
  withAwsEndpoint,
  withControlPlane,
} from "../harness/index.ts";
import { type ControllerProcess, parseMetrics, sumMetric } from "../integration/cli-process.ts";
import { startAwsController } from "./aws-controller.ts";
import { awsClients } from "./aws-provider-fixtures.ts";
import { auditCloud, resourcesOf } from "./cloud-audit.ts";

const CLUSTER = "bad-input";
const NAMESPACE = "default";
const A = "service.beta.kubernetes.io/aws-load-balancer-";
/** Short, so the rows see several forced re-ensures while the test waits. */
const RESYNC_PERIOD_MS = 2_000;

interface Row {
  readonly name: string;
  readonly annotations?: Record<string, string>;
  readonly ports?: V1ServicePort[];
  readonly allocateLoadBalancerNodePorts?: boolean;
  /** The field the Warning must name. */
  readonly field: string;
}

const annotation = (key: string): string => `metadata.annotations["${key}"]`;
const tcp = (port: number, extra: Partial<V1ServicePort> = {}): V1ServicePort => ({ port, protocol: "TCP", ...extra });

const ROWS: readonly Row[] = [
  { name: "type-nlb-ip", annotations: { [`${A}type`]: "nlb-ip" }, field: annotation(`${A}type`) },
  { name: "type-classic", annotations: { [`${A}type`]: "classic" }, field: annotation(`${A}type`) },
  { name: "scheme-unknown", annotations: { [`${A}scheme`]: "public" }, field: annotation(`${A}scheme`) },
  {
    name: "scheme-contradicts-internal",
    annotations: { [`${A}scheme`]: "internet-facing", [`${A}internal`]: "true" },
    field: annotation(`${A}scheme`),
  },
  {
    name: "target-type-pod",
    annotations: { [`${A}nlb-target-type`]: "pod" },
    field: annotation(`${A}nlb-target-type`),
  },
  { name: "subnets-empty", annotations: { [`${A}subnets`]: " , " }, field: annotation(`${A}subnets`) },
  {
    name: "subnets-repeated",
    annotations: { [`${A}subnets`]: "subnet-0a1,subnet-0a1" },
    field: annotation(`${A}subnets`),
  },
  {
    name: "eip-not-an-id",
    annotations: { [`${A}eip-allocations`]: "eip-123" },
    field: annotation(`${A}eip-allocations`),
  },
  {
    name: "eip-on-internal",
    annotations: { [`${A}internal`]: "true", [`${A}eip-allocations`]: "eipalloc-0a1b" },
    field: annotation(`${A}eip-allocations`),
  },
  {
    name: "private-ip-on-public",
    annotations: { [`${A}private-ipv4-addresses`]: "192.168.1.50" },
    field: annotation(`${A}private-ipv4-addresses`),
  },
  {
    name: "private-ip-malformed",
    annotations: { [`${A}internal`]: "true", [`${A}private-ipv4-addresses`]: "192.168.1.300" },
    field: annotation(`${A}private-ipv4-addresses`),
  },
  {
    name: "ssl-cert-sni-not-an-arn",
    annotations: { [`${A}ssl-cert`]: "arn:aws:acm:us-east-1:123456789012:certificate/a,www.example.com" },
    field: annotation(`${A}ssl-cert`),
  },
  { name: "ssl-cert-not-an-arn", annotations: { [`${A}ssl-cert`]: "my-cert" }, field: annotation(`${A}ssl-cert`) },
  {
    name: "backend-protocol-grpc",
    annotations: { [`${A}backend-protocol`]: "grpc" },
    field: annotation(`${A}backend-protocol`),
  },
  {
    name: "tag-aws-prefix",
    annotations: { [`${A}additional-resource-tags`]: "aws:owner=me" },
    field: annotation(`${A}additional-resource-tags`),
  },
  {
    name: "tag-ownership",
    annotations: { [`${A}additional-resource-tags`]: `kubernetes.io/cluster/${CLUSTER}=shared` },
    field: annotation(`${A}additional-resource-tags`),
  },
  {
    name: "tags-too-many",
    annotations: {
      [`${A}additional-resource-tags`]: Array.from({ length: 41 }, (_, i) => `t${i}=v`).join(","),
    },
    field: annotation(`${A}additional-resource-tags`),
  },
  {
    name: "tag-key-too-long",
    annotations: { [`${A}additional-resource-tags`]: `${"k".repeat(129)}=v` },
    field: annotation(`${A}additional-resource-tags`),
  },
  {
    name: "tag-empty-key",
    annotations: { [`${A}additional-resource-tags`]: "team=web,=orphan" },
    field: annotation(`${A}additional-resource-tags`),
  },
  {
    name: "tag-value-refused-by-aws",
    annotations: { [`${A}additional-resource-tags`]: "team=web;api" },
    field: annotation(`${A}additional-resource-tags`),
  },
  {
    name: "healthcheck-protocol-udp",
    annotations: { [`${A}healthcheck-protocol`]: "udp" },
    field: annotation(`${A}healthcheck-protocol`),
  },
  {
    name: "healthcheck-port-zero",
    annotations: { [`${A}healthcheck-port`]: "0" },
    field: annotation(`${A}healthcheck-port`),
  },
  {
    name: "healthcheck-port-unknown-name",
    annotations: { [`${A}healthcheck-port`]: "metrics" },
    field: annotation(`${A}healthcheck-port`),
  },
  {
    name: "healthcheck-path-relative",
    annotations: { [`${A}healthcheck-protocol`]: "http", [`${A}healthcheck-path`]: "healthz" },
    field: annotation(`${A}healthcheck-path`),
  },
  {
    name: "healthcheck-interval-low",
    annotations: { [`${A}healthcheck-interval`]: "4" },
    field: annotation(`${A}healthcheck-interval`),
  },
  {
    name: "healthcheck-timeout-text",
    annotations: { [`${A}healthcheck-timeout`]: "ten" },
    field: annotation(`${A}healthcheck-timeout`),
  },
  {
    name: "healthy-threshold-high",
    annotations: { [`${A}healthcheck-healthy-threshold`]: "11" },
    field: annotation(`${A}healthcheck-healthy-threshold`),
  },
  {
    name: "unhealthy-threshold-low",
    annotations: { [`${A}healthcheck-unhealthy-threshold`]: "1" },
    field: annotation(`${A}healthcheck-unhealthy-threshold`),
  },
  {
    name: "cross-zone-maybe",
    annotations: { [`${A}cross-zone-load-balancing-enabled`]: "maybe" },
    field: annotation(`${A}cross-zone-load-balancing-enabled`),
  },
  {
    name: "access-log-without-bucket",
    annotations: { [`${A}access-log-enabled`]: "true" },
    field: annotation(`${A}access-log-s3-bucket-name`),
  },
  {
    name: "access-log-yes",
    annotations: { [`${A}access-log-enabled`]: "yes" },
    field: annotation(`${A}access-log-enabled`),
  },
  {
    name: "tg-attribute-unknown",
    annotations: { [`${A}target-group-attributes`]: "slow_start.duration_seconds=30" },
    field: annotation(`${A}target-group-attributes`),
  },
  {
    name: "tg-attribute-bad-value",
    annotations: { [`${A}target-group-attributes`]: "stickiness.type=lb_cookie" },
    field: annotation(`${A}target-group-attributes`),
  },
  {
    name: "tg-attribute-udp-client-ip",
    annotations: { [`${A}target-group-attributes`]: "preserve_client_ip.enabled=false" },
    ports: [{ port: 53, protocol: "UDP" }],
    field: annotation(`${A}target-group-attributes`),
  },
  {
    name: "tg-attribute-prototype-name",
    annotations: { [`${A}target-group-attributes`]: "__proto__=true" },
    field: annotation(`${A}target-group-attributes`),
  },
  {
    name: "node-labels-not-a-label-key",
    annotations: { [`${A}target-node-labels`]: "node pool=edge" },
    field: annotation(`${A}target-node-labels`),
  },
  {
    name: "node-labels-no-key",
    annotations: { [`${A}target-node-labels`]: "=worker" },
    field: annotation(`${A}target-node-labels`),
  },
  {
    name: "attributes-unknown-key",
    annotations: { [`${A}attributes`]: "idle_timeout.timeout_seconds=60" },
    field: annotation(`${A}attributes`),
  },
  {
    name: "attributes-bad-value",
    annotations: { [`${A}attributes`]: "deletion_protection.enabled=yes" },
    field: annotation(`${A}attributes`),
  },
  {
    name: "attributes-contradict-cross-zone",
    annotations: {
      [`${A}attributes`]: "load_balancing.cross_zone.enabled=true",
      [`${A}cross-zone-load-balancing-enabled`]: "false",
    },
    field: annotation(`${A}attributes`),
  },
  {
    name: "proxy-protocol-per-port",
    annotations: { [`${A}proxy-protocol`]: "80" },
    field: annotation(`${A}proxy-protocol`),
  },
  {
    name: "alpn-policy-unknown",
    annotations: {
      [`${A}ssl-cert`]: "arn:aws:acm:us-east-1:123456789012:certificate/a",
      [`${A}alpn-policy`]: "h2",
    },
    field: annotation(`${A}alpn-policy`),
  },
  {
    name: "success-codes-out-of-range",
    annotations: { [`${A}healthcheck-protocol`]: "http", [`${A}healthcheck-success-codes`]: "200-600" },
    field: annotation(`${A}healthcheck-success-codes`),
  },
  {
    name: "ip-address-type-ipv6",
    annotations: { [`${A}ip-address-type`]: "ipv6" },
    field: annotation(`${A}ip-address-type`),
  },
  // The seeded subnets have no IPv6 CIDR block: refused after reading them, before anything is made.
  {
    name: "dualstack-without-ipv6-subnets",
    annotations: { [`${A}ip-address-type`]: "dualstack" },
    field: annotation(`${A}ip-address-type`),
  },
  {
    name: "security-groups-by-name",
    annotations: { [`${A}security-groups`]: "web-frontend" },
    field: annotation(`${A}security-groups`),
  },
  {
    name: "security-groups-missing",
    annotations: { [`${A}security-groups`]: "sg-0123456789abcdef0" },
    field: annotation(`${A}security-groups`),
  },
  {
    name: "eip-empty-entry",
    annotations: { [`${A}eip-allocations`]: "eipalloc-0a1b,,eipalloc-2c3d" },
    field: annotation(`${A}eip-allocations`),
  },
  {
    name: "ssl-ports-none",
    annotations: { [`${A}ssl-cert`]: "arn:aws:acm:us-east-1:123456789012:certificate/a", [`${A}ssl-ports`]: "" },
    field: annotation(`${A}ssl-ports`),
  },
  { name: "protocol-sctp", ports: [{ port: 9000, protocol: "SCTP" }], field: "spec.ports[0].protocol" },
  {
    name: "tcp-udp-split-node-ports",
    ports: [
      { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30053 },
      { name: "dns-udp", port: 53, protocol: "UDP", nodePort: 30054 },
    ],
    field: "spec.ports[1].nodePort",
  },
  { name: "no-node-ports", allocateLoadBalancerNodePorts: false, field: "spec.allocateLoadBalancerNodePorts" },
];

function serviceOf(row: Row): V1Service {
  return {
    metadata: { name: row.name, namespace: NAMESPACE, ...(row.annotations ? { annotations: row.annotations } : {}) },
    spec: {
      type: "LoadBalancer",
      selector: { app: row.name },
      ports: row.ports ?? [tcp(80)],
      ...(row.allocateLoadBalancerNodePorts === undefined
        ? {}
        : { allocateLoadBalancerNodePorts: row.allocateLoadBalancerNodePorts }),
    },
  };
}

describe("bad input through the controller as a process (aws provider, moto)", () => {
  const controlPlane = withControlPlane();
  const aws = withAwsEndpoint();
  let core: CoreV1Api;
  let ec2: EC2Client;
  let elbv2: ElasticLoadBalancingV2Client;
  let controller: ControllerProcess;

  beforeAll(async () => {
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    ({ ec2, elbv2 } = awsClients(aws));
    const network = await seedAwsNetwork(ec2, { clusterName: CLUSTER });
    await createNodes(core, seedNodes(network.instances));
    controller = await startAwsController("bad-input", controlPlane, aws, CLUSTER, [
      "--leader-elect=false",
      "--resync-period",
      `${RESYNC_PERIOD_MS}ms`,
    ]);
  });

  afterAll(async () => {
    await controller?.process.stop(5_000);
    ec2?.destroy();
    elbv2?.destroy();
  });

  const warningsOf = (name: string): Promise<CoreV1Event[]> => controllerWarningsOn(core, NAMESPACE, name);

  async function metrics(): Promise<Map<string, number>> {
    return parseMetrics(await (await fetch(`${await controller.endpoint("/metrics")}/metrics`)).text());
  }

  it(`refuses ${ROWS.length} malformed Services with one Warning each naming the field, building nothing`, async () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(30);
    for (const row of ROWS) await core.createNamespacedService({ namespace: NAMESPACE, body: serviceOf(row) });

    for (const row of ROWS) {
      const [warning] = await waitFor(
        async () => ((await warningsOf(row.name)).length > 0 ? warningsOf(row.name) : undefined),
        {
          description: `a Warning on ${row.name}`,
        },
      );
      expect(warning?.reason, row.name).toBe("SyncLoadBalancerFailed");
      expect(warning?.message, row.name).toContain(row.field);
    }

    // Several forced re-ensures later, still one Warning per Service, seen once, and logged once.
    const resyncsBefore = controller.logs().filter((line) => line.msg === "periodic resync").length;
    await waitFor(
      () => controller.logs().filter((line) => line.msg === "periodic resync").length >= resyncsBefore + 3,
      { description: "three periodic resyncs", timeoutMs: 10 * RESYNC_PERIOD_MS },
    );
    for (const row of ROWS) {
      const warnings = await warningsOf(row.name);
      expect(
        warnings.map((w) => [w.reason, w.count]),
        row.name,
      ).toEqual([["SyncLoadBalancerFailed", 1]]);
      const logged = controller
        .logs()
        .filter((line) => line.key === `${NAMESPACE}/${row.name}` && line.level === "warn");
      expect(logged, row.name).toHaveLength(1);
    }

    // Nothing was created: no resource, not even one mutating call.
    const audit = await auditCloud(elbv2, ec2, CLUSTER);
    expect(audit.loadBalancers).toEqual([]);
    expect(audit.targetGroups).toEqual([]);
    expect(audit.securityGroups).toEqual([]);
    expect(sumMetric(await metrics(), "lbp_provider_calls_total", ['mutating="true"'])).toBe(0);
  });

  it("still serves a good Service created after them", async () => {
    await core.createNamespacedService({ namespace: NAMESPACE, body: serviceOf({ name: "good", field: "" }) });
    const hostname = await waitFor(
      async () =>
        (await core.readNamespacedService({ namespace: NAMESPACE, name: "good" })).status?.loadBalancer?.ingress?.[0]
          ?.hostname,
      { description: "default/good to get a hostname", timeoutMs: 60_000, intervalMs: 250 },
    );
    const mine = resourcesOf(await auditCloud(elbv2, ec2, CLUSTER), `${NAMESPACE}/good`);
    expect(mine.loadBalancers.map((lb) => lb.dnsName)).toEqual([hostname]);
    expect(mine.loadBalancers[0]?.listeners.map((l) => [l.port, l.protocol])).toEqual([[80, "TCP"]]);
    expect(mine.targetGroups).toHaveLength(1);
    expect(mine.securityGroups).toHaveLength(1);
    // The good one is the only Service with cloud resources.
    const audit = await auditCloud(elbv2, ec2, CLUSTER);
    expect(new Set(audit.loadBalancers.map((lb) => lb.service))).toEqual(new Set([`${NAMESPACE}/good`]));
  });
});
