/**
 * The project's import graph, read from source with the TypeScript parser: every `import` and
 * `export ... from` (value or type-only) and every `import("...")` with a literal specifier, followed
 * from entry points through relative specifiers. Bare specifiers (packages, `node:` builtins) are
 * recorded, not followed.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const REPO = fileURLToPath(new URL("../../..", import.meta.url));

export interface ImportEdge {
  /** Repository-relative path of the importing file, e.g. `src/cli.ts`. */
  readonly from: string;
  readonly specifier: string;
  /** `dynamic` is `import("...")`: loaded only when that code runs. */
  readonly kind: "static" | "dynamic";
  /** Repository-relative path of the imported file, for relative specifiers. */
  readonly to?: string;
}

/** The package a bare specifier names (`@aws-sdk/client-ec2/dist` -> `@aws-sdk/client-ec2`). */
export function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

function literal(node: ts.Node | undefined): string | undefined {
  return node !== undefined && ts.isStringLiteralLike(node) ? node.text : undefined;
}

/** Every import of one file. */
export function importsOf(file: string): ImportEdge[] {
  const path = join(REPO, file);
  const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const add = (specifier: string | undefined, kind: ImportEdge["kind"]): void => {
    if (specifier === undefined) return;
    const relativeTarget = specifier.startsWith(".") ? relative(REPO, resolve(dirname(path), specifier)) : undefined;
    edges.push({ from: file, specifier, kind, ...(relativeTarget === undefined ? {} : { to: relativeTarget }) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(literal(node.moduleSpecifier), "static");
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(literal(node.argument.literal), "static");
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(literal(node.arguments[0]), "dynamic");
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/**
 * The files reachable from `entries` through relative imports of any kind, each with its imports.
 * Throws when a relative specifier names no file, so a typo cannot hide part of the graph.
 */
export function importGraph(entries: readonly string[]): Map<string, ImportEdge[]> {
  const graph = new Map<string, ImportEdge[]>();
  const pending = [...entries];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (graph.has(file)) continue;
    const edges = importsOf(file);
    graph.set(file, edges);
    for (const edge of edges) {
      if (edge.to === undefined) continue;
      if (!existsSync(join(REPO, edge.to))) throw new Error(`${file} imports ${edge.specifier}, which does not exist`);
      pending.push(edge.to);
    }
  }
  return graph;
}

/** Repository-relative paths of the `.ts` files under `folder`, tests excluded. */
export function sourceFiles(folder: string): string[] {
  return readdirSync(join(REPO, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".d.ts"))
    .map((name) => join(folder, name))
    .sort();
}
