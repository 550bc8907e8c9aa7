/** `docs/aws.md` documents every annotation and setting the provider reads, and every one it refuses. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ANNOTATION, UNSUPPORTED_ANNOTATIONS } from "../../../providers/aws/annotations.ts";
import { AWS_SETTINGS } from "../../../providers/aws/index.ts";

const doc = readFileSync(join(import.meta.dirname, "../../../docs/aws.md"), "utf8");
/** Table rows of the `### title` section, as trimmed cells (tables may be padded by the formatter). */
function rows(title: string): string[][] {
  const start = doc.indexOf(`### ${title}`);
  const end = doc.indexOf("\n#", start + 4);
  return doc
    .slice(start, end < 0 ? undefined : end)
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .map((line) =>
      line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}
const rowFor = (title: string, key: string) => rows(title).find((cells) => cells[0] === `\`${key}\``);

describe("docs/aws.md", () => {
  it.each(Object.values(ANNOTATION))("lists supported %s with a default and an example", (key) => {
    const row = rowFor("Supported", key);
    expect(row, `no row for ${key} in "### Supported"`).toBeDefined();
    const [, values, defaultValue, example] = row ?? [];
    for (const cell of [values, defaultValue, example]) expect(cell?.length).toBeGreaterThan(0);
  });

  it.each(Object.keys(UNSUPPORTED_ANNOTATIONS))("says %s is not supported and answered with a Warning", (key) => {
    expect(rowFor("Not supported", key)?.[1]).toBe("not supported (answered with a Warning)");
  });

  it.each(AWS_SETTINGS)("documents the %s setting", (setting) => {
    expect(doc).toMatch(new RegExp(`^\\| \`${setting}\` +\\|`, "m"));
  });
});
