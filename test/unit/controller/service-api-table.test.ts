/**
 * docs/service-api.md's table of the Service API, proven row by row: for each field (and each value of
 * it that matters to a load balancer) and each built-in provider, the outcome the table states is what
 * the controller decides with that provider's capabilities and `validate`:
 * - `honoured`: the load balancer is built, nothing is said about the field, and what the controller
 *   decides changes with it: the spec the provider gets, or (type, class) whether it is built at all;
 *   the build itself is shown by the test the row names;
 * - `warned`: built, with a warning naming the field;
 * - `refused`: not built, an error naming the field;
 * - `no effect`: built, nothing said, and the spec the provider gets is the same as without the field.
 * Every field of `V1ServiceSpec` has a row, so a field added to the Service API fails here until it is
 * audited.
 */
import { readFileSync } from "node:fs";
import { type V1Service, V1ServicePort, V1ServiceSpec } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { newAwsProvider } from "../../../providers/aws/index.ts";
import { createFakeProvider } from "../../../providers/fake/index.ts";
import type { LoadBalancerProvider, ValidationIssue } from "../../../providers/index.ts";
import { LocalProvider, parseLocalSettings } from "../../../providers/local/index.ts";
import { decide, specFingerprint } from "../../../src/controller/decide.ts";
import { fingerprint } from "../../../src/controller/fingerprint.ts";
import { eligibleNodeSpecs } from "../../../src/controller/node-eligibility.ts";
import { stubbedClients } from "../aws/stub-aws.ts";
import { newNode, newService, type ServiceTweak, tweakSpec } from "./fixtures.ts";

const TABLE_FILE = new URL("../../../docs/service-api.md", import.meta.url);
const PROVIDERS = ["fake", "local", "aws"] as const;
type ProviderName = (typeof PROVIDERS)[number];
const OUTCOMES = ["honoured", "warned", "refused", "no effect"] as const;
type Outcome = (typeof OUTCOMES)[number];

interface Row {
  /** The first column without its backticks, e.g. `spec.sessionAffinity: ClientIP`. */
  readonly field: string;
  readonly outcomes: Readonly<Record<ProviderName, Outcome>>;
  readonly provenBy: string;
}

/** The rows of the table under "## Every field", read as the docs state them. */
function tableRows(): Row[] {
  const text = readFileSync(TABLE_FILE, "utf8");
  const section = text.slice(text.indexOf("## Every field"));
  const lines = section.split("\n").filter((line) => line.startsWith("| `spec."));
  return lines.map((line) => {
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim());
    const [field = "", , fake = "", local = "", aws = "", provenBy = ""] = cells;
    const outcome = (cell: string): Outcome => {
      const found = OUTCOMES.find((candidate) => cell.startsWith(candidate));
      if (found === undefined) throw new Error(`${field}: "${cell}" does not start with one of ${OUTCOMES.join(", ")}`);
      return found;
    };
    return {
      field: field.replace(/`/g, ""),
      outcomes: { fake: outcome(fake), local: outcome(local), aws: outcome(aws) },
      provenBy,
    };
  });
}

interface Probe {
  /** Sets the field on the seed Service (type LoadBalancer, port 80/TCP on nodePort 30008, Cluster). */
  readonly tweak: ServiceTweak;
  /** The field an issue about it names, when not the row's. */
  readonly issueField?: string;
  /** The Service to tell `honoured` from `no effect` by; default the seed Service. */
  readonly contrast?: ServiceTweak;
}

/** How each row's field is set, as the API server would store it. */
const PROBES: Record<string, Probe> = {
  "spec.type: LoadBalancer": { tweak: tweakSpec({ type: "LoadBalancer" }), contrast: tweakSpec({ type: "NodePort" }) },
  "spec.loadBalancerClass": {
    tweak: tweakSpec({ loadBalancerClass: "example.com/lb" }),
    contrast: tweakSpec({ loadBalancerClass: "example.com/another" }),
  },
  "spec.ports[].port": { tweak: tweakSpec({ ports: [{ protocol: "TCP", port: 8080, nodePort: 30008 }] }) },
  "spec.ports[].nodePort": { tweak: tweakSpec({ ports: [{ protocol: "TCP", port: 80, nodePort: 31000 }] }) },
  "spec.ports[].protocol: UDP": {
    tweak: tweakSpec({ ports: [{ protocol: "UDP", port: 53, nodePort: 30053 }] }),
    issueField: "spec.ports[0].protocol",
  },
  "spec.ports[].protocol: SCTP": {
    tweak: tweakSpec({ ports: [{ protocol: "SCTP", port: 9000, nodePort: 30900 }] }),
    issueField: "spec.ports[0].protocol",
  },
  "spec.ports[].name": {
    tweak: tweakSpec({ ports: [{ name: "http", protocol: "TCP", port: 80, nodePort: 30008 }] }),
  },
  "spec.ports[].targetPort": {
    tweak: tweakSpec({ ports: [{ protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30008 }] }),
  },
  "spec.ports[].appProtocol": {
    tweak: tweakSpec({ ports: [{ protocol: "TCP", port: 80, appProtocol: "kubernetes.io/h2c", nodePort: 30008 }] }),
  },
  "spec.allocateLoadBalancerNodePorts: false": {
    tweak: tweakSpec({ allocateLoadBalancerNodePorts: false, ports: [{ protocol: "TCP", port: 80 }] }),
  },
  "spec.externalTrafficPolicy: Local": {
    tweak: tweakSpec({ externalTrafficPolicy: "Local", healthCheckNodePort: 32000 }),
  },
  "spec.healthCheckNodePort": {
    tweak: tweakSpec({ externalTrafficPolicy: "Local", healthCheckNodePort: 32100 }),
    contrast: tweakSpec({ externalTrafficPolicy: "Local", healthCheckNodePort: 32000 }),
  },
  "spec.loadBalancerSourceRanges": { tweak: tweakSpec({ loadBalancerSourceRanges: ["203.0.113.0/24"] }) },
  "spec.ipFamilies: [IPv4]": { tweak: tweakSpec({ ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack" }) },
  "spec.ipFamilies: [IPv6]": {
    tweak: tweakSpec({ ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" }),
    issueField: "spec.ipFamilies",
  },
  "spec.ipFamilyPolicy: RequireDualStack": {
    tweak: tweakSpec({ ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" }),
    issueField: "spec.ipFamilies",
  },
  "spec.ipFamilyPolicy: PreferDualStack": {
    tweak: tweakSpec({ ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "PreferDualStack" }),
    issueField: "spec.ipFamilies",
  },
  "spec.sessionAffinity: ClientIP": { tweak: tweakSpec({ sessionAffinity: "ClientIP" }) },
  "spec.sessionAffinityConfig": {
    tweak: tweakSpec({ sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
    issueField: "spec.sessionAffinity",
    contrast: tweakSpec({ sessionAffinity: "ClientIP" }),
  },
  "spec.loadBalancerIP": { tweak: tweakSpec({ loadBalancerIP: "127.100.0.9" }) },
  "spec.clusterIP": { tweak: tweakSpec({ clusterIP: "10.0.0.12" }) },
  "spec.clusterIPs": { tweak: tweakSpec({ clusterIP: "10.0.0.12", clusterIPs: ["10.0.0.12"] }) },
  "spec.externalIPs": { tweak: tweakSpec({ externalIPs: ["198.51.100.7"] }) },
  "spec.externalName": { tweak: tweakSpec({ externalName: "db.example.com" }) },
  "spec.internalTrafficPolicy": { tweak: tweakSpec({ internalTrafficPolicy: "Local" }) },
  "spec.publishNotReadyAddresses": { tweak: tweakSpec({ publishNotReadyAddresses: true }) },
  "spec.selector": { tweak: tweakSpec({ selector: { app: "other" } }) },
  "spec.trafficDistribution": { tweak: tweakSpec({ trafficDistribution: "PreferClose" }) },
};

const NODES = eligibleNodeSpecs([
  newNode("node-1", "192.168.1.2", (node) => {
    node.status = {
      addresses: [
        { type: "InternalIP", address: "192.168.1.2" },
        { type: "InternalIP", address: "fd00::2" },
      ],
    };
  }),
]);

const providers = new Map<ProviderName, LoadBalancerProvider>();

async function providerNamed(name: ProviderName): Promise<LoadBalancerProvider> {
  const known = providers.get(name);
  if (known !== undefined) return known;
  const logger = pino({ level: "silent" });
  const created: LoadBalancerProvider =
    name === "fake"
      ? createFakeProvider()
      : name === "local"
        ? // A pool of both families, as docs/local.md shows for dual-stack clusters.
          new LocalProvider({ settings: parseLocalSettings({ addresses: "127.100.0.0/24,fd00:1b::/120" }), logger })
        : // Only validate is called: the stubbed clients answer nothing.
          await newAwsProvider(
            { clusterName: "kubernetes", logger, settings: { region: "us-east-1" } },
            stubbedClients([]),
          );
  providers.set(name, created);
  return created;
}

afterAll(async () => {
  await Promise.all([...providers.values()].map((provider) => provider.close?.()));
});

function decideFor(service: V1Service, provider: LoadBalancerProvider, probed: V1Service = service) {
  const loadBalancerClass = probed.spec?.loadBalancerClass;
  return decide({
    key: "default/myapp",
    service,
    // The controller runs with the class the probed Service names, if any.
    selection: loadBalancerClass === undefined ? {} : { loadBalancerClass },
    clusterName: "kubernetes",
    nodes: { nodes: NODES, fingerprint: fingerprint(NODES) },
    provider,
    validate: provider.validate?.bind(provider),
  });
}

/** What the controller decides for `service` in terms that tell two decisions apart. */
function decisionOf(service: V1Service, provider: LoadBalancerProvider, probed: V1Service): string {
  const decision = decideFor(service, provider, probed);
  return decision.kind === "ensure" ? specFingerprint(decision.spec) : decision.kind;
}

/** What the controller, with `provider`, does with the probe's Service as far as `field` goes. */
function outcomeOf(probe: Probe, provider: LoadBalancerProvider, field: string): Outcome | string {
  const service = newService("myapp", probe.tweak);
  const decision = decideFor(service, provider);
  const names = (issues: readonly ValidationIssue[]) => issues.some((issue) => issue.field.startsWith(field));
  if (decision.kind === "invalid")
    return names(decision.issues) ? "refused" : `refused, naming ${fieldsOf(decision.issues)}`;
  if (decision.kind !== "ensure") return decision.kind;
  if (names(decision.allWarnings)) return "warned";
  const contrast = newService("myapp", ...(probe.contrast === undefined ? [] : [probe.contrast]));
  const same = decisionOf(contrast, provider, service) === decisionOf(service, provider, service);
  return same ? "no effect" : "honoured";
}

function fieldsOf(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => issue.field).join(", ");
}

describe("docs/service-api.md: the Service API, field by field", () => {
  const rows = tableRows();

  it("has a row for every field of V1ServiceSpec and of V1ServicePort, and a probe for every row", () => {
    const fields = new Set(rows.map((row) => row.field.split(/[: ]/)[0]));
    const specFields = V1ServiceSpec.getAttributeTypeMap().map((attribute) => `spec.${attribute.name}`);
    const portFields = V1ServicePort.getAttributeTypeMap().map((attribute) => `spec.ports[].${attribute.name}`);
    expect([...specFields, ...portFields].filter((field) => !fields.has(field) && field !== "spec.ports")).toEqual([]);
    expect(rows.map((row) => row.field).filter((field) => PROBES[field] === undefined)).toEqual([]);
    expect(rows.every((row) => row.provenBy !== "")).toBe(true);
  });

  it.each(rows.flatMap((row) => PROVIDERS.map((provider) => ({ row, provider, expected: row.outcomes[provider] }))))(
    "$row.field with $provider: $expected",
    async ({ row, provider }) => {
      const probe = PROBES[row.field];
      if (probe === undefined) throw new Error(`no probe for ${row.field}`);
      const outcome = outcomeOf(
        probe,
        await providerNamed(provider),
        probe.issueField ?? row.field.split(/[: ]/)[0] ?? "",
      );
      expect(
        outcome,
        `docs/service-api.md says ${row.field} is ${row.outcomes[provider]} with ${provider}; update the table or the code`,
      ).toBe(row.outcomes[provider]);
    },
  );
});
