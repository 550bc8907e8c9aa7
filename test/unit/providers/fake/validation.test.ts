import { describe, expect, it } from "vitest";
import { conformanceSpec, exampleNodes, listener } from "../../../../providers/conformance/index.ts";
import { InvalidConfigurationError } from "../../../../providers/errors.ts";
import {
  createFakeProvider,
  FAKE_MAX_LISTENERS,
  FAKE_SCHEME_ANNOTATION,
  validateFakeSpec,
} from "../../../../providers/fake/index.ts";
import type { ListenerSpec, LoadBalancerSpec } from "../../../../providers/types.ts";

type Input = Partial<Parameters<typeof conformanceSpec>[0]>;
const spec = (overrides: Input = {}): LoadBalancerSpec =>
  conformanceSpec({ clusterName: "unit", namespace: "default", name: "web", nodes: exampleNodes(3), ...overrides });

const errors = (overrides: Input) => validateFakeSpec(spec(overrides)).filter((issue) => issue.severity === "error");

describe("validateFakeSpec", () => {
  it("accepts the seed scenario, IPv4 and IPv6 source ranges, and both schemes", () => {
    expect(validateFakeSpec(spec())).toEqual([]);
    expect(validateFakeSpec(spec({ sourceRanges: ["203.0.113.0/24", "2001:db8::/32", "0.0.0.0/0"] }))).toEqual([]);
    for (const scheme of ["internal", "internet-facing"]) {
      expect(validateFakeSpec(spec({ annotations: { [FAKE_SCHEME_ANNOTATION]: scheme } }))).toEqual([]);
    }
  });

  it("rejects SCTP at the port's protocol field", () => {
    expect(errors({ listeners: [listener(80, 30008), listener(9, 30009, "SCTP")] })).toEqual([
      {
        field: "spec.ports[1].protocol",
        message: "SCTP is not supported by the fake cloud's load balancers; use TCP or UDP",
        severity: "error",
      },
    ]);
  });

  it("rejects a repeated port and protocol, pointing at the first one", () => {
    const [issue] = errors({ listeners: [listener(80, 30008, "TCP", "a"), listener(80, 30009, "TCP", "b")] });
    expect(issue?.field).toBe("spec.ports[1].port");
    expect(issue?.message).toMatch(/^80\/TCP repeats spec\.ports\[0\]; each port and protocol pair/);
  });

  it("allows one port number over TCP and UDP", () => {
    expect(errors({ listeners: [listener(53, 30053, "TCP"), listener(53, 30054, "UDP")] })).toEqual([]);
  });

  it(`rejects more than ${FAKE_MAX_LISTENERS} listeners`, () => {
    const many: ListenerSpec[] = Array.from({ length: FAKE_MAX_LISTENERS + 1 }, (_, i) =>
      listener(1000 + i, 30000 + i),
    );
    expect(errors({ listeners: many.slice(0, FAKE_MAX_LISTENERS) })).toEqual([]);
    expect(errors({ listeners: many })).toEqual([
      {
        field: "spec.ports",
        message:
          "51 ports exceed the limit of 50 listeners per load balancer of the fake cloud's load balancers; split the ports across Services",
        severity: "error",
      },
    ]);
  });

  it("rejects a port without a nodePort, explaining allocateLoadBalancerNodePorts", () => {
    const [issue] = errors({ listeners: [listener(80, 0)] });
    expect(issue?.field).toBe("spec.ports[0].nodePort");
    expect(issue?.message).toMatch(/has no node port.*allocateLoadBalancerNodePorts: false/);
  });

  it("rejects a Service without ports", () => {
    expect(errors({ listeners: [] }).map((i) => i.field)).toEqual(["spec.ports"]);
  });

  it("rejects an unknown scheme at the annotation", () => {
    expect(errors({ annotations: { [FAKE_SCHEME_ANNOTATION]: "public" } })).toEqual([
      {
        field: 'metadata.annotations["fake.lb-provisioner.io/scheme"]',
        message: '"public" is not a scheme; use "internal" or "internet-facing"',
        severity: "error",
      },
    ]);
  });

  it("rejects source ranges that are not CIDRs, naming each", () => {
    const found = errors({ sourceRanges: ["10.0.0.0/8", "10.0.0.1", "10.0.0.0/33", "example.com/8", "::/129"] });
    expect(found.map((i) => i.field)).toEqual([
      "spec.loadBalancerSourceRanges[1]",
      "spec.loadBalancerSourceRanges[2]",
      "spec.loadBalancerSourceRanges[3]",
      "spec.loadBalancerSourceRanges[4]",
    ]);
    expect(found[0]?.message).toBe(
      '"10.0.0.1" is not a CIDR; write an address and prefix length such as 203.0.113.0/24',
    );
  });

  it("rejects a bad healthCheckNodePort", () => {
    const healthCheck = { kind: "http", protocol: "HTTP", port: 0, path: "/healthz" } as const;
    expect(errors({ externalTrafficPolicy: "Local", healthCheck }).map((i) => i.field)).toEqual([
      "spec.healthCheckNodePort",
    ]);
  });

  it("warns about unknown fake annotations but still builds", () => {
    expect(validateFakeSpec(spec({ annotations: { "fake.lb-provisioner.io/shceme": "internal" } }))).toEqual([
      {
        field: 'metadata.annotations["fake.lb-provisioner.io/shceme"]',
        message: "unknown annotation, ignored; the fake provider reads only fake.lb-provisioner.io/scheme",
        severity: "warning",
      },
    ]);
  });
});

describe("ensureLoadBalancer on an invalid spec", () => {
  it("throws InvalidConfigurationError for the first problem, counts the rest, and calls nothing", async () => {
    const fake = createFakeProvider();
    const invalid = spec({
      listeners: [listener(80, 30008), listener(9, 30009, "SCTP")],
      annotations: { [FAKE_SCHEME_ANNOTATION]: "public" },
      sourceRanges: ["nope"],
    });
    const error = await fake.ensureLoadBalancer(invalid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe("spec.ports[1].protocol");
    expect((error as InvalidConfigurationError).message).toBe(
      "spec.ports[1].protocol: SCTP is not supported by the fake cloud's load balancers; use TCP or UDP (and 2 more problems)",
    );
    expect(fake.calls).toEqual([]);
    expect(fake.loadBalancerCount).toBe(0);
  });

  it("keeps an existing load balancer untouched when its Service turns invalid", async () => {
    const fake = createFakeProvider();
    await fake.ensureLoadBalancer(spec());
    fake.resetCalls();
    await expect(fake.ensureLoadBalancer(spec({ listeners: [listener(80, 0)] }))).rejects.toThrow(
      InvalidConfigurationError,
    );
    expect(fake.calls).toEqual([]);
    expect(fake.inspect(spec())?.listeners).toHaveLength(1);
  });

  it("takes an IPv4 or IPv6 spec.loadBalancerIP of a family the load balancer serves", () => {
    expect(validateFakeSpec(spec({ loadBalancerIP: "192.0.2.10" }))).toEqual([]);
    expect(validateFakeSpec(spec({ loadBalancerIP: "2001:db8::10", ipFamilies: ["IPv4", "IPv6"] }))).toEqual([]);
    expect(validateFakeSpec(spec({ loadBalancerIP: "2001:db8::10" }))).toEqual([
      {
        field: "spec.loadBalancerIP",
        severity: "error",
        message:
          "2001:db8::10 is an IPv6 address, and the Service's load balancer serves IPv4; ask for an address of a family it serves",
      },
    ]);
    expect(validateFakeSpec(spec({ loadBalancerIP: "lb.example" }))[0]).toMatchObject({
      field: "spec.loadBalancerIP",
      message: '"lb.example" is not an IP address; give one, or remove the field',
    });
  });

  it("serves IPv6 and dual-stack Services", () => {
    expect(validateFakeSpec(spec({ ipFamilies: ["IPv6"], ipFamilyPolicy: "SingleStack" }))).toEqual([]);
    expect(validateFakeSpec(spec({ ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" }))).toEqual([]);
  });
});
