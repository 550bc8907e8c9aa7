import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importWithout } from "../../harness/hide-package.ts";

// vitest is an optional peer dependency, needed only by the conformance entry point: a plugin imports
// `lb-provisioner/providers` at run time, where vitest is not installed. (The packed package is checked
// the same way in test/integration/plugin-author-loop.test.ts.)
const entry = (path: string) => fileURLToPath(new URL(`../../../providers/${path}`, import.meta.url));

describe("package entry points", () => {
  it("lb-provisioner/providers imports where vitest is not installed", () => {
    const { status, stderr } = importWithout("vitest", entry("index.ts"));
    expect(status, stderr).toBe(0);
  });

  it("lb-provisioner/providers/conformance is the entry point that needs vitest", () => {
    const { status, stderr } = importWithout("vitest", entry("conformance/index.ts"));
    expect(status).not.toBe(0);
    expect(stderr).toContain("vitest is not installed");
  });
});
