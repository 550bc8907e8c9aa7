/**
 * Plain-text tables for the operator commands (and the demo): left-aligned columns, two spaces apart, no
 * colour, so the same text reads well on a terminal, in a CI log and in `docs/demo-output.txt`.
 *
 * @module
 */

/** Renders `rows` under `headers`; a row shorter than the header leaves its last cells blank. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    widths
      .map((width, column) => (cells[column] ?? "").padEnd(width))
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}
