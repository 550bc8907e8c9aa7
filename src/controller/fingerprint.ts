/**
 * Short, stable digests of JSON-shaped values (property order ignored), so the controller can remember
 * "what it last ensured" per Service in a few bytes instead of keeping whole specs — which, with
 * thousands of Services times thousands of nodes, would not fit in memory.
 *
 * @module
 */
import { createHash } from "node:crypto";

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== "object" || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) sorted[key] = canonical(item);
  }
  return sorted;
}

/** A digest equal for structurally equal values and (practically) different otherwise. */
export function fingerprint(value: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(canonical(value)) ?? "undefined")
    .digest("base64url")
    .slice(0, 22);
}
