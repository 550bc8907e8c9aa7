import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import createMinimalProvider, { providerApiVersion } from "../../../examples/minimal-provider.ts";
import { describeProviderConformance, exampleNodes } from "../../../providers/conformance/index.ts";
import { PROVIDER_API_VERSION } from "../../../providers/index.ts";

const logger = { debug() {}, info() {}, warn() {}, error() {} };

// The provider docs/providers.md teaches must be a conforming one.
describeProviderConformance({
  name: "examples/minimal-provider",
  create: async ({ onCall }) => ({
    provider: await createMinimalProvider({ clusterName: "conformance", logger, onCall, settings: {} }),
    nodes: exampleNodes(5),
  }),
});

describe("docs/providers.md", () => {
  const guide = readFileSync(new URL("../../../docs/providers.md", import.meta.url), "utf8");

  it("shows examples/minimal-provider.ts verbatim", () => {
    const source = readFileSync(new URL("../../../examples/minimal-provider.ts", import.meta.url), "utf8");
    const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks).toContain(source);
  });

  it("states the provider API version the code implements", () => {
    expect(providerApiVersion).toBe(PROVIDER_API_VERSION);
    expect(guide).toContain(`PROVIDER_API_VERSION\` is ${PROVIDER_API_VERSION}`);
  });

  it("lists every conformance case", async () => {
    const { CONFORMANCE_CASES } = await import("../../../providers/conformance/index.ts");
    for (const name of CONFORMANCE_CASES) expect(guide).toContain(`\`${name}\``);
  });
});
