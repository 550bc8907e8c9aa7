/**
 * The layout the documents describe is the layout on disk: README's table names every top-level folder
 * (and no other), and docs/architecture.md's folder list names every folder of the product and the
 * sandbox, to the second level (and no other). README links the architecture page.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** Folders below `path`, without hidden ones and installed packages. */
function folders(path: string): string[] {
  return readdirSync(join(ROOT, path), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
    .map((entry) => entry.name)
    .filter((name) => name !== "dist" && name !== "coverage")
    .sort();
}

/** The lines of the fenced block following `## heading`. */
function blockAfter(doc: string, heading: string): string[] {
  const start = doc.indexOf(`\n## ${heading}\n`);
  const open = doc.indexOf("```", start);
  const close = doc.indexOf("```", open + 3);
  return doc.slice(doc.indexOf("\n", open) + 1, close).split("\n");
}

describe("the documented layout", () => {
  it("README's layout table names exactly the top-level folders", () => {
    const readme = read("README.md");
    const section = readme.slice(
      readme.indexOf("\n## Layout\n"),
      readme.indexOf("\n## ", readme.indexOf("\n## Layout\n") + 5),
    );
    const named = [...section.matchAll(/^\| `([^`/]+)\/` \|/gm)].map((match) => match[1]).sort();
    expect(named).toEqual(folders("."));
  });

  it("docs/architecture.md lists exactly the folders of src/, providers/ and sandbox/", () => {
    const listed: string[] = [];
    let parent = "";
    for (const line of blockAfter(read("docs/architecture.md"), "Folders")) {
      const match = /^( *)([a-z-]+)\/ /.exec(line);
      if (!match) continue;
      if ((match[1] ?? "").length === 0) parent = match[2] ?? "";
      listed.push((match[1] ?? "").length === 0 ? parent : `${parent}/${match[2]}`);
    }
    const onDisk = ["src", "providers", "sandbox"].flatMap((top) => [
      top,
      ...folders(top).map((sub) => `${top}/${sub}`),
    ]);
    expect(listed.sort()).toEqual(onDisk.sort());
  });

  it("README links the architecture page", () => {
    expect(read("README.md")).toContain("(docs/architecture.md)");
  });
});
