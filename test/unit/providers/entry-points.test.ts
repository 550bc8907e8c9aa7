import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// vitest is an optional peer dependency, needed only by the conformance entry point: a plugin imports
// `lb-provisioner/providers` at run time, where vitest is not installed.
const withoutVitest = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === "vitest" || specifier.startsWith("vitest/")) throw new Error("vitest is not installed");
    return next(specifier, context);
  },
});`)}`;

function importWithoutVitest(entry: string): { status: number | null; stderr: string } {
  const path = fileURLToPath(new URL(`../../../providers/${entry}`, import.meta.url));
  const result = spawnSync(
    process.execPath,
    ["--import", withoutVitest, "--input-type=module", "--eval", "await import(process.argv[1]);", path],
    { encoding: "utf8" },
  );
  return { status: result.status, stderr: result.stderr };
}

describe("package entry points", () => {
  it("lb-provisioner/providers imports where vitest is not installed", () => {
    const { status, stderr } = importWithoutVitest("index.ts");
    expect(status, stderr).toBe(0);
  });

  it("lb-provisioner/providers/conformance is the entry point that needs vitest", () => {
    const { status, stderr } = importWithoutVitest("conformance/index.ts");
    expect(status).not.toBe(0);
    expect(stderr).toContain("vitest is not installed");
  });
});
