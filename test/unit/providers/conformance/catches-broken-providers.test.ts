import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CaseOutcome,
  CONFORMANCE_CASES,
  type ConformanceCase,
  type ConformanceOptions,
  runConformanceCases,
} from "../../../../providers/conformance/index.ts";
import type { LoadBalancerProvider } from "../../../../providers/index.ts";
import { takeCapturedOptions } from "./captured-options.ts";
import { MUTANTS, type Mutant, mutate } from "./template-mutants.ts";

// The suite is worth something only if it fails providers that break the contract. Each broken provider
// is the provider template with one obligation broken, run through every case with the options of the
// template's own conformance test file; it must fail exactly the cases that exist to catch that.

const template = fileURLToPath(new URL("../../../../examples/provider-template/", import.meta.url));
const CONFORMANCE_MODULE = 'from "lb-provisioner/providers/conformance"';
const capture = fileURLToPath(new URL("./captured-options.ts", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "lbp-template-mutants-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let copies = 0;

/**
 * A copy of the template whose provider source is `source` and whose conformance test file describes
 * into {@link takeCapturedOptions}; resolves to the options that file gives.
 */
async function templateOptions(source?: string): Promise<ConformanceOptions> {
  const dir = join(scratch, `copy-${++copies}`);
  cpSync(join(template, "src"), join(dir, "src"), { recursive: true });
  if (source !== undefined) writeFileSync(join(dir, "src", "index.ts"), source);
  const testFile = readFileSync(join(template, "test", "conformance.test.ts"), "utf8");
  expect(testFile.split(CONFORMANCE_MODULE).length - 1, "the template's test imports the suite once").toBe(1);
  const copiedTest = join(dir, "test", "conformance.test.ts");
  mkdirSync(dirname(copiedTest));
  writeFileSync(copiedTest, testFile.replace(CONFORMANCE_MODULE, `from ${JSON.stringify(capture)}`));
  await import(pathToFileURL(copiedTest).href);
  return takeCapturedOptions();
}

const failed = (outcomes: readonly CaseOutcome[]) => outcomes.filter((o) => o.status === "failed").map((o) => o.name);
const templateSource = readFileSync(join(template, "src", "index.ts"), "utf8");

describe("the conformance suite against the provider template", () => {
  it("passes every case, skipping none, when the template is as it is", async () => {
    const outcomes = await runConformanceCases(await templateOptions());
    expect(outcomes.filter((o) => o.status !== "passed")).toEqual([]);
    expect(outcomes.map((o) => o.name)).toEqual(CONFORMANCE_CASES);
  });

  it.each(MUTANTS.map((mutant): [string, Mutant] => [mutant.breaks, mutant]))(
    "fails a template that breaks %s",
    async (_title, mutant) => {
      const outcomes = await runConformanceCases(await templateOptions(mutate(templateSource, mutant)));
      expect(outcomes.filter((o) => o.status === "skipped")).toEqual([]);
      const expected = CONFORMANCE_CASES.filter((name) => mutant.caughtBy.includes(name));
      expect(
        failed(outcomes),
        JSON.stringify(
          outcomes.filter((o) => o.status === "failed"),
          null,
          1,
        ),
      ).toEqual(expected);
    },
  );
});

describe("skipped cases", () => {
  it("are the ones whose optional method or hook is absent, reported with the reason, never passed", async () => {
    const { deleteOutOfBand: _, restart: __, occupy: ___, ...options } = await templateOptions();
    const outcomes = await runConformanceCases({
      ...options,
      create: async (context) => {
        const setup = await options.create(context);
        const { provider } = setup;
        // Only the required methods, and no capabilities declared.
        const required: LoadBalancerProvider = {
          name: provider.name,
          ensureLoadBalancer: (spec, callOptions) => provider.ensureLoadBalancer(spec, callOptions),
          getLoadBalancer: (ref, getOptions) => provider.getLoadBalancer(ref, getOptions),
          ensureLoadBalancerDeleted: (ref, callOptions) => provider.ensureLoadBalancerDeleted(ref, callOptions),
        };
        return { ...setup, provider: required };
      },
    });
    expect(outcomes.filter((o) => o.status !== "passed")).toEqual([
      { name: "recreates-after-out-of-band-deletion", status: "skipped", message: "no deleteOutOfBand hook was given" },
      { name: "same-ref-after-restart", status: "skipped", message: "no restart hook was given" },
      { name: "leaves-foreign-resources-alone", status: "skipped", message: "no occupy hook was given" },
      {
        name: "lists-owned-load-balancers",
        status: "skipped",
        message: "the provider does not implement the optional listLoadBalancers",
      },
      {
        name: "validate-reports-issues",
        status: "skipped",
        message: "the provider does not implement the optional validate",
      },
      {
        name: "session-affinity",
        status: "skipped",
        message:
          "the provider does not declare capabilities.sessionAffinity, so the controller warns about Services that set it",
      },
      {
        name: "load-balancer-ip",
        status: "skipped",
        message:
          "the provider does not declare capabilities.loadBalancerIP, so the controller warns about Services that set it",
      },
    ]);
  });

  it("must name a case and give a reason", async () => {
    const options = await templateOptions();
    const unknown = { "no-such-case": "reason" } as Partial<Record<ConformanceCase, string>>;
    await expect(runConformanceCases({ ...options, skip: unknown })).rejects.toThrow(
      /skip names unknown case "no-such-case"; cases are creates-from-spec, /,
    );
    await expect(runConformanceCases({ ...options, skip: { "source-ranges": " " } })).rejects.toThrow(
      /skip\["source-ranges"\] needs a written reason/,
    );
  });
});
