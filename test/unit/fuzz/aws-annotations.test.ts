/**
 * Property tests of the AWS provider's reading of a Service: annotations (`annotations.ts`), port and
 * health-check checks (`validate.ts`) and, for what passes them, the desired state (`model.ts`). For
 * any input, each either accepts or reports issues whose field names the annotation or Service field at
 * fault — never an exception other than the provider's own {@link InvalidConfigurationError}.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ANNOTATION, annotationField, UNSUPPORTED_ANNOTATIONS } from "../../../providers/aws/annotations.ts";
import { buildDesiredState, resolveTargets } from "../../../providers/aws/model.ts";
import { MAX_NAME_LENGTH } from "../../../providers/aws/names.ts";
import { analyzeSpec } from "../../../providers/aws/validate.ts";
import { InvalidConfigurationError } from "../../../providers/errors.ts";
import type { ListenerSpec, LoadBalancerSpec, NodeSpec } from "../../../providers/types.ts";
import { annotationsFrom, fuzzOptions, PROPERTY_TIMEOUT_MS, PROTOTYPE_NAMES, token } from "./arbitraries.ts";

const AWS_PREFIX = "service.beta.kubernetes.io/aws-load-balancer-";

const annotationKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...Object.values(ANNOTATION)) },
  { weight: 1, arbitrary: fc.constantFrom(...Object.keys(UNSUPPORTED_ANNOTATIONS)) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: token.map((t) => AWS_PREFIX + t) },
  { weight: 1, arbitrary: token },
);

const listener: fc.Arbitrary<ListenerSpec> = fc.record({
  name: fc.oneof(fc.constant(""), token),
  port: fc.oneof(fc.integer({ min: 1, max: 65_535 }), fc.integer({ min: -5, max: 70_000 })),
  protocol: fc.constantFrom("TCP", "UDP", "SCTP"),
  nodePort: fc.oneof(fc.integer({ min: 30_000, max: 32_767 }), fc.constant(0)),
});

const node: fc.Arbitrary<NodeSpec> = fc
  .record({
    index: fc.nat({ max: 9 }),
    providerID: fc.oneof(
      fc.constant(undefined),
      fc.constantFrom("aws:///us-east-1a/i-0123456789abcdef0", "aws:///i-0abc", "gce://p/z/n", ""),
    ),
    address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant("")),
    labels: annotationsFrom(token),
  })
  .map(({ index, providerID, address, labels }) => ({
    name: `node-${index}`,
    ...(providerID === undefined ? {} : { providerID }),
    addresses: address === "" ? [] : [{ type: "InternalIP", address }],
    zone: "us-east-1a",
    labels,
  }));

const spec: fc.Arbitrary<LoadBalancerSpec> = fc
  .record({
    listeners: fc.array(listener, { maxLength: 4 }),
    nodes: fc.uniqueArray(node, { maxLength: 4, selector: (n) => n.name }),
    local: fc.option(fc.integer({ min: -1, max: 40_000 })),
    sourceRanges: fc.constantFrom([], ["203.0.113.0/24"], ["10.0.0.0/8", "2001:db8::/32"]),
    annotations: annotationsFrom(annotationKey),
  })
  .map(({ listeners, nodes, local, sourceRanges, annotations }) => ({
    clusterName: "prod",
    service: { namespace: "default", name: "fuzzed", uid: "7d0b2a3e-0000-4000-8000-000000000001" },
    listeners,
    nodes,
    healthCheck:
      local === null
        ? { kind: "traffic-port", protocol: "TCP" }
        : { kind: "http", protocol: "HTTP", port: local, path: "/healthz" },
    externalTrafficPolicy: local === null ? "Cluster" : "Local",
    sourceRanges,
    annotations,
  }));

/** The annotations written as `key=value` lists. */
const KEY_VALUE_ANNOTATIONS = [
  ANNOTATION.additionalTags,
  ANNOTATION.targetGroupAttributes,
  ANNOTATION.targetNodeLabels,
];

/** One TCP port, no nodes, and the given annotations. */
function minimalSpec(annotations: Record<string, string>): LoadBalancerSpec {
  return {
    clusterName: "prod",
    service: { namespace: "default", name: "lists" },
    listeners: [{ name: "", port: 80, protocol: "TCP", nodePort: 30_008 }],
    nodes: [],
    healthCheck: { kind: "traffic-port", protocol: "TCP" },
    externalTrafficPolicy: "Cluster",
    sourceRanges: [],
    annotations,
  };
}

/** The fields an issue about `spec` may name: its annotations, the provider's (one may be missing), spec fields. */
function fieldsOf(input: LoadBalancerSpec): (field: string) => boolean {
  const annotationFields = new Set(
    [...Object.keys(input.annotations), ...Object.values(ANNOTATION)].map(annotationField),
  );
  return (field) => annotationFields.has(field) || /^spec\.[a-zA-Z]+(\[\d+\])?(\.[a-zA-Z]+)?$/.test(field);
}

describe("the AWS provider's reading of any Service (property)", { timeout: PROPERTY_TIMEOUT_MS }, () => {
  it("accepts it, or names every field at fault; never throws", () => {
    fc.assert(
      fc.property(spec, (input) => {
        const { config, issues } = analyzeSpec(input);
        const named = fieldsOf(input);
        for (const issue of issues) {
          expect(named(issue.field), issue.field).toBe(true);
          expect(["error", "warning"]).toContain(issue.severity);
          expect(typeof issue.message).toBe("string");
          expect(issue.message.length).toBeGreaterThan(0);
        }
        if (issues.some((issue) => issue.severity === "error")) return;
        // What passes validation must build: the desired state, or an error naming the field.
        try {
          const desired = buildDesiredState(input, config, resolveTargets(input.nodes, config));
          for (const name of [desired.loadBalancer.name, ...desired.targetGroups.map((group) => group.name)])
            expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
          for (const [key, value] of Object.entries(desired.loadBalancer.tags)) {
            expect(typeof key).toBe("string");
            expect(typeof value).toBe("string");
          }
        } catch (error) {
          if (!(error instanceof InvalidConfigurationError)) throw error;
          expect(named(error.field), error.field).toBe(true);
        }
      }),
      fuzzOptions(),
    );
  });

  it("says nothing about annotations that are not the provider's, whatever their name", () => {
    const foreignKey = fc.oneof(
      fc.constantFrom(...PROTOTYPE_NAMES),
      token,
      token.map((t) => `example.com/${t}`),
    );
    fc.assert(
      fc.property(spec, annotationsFrom(foreignKey), (input, foreign) => {
        const withForeign = { ...input, annotations: { ...input.annotations, ...foreign } };
        const own = new Set(Object.keys(input.annotations));
        for (const issue of analyzeSpec(withForeign).issues) {
          const key = Object.keys(foreign).find((k) => !own.has(k) && issue.field === annotationField(k));
          expect(key, `${issue.field}: ${issue.message}`).toBeUndefined();
        }
      }),
      fuzzOptions(),
    );
  });

  it("never drops an entry of a key=value annotation silently: an empty or repeated key is an error there", () => {
    const listAnnotation = fc.constantFrom(...KEY_VALUE_ANNOTATIONS);
    const entry = fc.tuple(fc.oneof(fc.constant(""), token), fc.option(token, { nil: undefined }));
    fc.assert(
      fc.property(listAnnotation, fc.array(entry, { minLength: 1, maxLength: 5 }), (key, entries) => {
        const written = entries.map(([k, v]) => (v === undefined ? k : `${k}=${v}`).replaceAll(",", ""));
        const keys = written
          .map((e) => (e.includes("=") ? e.slice(0, e.indexOf("=")) : e).trim())
          .filter((_, i) => written[i]?.trim() !== "");
        const lossy = keys.includes("") || new Set(keys).size < keys.length;
        const input = minimalSpec({ [key]: written.join(",") });
        const errors = analyzeSpec(input).issues.filter((issue) => issue.severity === "error");
        if (lossy) expect(errors.map((issue) => issue.field)).toContain(annotationField(key));
      }),
      fuzzOptions(),
    );
  });

  it("keeps every tag of additional-resource-tags it accepts, whatever the key", () => {
    const tagKey = fc.oneof(
      fc.constantFrom(...PROTOTYPE_NAMES),
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:/+@-]{0,20}$/),
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(tagKey, token), { maxLength: 5, selector: ([k]) => k }), (pairs) => {
        const value = pairs.map(([k, v]) => `${k}=${v.replace(/[,=\s]/g, "")}`).join(",");
        const { config, issues } = analyzeSpec(minimalSpec({ [ANNOTATION.additionalTags]: value }));
        if (issues.some((issue) => issue.severity === "error")) return;
        expect(Object.keys(config.additionalTags).sort()).toEqual(pairs.map(([k]) => k).sort());
      }),
      fuzzOptions(),
    );
  });
});
