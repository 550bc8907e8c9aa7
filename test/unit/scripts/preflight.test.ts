/**
 * scripts/preflight.cjs, the check in front of `npm run demo` and `npm test`: the one home of the
 * minimum Node version, and one line naming the fix when the dependencies are missing.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const SCRIPT = fileURLToPath(new URL("../../../scripts/preflight.cjs", import.meta.url));
const { newEnough } = createRequire(import.meta.url)(SCRIPT) as { newEnough: (version: string) => boolean };

describe("the minimum Node version", () => {
  it("is the first release of each line that strips types without a flag", () => {
    const expected: [string, boolean][] = [
      ["18.20.4", false],
      ["20.20.2", false],
      ["22.17.1", false],
      ["22.18.0", true],
      ["22.21.1", true],
      ["23.5.0", false],
      ["23.6.0", true],
      ["24.0.0", true],
      ["26.1.0", true],
    ];
    expect(expected.map(([version]) => [version, newEnough(version)])).toEqual(expected);
  });

  it("is met by the Node running the tests", () => {
    expect(newEnough(process.versions.node)).toBe(true);
  });
});

describe("node scripts/preflight.cjs", () => {
  let checkout: string | undefined;
  afterEach(() => {
    if (checkout) rmSync(checkout, { recursive: true, force: true });
    checkout = undefined;
  });

  function runInCheckout(args: string[], withDependencies: boolean) {
    checkout = mkdtempSync(join(tmpdir(), "lbp-preflight-"));
    mkdirSync(join(checkout, "scripts"));
    copyFileSync(SCRIPT, join(checkout, "scripts", "preflight.cjs"));
    if (withDependencies) {
      mkdirSync(join(checkout, "node_modules"));
      copyFileSync(SCRIPT, join(checkout, "node_modules", ".package-lock.json"));
    }
    return spawnSync(process.execPath, [join(checkout, "scripts", "preflight.cjs"), ...args], { encoding: "utf8" });
  }

  it("says in one line how to install missing dependencies, naming the make target", () => {
    const result = runInCheckout(["demo"], false);
    expect([result.status, result.stdout]).toEqual([1, ""]);
    expect(result.stderr).toBe(
      "lb-provisioner: error: the dependencies are not installed; run `npm ci` first, or `make demo`\n",
    );
  });

  it("passes silently when Node and the dependencies are there", () => {
    const result = runInCheckout(["test"], true);
    expect([result.status, result.stdout, result.stderr]).toEqual([0, "", ""]);
  });

  it("checks only the Node version with --node-only", () => {
    const result = runInCheckout(["--node-only"], false);
    expect([result.status, result.stdout, result.stderr]).toEqual([0, "", ""]);
  });
});
