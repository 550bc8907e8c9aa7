import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { providerApiVersion } from "../../../examples/provider-template/src/index.ts";
import { CONFORMANCE_CASES } from "../../../providers/conformance/index.ts";
import { PROVIDER_API_VERSION } from "../../../providers/index.ts";

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");
const guide = read("docs/providers.md");

// The template passes the suite in its own test file (examples/provider-template/test/), which the unit
// tier runs; this checks what the guide says about it.
describe("docs/providers.md and examples/provider-template", () => {
  it("quotes the template's provider verbatim", () => {
    const source = read("examples/provider-template/src/index.ts");
    const quoted = [...guide.matchAll(/```ts\n( {2}[\s\S]*?)```/g)].map((match) => match[1] as string);
    expect(quoted.length, "the guide quotes methods of the template (indented code blocks)").toBeGreaterThan(0);
    for (const block of quoted) expect(source).toContain(block);
  });

  it("states the provider API version the code implements, which the template declares", () => {
    expect(providerApiVersion).toBe(PROVIDER_API_VERSION);
    expect(guide).toContain(`\`PROVIDER_API_VERSION\` is ${PROVIDER_API_VERSION}`);
  });

  it("lists every conformance case", () => {
    for (const name of CONFORMANCE_CASES) expect(guide).toContain(`| \`${name}\` |`);
  });
});
