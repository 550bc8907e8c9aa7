/**
 * The Helm chart in deploy/chart, with a helm built from Go modules (scripts/ensure-helm.sh, cached):
 * it lints; it refuses to render without the values that have no safe default, naming them; it renders
 * deploy/ byte for byte (deploy/ is generated from it); with every option set, each lands where it
 * belongs and every object passes a real kube-apiserver's schema; its RBAC is proven by running the
 * controller as its ServiceAccount (the proof rbac.test.ts runs on deploy/); and every metric and label
 * the Grafana dashboard and the alerts name is on that controller's /metrics.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  ApiextensionsV1Api,
  type KubeConfig,
  type KubernetesObject,
  loadAllYaml,
  type V1ConfigMap,
  type V1Deployment,
  type V1Service,
  type V1ServiceAccount,
} from "@kubernetes/client-node";
import { parser } from "@prometheus-io/lezer-promql";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { CHART_DIR, driftedManifests, expectedManifests, RELEASE, renderChart } from "../../scripts/manifests.ts";
import { waitFor } from "../harness/index.ts";
import { applyObject, applyObjects } from "./cli-process.ts";
import { describeRbacProof } from "./rbac-proof.ts";

const EVERYTHING = join(CHART_DIR, "ci", "everything-values.yaml");
const RBAC_KINDS = new Set(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);
// Labels Prometheus adds from the scrape target, not the controller: selectors may use them freely.
const TARGET_LABELS = new Set(["namespace", "pod", "job", "instance", "service", "endpoint", "container"]);

let everything: Promise<KubernetesObject[]> | undefined;
/** The chart rendered with ci/everything-values.yaml (every option on), rendered once. */
function renderEverything(): Promise<KubernetesObject[]> {
  everything ??= renderChart(inject("helm"), { valuesFiles: [EVERYTHING] }).then(
    (text) => loadAllYaml(text).filter(Boolean) as KubernetesObject[],
  );
  return everything;
}

function find<T>(objects: readonly KubernetesObject[], kind: string, nameSuffix = ""): T {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name?.endsWith(nameSuffix));
  if (!found) throw new Error(`the rendered chart has no ${kind} named *${nameSuffix}`);
  return found as T;
}

const scrapes: string[] = [];
const controlPlane = describeRbacProof({
  subject: "the Helm chart",
  serviceAccount: { namespace: RELEASE, name: RELEASE },
  objects: async () => (await renderEverything()).filter((object) => RBAC_KINDS.has(object.kind ?? "")),
  onMetrics: (_run, text) => scrapes.push(text),
});

describe("the Helm chart", () => {
  let helm: string;
  beforeAll(() => {
    helm = inject("helm");
  });

  it("lints clean, strictly, with deploy/'s values and with every option set", async () => {
    for (const values of ["manifests-values.yaml", "everything-values.yaml"]) {
      const { stdout } = await promisify(execFile)(helm, [
        "lint",
        "--strict",
        CHART_DIR,
        "--values",
        join(CHART_DIR, "ci", values),
      ]);
      expect(stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    }
  });

  it("refuses to render without a provider, or aws without a region, or replicas without leader election", async () => {
    await expect(renderChart(helm)).rejects.toThrow(/provider is required: aws, fake .* e\.g\. --set provider=aws/);
    await expect(renderChart(helm, { set: ["provider=aws"] })).rejects.toThrow(
      /region is required with provider aws: .* --set region=us-east-1/,
    );
    await expect(renderChart(helm, { set: ["provider=fake", "leaderElection.enabled=false"] })).rejects.toThrow(
      /leaderElection.enabled=false needs replicaCount 1/,
    );
    await expect(
      renderChart(helm, { set: ["provider=fake", "leaderElection.enabled=false", "replicaCount=1"] }),
    ).resolves.toContain("--leader-elect=false");
  });

  it("renders deploy/ byte for byte (regenerate it with `make manifests`)", async () => {
    const expected = await expectedManifests(helm);
    expect([...expected.keys()].sort()).toEqual([
      "clusterrole.yaml",
      "deployment.yaml",
      "namespace.yaml",
      "pdb.yaml",
      "role.yaml",
      "serviceaccount.yaml",
    ]);
    expect(
      driftedManifests(expected),
      "deploy/ is generated from deploy/chart: change the chart, then run `make manifests`",
    ).toEqual([]);
  });

  it("puts every value where it belongs", async () => {
    const objects = await renderEverything();
    const account = find<V1ServiceAccount>(objects, "ServiceAccount");
    expect(account.metadata?.annotations).toEqual({
      "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/lb-provisioner",
    });
    const deployment = find<V1Deployment>(objects, "Deployment");
    const pod = deployment.spec?.template;
    const container = pod?.spec?.containers[0];
    expect(deployment.spec?.replicas).toBe(3);
    expect(container?.image).toBe("registry.example.com/lb-provisioner:0.1.0-rc.1");
    expect(container?.args).toEqual([
      "run",
      "--provider=aws",
      "--cluster-name=prod-eu",
      "--load-balancer-class=example.com/nlb",
      "--leader-elect=true",
      "--leader-elect-resource-name=lb-provisioner",
      "--metrics-bind-address=:8080",
      "--health-probe-bind-address=:8081",
      "--provider-config=vpcId=vpc-0123456789abcdef0",
      "--concurrent-service-syncs=10",
      "--log-level=debug",
    ]);
    expect(container?.env).toContainEqual({ name: "AWS_REGION", value: "eu-west-1" });
    expect(container?.env).toContainEqual({ name: "LBP_RESYNC_PERIOD", value: "15m" });
    // Helm merges values into the defaults: the CPU limit stays unless set to null.
    expect(container?.resources).toEqual({
      requests: { cpu: "100m", memory: "192Mi" },
      limits: { cpu: "1", memory: "512Mi" },
    });
    expect(pod?.spec).toMatchObject({
      imagePullSecrets: [{ name: "registry-credentials" }],
      nodeSelector: { "kubernetes.io/os": "linux" },
      priorityClassName: "system-cluster-critical",
    });
    expect(pod?.metadata?.labels).toMatchObject({ "example.com/tier": "control" });
    expect(pod?.metadata?.annotations).toMatchObject({ "example.com/team": "platform", "prometheus.io/port": "8080" });

    // The ServiceMonitor scrapes the metrics Service, which selects the Deployment's pods on their metrics port.
    const service = find<V1Service>(objects, "Service", "-metrics");
    const monitor = find<{ spec: { selector: { matchLabels: object }; endpoints: { port: string }[] } }>(
      objects,
      "ServiceMonitor",
    );
    expect(service.metadata?.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints.map((endpoint) => endpoint.port)).toEqual(service.spec?.ports?.map((p) => p.name));
    expect(pod?.metadata?.labels).toMatchObject(service.spec?.selector ?? { none: "selector" });
    expect(container?.ports?.map((port) => port.name)).toContain(service.spec?.ports?.[0]?.targetPort);

    const dashboard = find<V1ConfigMap>(objects, "ConfigMap", "-dashboard");
    expect(dashboard.metadata?.labels).toMatchObject({ grafana_dashboard: "1" });
    expect(JSON.parse(dashboard.data?.["lb-provisioner.json"] ?? "")).toEqual(
      JSON.parse(readFileSync(join(CHART_DIR, "files", "grafana-dashboard.json"), "utf8")),
    );
  });

  it("applies to a real kube-apiserver: every object accepted and stored with every field it was given", async () => {
    const objects = await renderEverything();
    const admin = controlPlane.kubeConfig();
    await applyObjects(admin, monitoringCrds());
    await waitForCrds(admin);
    // A field the client's model or the schema does not know is dropped on the way, not refused: so
    // compare what was stored with what was rendered.
    for (const object of objects) {
      const stored = await applyObject(admin, object);
      expect(missingFields(object, stored), `${object.kind} ${object.metadata?.name}`).toEqual([]);
    }
    // The two negative controls: a misspelt field is found missing, and an invalid value is refused.
    const deployment = find<V1Deployment & KubernetesObject>(objects, "Deployment");
    const misspelt = { ...deployment, spec: { ...deployment.spec, replica: 2 } } as KubernetesObject;
    expect(missingFields(misspelt, await applyObject(admin, misspelt, { dryRun: true }))).toEqual(["spec.replica"]);
    const invalid = structuredClone(deployment);
    const port = invalid.spec?.template.spec?.containers[0]?.ports?.[0];
    if (port) port.containerPort = 70_000;
    await expect(applyObject(admin, invalid, { dryRun: true })).rejects.toThrow(/containerPort/);
  });

  it("names in its dashboard and alerts only metrics and labels the controller's /metrics carries", async () => {
    // Both runs of the RBAC proof scraped the controller: one converged, one failed and retried.
    expect(scrapes).toHaveLength(2);
    const series = scrapes.flatMap((text) => text.split("\n").filter((line) => line !== "" && !line.startsWith("#")));
    const objects = await renderEverything();
    const dashboard = JSON.parse(
      find<V1ConfigMap>(objects, "ConfigMap", "-dashboard").data?.["lb-provisioner.json"] ?? "",
    ) as GrafanaDashboard;
    const rules = find<{ spec: { groups: { rules: { alert: string; expr: string }[] }[] } }>(objects, "PrometheusRule");
    const expressions = [
      ...dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).map((target) => ({
          where: `panel "${panel.title}"`,
          expr: grafanaToPromQL(target.expr),
        })),
      ),
      ...rules.spec.groups.flatMap((group) =>
        group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
      ),
    ];
    expect(expressions.length).toBeGreaterThan(15);
    const problems = expressions.flatMap(({ where, expr }) => unknownNames(expr, series).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
    // The check can fail: a misspelt metric, a misspelt label and a syntax error are all found.
    expect(unknownNames("rate(lbp_provider_calls_totl[5m])", series)).toEqual([
      "lbp_provider_calls_totl has no sample",
    ]);
    expect(unknownNames('sum by (outcom) (rate(lbp_provider_calls_total{outcme="x"}[5m]))', series)).toEqual([
      "no sample of lbp_provider_calls_total has the label outcom",
      "no sample of lbp_provider_calls_total has the label outcme",
    ]);
    expect(unknownNames("sum(rate(lbp_leader[5m])", series)).toEqual([expect.stringMatching(/^syntax error/)]);
  });
});

interface GrafanaDashboard {
  readonly panels: readonly { readonly title: string; readonly targets?: readonly { readonly expr: string }[] }[];
}

/** Grafana's variables in a query, replaced by what they stand for, so the query is PromQL. */
function grafanaToPromQL(expr: string): string {
  return expr.replaceAll(/\$__(rate_interval|interval|range)/g, "5m").replaceAll(/\$\{?namespace\}?/g, ".*");
}

/**
 * What `expr` names that `series` (exposition lines) do not have: a metric with no sample, a label
 * matched or grouped by that none of its samples carries (labels of the scrape target exempt), or a
 * syntax error.
 */
function unknownNames(expr: string, series: readonly string[]): string[] {
  const tree = parser.parse(expr);
  const problems: string[] = [];
  const samplesOf = (metric: string) => series.filter((line) => line.split(/[{ ]/)[0] === metric);
  const hasLabel = (metrics: readonly string[], label: string) =>
    TARGET_LABELS.has(label) || metrics.some((metric) => samplesOf(metric).some((line) => line.includes(`${label}="`)));
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter(node) {
      if (node.type.isError) problems.push(`syntax error at ${node.from}: ${expr}`);
      if (node.name === "VectorSelector") {
        const identifier = node.node.getChild("Identifier");
        const metric = identifier ? text(identifier.from, identifier.to) : "";
        if (samplesOf(metric).length === 0) {
          problems.push(`${metric} has no sample`);
          return;
        }
        for (const matcher of node.node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? []) {
          const label = matcher.getChild("LabelName");
          const name = label ? text(label.from, label.to) : "";
          if (!hasLabel([metric], name)) problems.push(`no sample of ${metric} has the label ${name}`);
        }
      }
      if (node.name === "AggregateExpr") {
        const metrics: string[] = [];
        node.node.cursor().iterate((inner) => {
          if (inner.name !== "VectorSelector") return;
          const identifier = inner.node.getChild("Identifier");
          if (identifier) metrics.push(text(identifier.from, identifier.to));
        });
        const grouping = node.node.getChild("AggregateModifier")?.getChild("GroupingLabels");
        if (!metrics.some((metric) => samplesOf(metric).length > 0)) return;
        for (const label of grouping?.getChildren("LabelName") ?? []) {
          const name = text(label.from, label.to);
          if (!hasLabel(metrics, name)) problems.push(`no sample of ${metrics.join(", ")} has the label ${name}`);
        }
      }
    },
  });
  return problems;
}

/**
 * The two Prometheus Operator kinds the chart ships, as CustomResourceDefinitions whose schemas hold the
 * fields it uses, so the apiserver stores and checks them (the operator's own CRDs are larger).
 */
function monitoringCrds(): KubernetesObject[] {
  const string = { type: "string" };
  const stringMap = { type: "object", additionalProperties: string };
  const labelSelector = { type: "object", properties: { matchLabels: stringMap } };
  const crd = (kind: string, plural: string, spec: object): KubernetesObject =>
    ({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.monitoring.coreos.com` },
      spec: {
        group: "monitoring.coreos.com",
        scope: "Namespaced",
        names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", required: ["spec"], properties: { spec } } },
          },
        ],
      },
    }) as KubernetesObject;
  return [
    crd("ServiceMonitor", "servicemonitors", {
      type: "object",
      required: ["selector", "endpoints"],
      properties: {
        selector: labelSelector,
        namespaceSelector: { type: "object", properties: { matchNames: { type: "array", items: string } } },
        endpoints: {
          type: "array",
          items: { type: "object", properties: { port: string, path: string, interval: string } },
        },
      },
    }),
    crd("PrometheusRule", "prometheusrules", {
      type: "object",
      properties: {
        groups: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "rules"],
            properties: {
              name: string,
              rules: {
                type: "array",
                items: {
                  type: "object",
                  required: ["expr"],
                  properties: {
                    alert: string,
                    record: string,
                    expr: string,
                    for: string,
                    labels: stringMap,
                    annotations: stringMap,
                  },
                },
              },
            },
          },
        },
      },
    }),
  ];
}

/** Paths of `expected` (a rendered object) that `actual` (the stored one) lacks or holds another value at. */
function missingFields(expected: unknown, actual: unknown, path = ""): string[] {
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object") return [path];
    return Object.entries(expected).flatMap(([key, value]) =>
      missingFields(value, (actual as Record<string, unknown>)[key], path ? `${path}.${key}` : key),
    );
  }
  return String(expected) === String(actual) ? [] : [path];
}

async function waitForCrds(kubeConfig: KubeConfig): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const name of ["servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"]) {
    await waitFor(
      async () =>
        (await api.readCustomResourceDefinition({ name })).status?.conditions?.some(
          (condition) => condition.type === "Established" && condition.status === "True",
        ),
      { description: `${name} established` },
    );
  }
}
