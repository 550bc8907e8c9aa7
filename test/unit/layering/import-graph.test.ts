/**
 * The layering README and docs/architecture.md promise, checked on the import graph from the product's
 * entry points (static and dynamic imports alike):
 * - `src/` and `providers/` outside `providers/aws/` import no AWS SDK;
 * - no product file outside `providers/<name>/` imports that provider's SDK, or the provider itself
 *   (providers are reached only through the loader, by name);
 * - `providers/` imports nothing from `src/`, `sandbox/` or the Kubernetes client (the seam is neutral);
 * - `src/` reaches the sandbox only through the `demo` command's dynamic import.
 *
 * What a running command loads is checked by `test/integration/lazy-loading.test.ts`.
 */
import { describe, expect, it } from "vitest";
import { builtinProviders } from "../../../providers/load.ts";
import { type ImportEdge, importGraph, packageOf, sourceFiles } from "./import-graph.ts";

/** Packages only a provider's own folder may import. A provider with no cloud SDK needs no entry. */
const PROVIDER_SDKS: Readonly<Record<string, readonly RegExp[]>> = {
  aws: [/^@aws-sdk\//],
};

/** Built-in providers: each a folder of `providers/` whose `index.ts` the loader imports by name. */
const PROVIDER_FOLDERS: readonly string[] = builtinProviders;

const ENTRY_POINTS = [
  "src/cli.ts",
  "src/index.ts",
  "providers/index.ts",
  "providers/conformance/index.ts",
  ...PROVIDER_FOLDERS.map((name) => `providers/${name}/index.ts`),
];

const graph = importGraph(ENTRY_POINTS);
const edges: ImportEdge[] = [...graph.values()].flat();
const isProduct = (file: string) => file.startsWith("src/") || file.startsWith("providers/");
const productEdges = edges.filter((edge) => isProduct(edge.from));
const show = (list: readonly ImportEdge[]) => list.map((edge) => `${edge.from} -> ${edge.specifier} (${edge.kind})`);

describe("import graph", () => {
  it("reaches every file of src/ and providers/ from an entry point, so no file escapes these checks", () => {
    const product = [...sourceFiles("src"), ...sourceFiles("providers")];
    expect(product.length).toBeGreaterThan(50);
    expect(product.filter((file) => !graph.has(file))).toEqual([]);
  });

  it("src/ and providers/ outside providers/aws/ import no @aws-sdk module", () => {
    const sdk = productEdges.filter((edge) => edge.specifier.startsWith("@aws-sdk/"));
    expect(sdk.length).toBeGreaterThan(0);
    expect(show(sdk.filter((edge) => !edge.from.startsWith("providers/aws/")))).toEqual([]);
  });

  it.each(PROVIDER_FOLDERS)("nothing outside providers/%s/ imports its SDK or its files", (name) => {
    const folder = `providers/${name}/`;
    const sdk = PROVIDER_SDKS[name] ?? [];
    const outside = productEdges.filter((edge) => !edge.from.startsWith(folder));
    const intoProvider = outside.filter((edge) => edge.to?.startsWith(folder));
    const intoSdk = outside.filter((edge) => sdk.some((pattern) => pattern.test(edge.specifier)));
    expect(show([...intoProvider, ...intoSdk])).toEqual([]);
  });

  it("providers/ imports nothing from src/, sandbox/ or the Kubernetes client", () => {
    const fromProviders = edges.filter((edge) => edge.from.startsWith("providers/"));
    const crossing = fromProviders.filter(
      (edge) =>
        edge.to?.startsWith("src/") ||
        edge.to?.startsWith("sandbox/") ||
        packageOf(edge.specifier) === "@kubernetes/client-node",
    );
    expect(show(crossing)).toEqual([]);
  });

  it("src/ reaches sandbox/ only through the demo command's dynamic import", () => {
    const intoSandbox = edges.filter((edge) => edge.from.startsWith("src/") && edge.to?.startsWith("sandbox/"));
    expect(show(intoSandbox)).toEqual(["src/commands/demo.ts -> ../../sandbox/demo/index.ts (dynamic)"]);
  });
});
