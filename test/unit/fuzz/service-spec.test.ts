/**
 * Property tests of the controller's reading of a Service (`load-balancer-spec.ts`, `providers/rules/cidr.ts`)
 * and of the fake and local providers' rules on what it lets through: for any Service the spec is built, or every issue
 * names a `spec.*` field or annotation; never an exception.
 */
import type { V1Service, V1ServicePort } from "@kubernetes/client-node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidConfigurationError } from "../../../providers/errors.ts";
import createFakeFromSettings, { validateFakeSpec } from "../../../providers/fake/index.ts";
import { AddressPool } from "../../../providers/local/address-pool.ts";
import { validateLocalSpec } from "../../../providers/local/validation.ts";
import { canonicalCidr } from "../../../providers/rules/cidr.ts";
import { buildLoadBalancerSpec, SOURCE_RANGES_ANNOTATION } from "../../../src/controller/load-balancer-spec.ts";
import {
  annotationsFrom,
  annotationValue,
  cidrLike,
  fuzzOptions,
  PROPERTY_TIMEOUT_MS,
  PROTOTYPE_NAMES,
  token,
} from "./arbitraries.ts";

const port: fc.Arbitrary<V1ServicePort> = fc
  .record(
    {
      name: token,
      port: fc.oneof(fc.integer({ min: 1, max: 65_535 }), fc.integer()),
      protocol: fc.oneof(fc.constantFrom("TCP", "UDP", "SCTP"), fc.constantFrom("tcp", "HTTP", ""), token),
      nodePort: fc.oneof(fc.integer({ min: 30_000, max: 32_767 }), fc.integer({ min: -1, max: 70_000 })),
    },
    { requiredKeys: ["port"] },
  )
  .map((p) => p as V1ServicePort);

const annotationKey = fc.oneof(
  fc.constant(SOURCE_RANGES_ANNOTATION),
  fc.constant("fake.lb-provisioner.io/scheme"),
  token.map((t) => `fake.lb-provisioner.io/${t}`),
  fc.constantFrom(...PROTOTYPE_NAMES),
  token,
);

const service: fc.Arbitrary<V1Service> = fc
  .record(
    {
      ports: fc.array(port, { maxLength: 5 }),
      allocateLoadBalancerNodePorts: fc.boolean(),
      externalTrafficPolicy: fc.constantFrom("Cluster", "Local", "local", ""),
      healthCheckNodePort: fc.integer({ min: -1, max: 40_000 }),
      loadBalancerSourceRanges: fc.array(cidrLike, { maxLength: 4 }),
      annotations: fc.oneof(
        annotationsFrom(annotationKey),
        fc.array(cidrLike, { maxLength: 4 }).map((list) => ({ [SOURCE_RANGES_ANNOTATION]: list.join(",") })),
      ),
    },
    { requiredKeys: [] },
  )
  .map(({ annotations, ...spec }) => ({
    metadata: {
      namespace: "default",
      name: "fuzzed",
      uid: "5b1f7c2e-0000-4000-8000-000000000002",
      ...(annotations === undefined ? {} : { annotations }),
    },
    spec: { type: "LoadBalancer", ...spec },
  }));

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

const namesAField = (field: string): boolean =>
  /^spec\.[a-zA-Z]+(\[\d+\])?(\.[a-zA-Z]+)?$/.test(field) || /^metadata\.annotations\[.+\]$/.test(field);

describe("the controller's reading of any Service (property)", { timeout: PROPERTY_TIMEOUT_MS }, () => {
  it("builds a spec, or names every field at fault; never throws", () => {
    fc.assert(
      fc.property(service, (input) => {
        const built = buildLoadBalancerSpec(input, [], "prod");
        if (!built.ok) {
          expect(built.issues.length).toBeGreaterThan(0);
          for (const issue of built.issues) {
            expect(namesAField(issue.field), issue.field).toBe(true);
            expect(issue.message.length).toBeGreaterThan(0);
          }
          return;
        }
        expect(built.spec.listeners).toHaveLength(input.spec?.ports?.length ?? 0);
        // Ranges reach providers in one canonical spelling.
        for (const range of built.spec.sourceRanges) expect(canonicalCidr(range)).toBe(range);
        // The fake provider judges what the controller lets through without throwing either.
        for (const issue of [
          ...validateFakeSpec(built.spec),
          ...validateLocalSpec(built.spec, AddressPool.parse("127.100.0.0/16, fd00::/120")),
        ])
          expect(namesAField(issue.field), issue.field).toBe(true);
      }),
      fuzzOptions(),
    );
  });

  it("parses a CIDR into its canonical form, or refuses it; canonical forms are fixed points", () => {
    fc.assert(
      fc.property(cidrLike, (text) => {
        const canonical = canonicalCidr(text);
        if (canonical === undefined) return;
        expect(canonicalCidr(canonical)).toBe(canonical);
        expect(canonical).toMatch(/^[0-9a-f.:]+\/\d{1,3}$/);
      }),
      fuzzOptions(),
    );
  });

  it("takes any fake provider settings, or names the setting at fault", () => {
    const key = fc.oneof(
      fc.constantFrom("latencyMs", "failureRate", "seed"),
      fc.constantFrom(...PROTOTYPE_NAMES),
      token,
    );
    const value = fc.oneof(fc.double().map(String), fc.integer().map(String), annotationValue);
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 3 }), (entries) => {
        const settings = Object.fromEntries(entries) as Record<string, string>;
        try {
          createFakeFromSettings({ clusterName: "prod", settings, logger: SILENT });
        } catch (error) {
          if (!(error instanceof InvalidConfigurationError)) throw error;
          expect(Object.keys(settings).map((k) => `--provider-config ${k}`)).toContain(error.field);
        }
      }),
      fuzzOptions(),
    );
  });
});
