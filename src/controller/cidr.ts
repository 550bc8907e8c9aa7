/**
 * Strict CIDR parsing for `loadBalancerSourceRanges`, returning the canonical network form
 * (`10.0.0.1/8` becomes `10.0.0.0/8`, IPv6 compressed per RFC 5952), so providers get one spelling per
 * range. Stricter than the API server's historical "sloppy" parser: IPv4 octets with leading zeros
 * (`010.0.0.0/8`, which some parsers read as octal) are rejected rather than guessed at.
 *
 * @module
 */

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!DECIMAL.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return octets;
}

/** Eight 16-bit groups, or `undefined`. Accepts `::` compression and a dotted IPv4 tail. */
function parseIPv6(text: string): number[] | undefined {
  if (text.includes("%")) return undefined; // zones make no sense in a range
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string, allowIPv4Tail: boolean): number[] | undefined => {
    if (part === "") return [];
    const pieces = part.split(":");
    const groups: number[] = [];
    for (const [index, piece] of pieces.entries()) {
      if (allowIPv4Tail && index === pieces.length - 1 && piece.includes(".")) {
        const octets = parseIPv4(piece);
        if (!octets) return undefined;
        groups.push(((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0));
      } else {
        if (!HEXTET.test(piece)) return undefined;
        groups.push(Number.parseInt(piece, 16));
      }
    }
    return groups;
  };
  if (halves.length === 1) {
    const groups = parseGroups(text, true);
    return groups?.length === 8 ? groups : undefined;
  }
  const head = parseGroups(halves[0] ?? "", false);
  const tail = parseGroups(halves[1] ?? "", true);
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

function formatIPv6(groups: readonly number[]): string {
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestLength < 2) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** Zeroes every bit past `prefix` in `units` of `bitsPerUnit` bits each. */
function mask(units: readonly number[], bitsPerUnit: number, prefix: number): number[] {
  return units.map((unit, index) => {
    const keep = Math.max(0, Math.min(bitsPerUnit, prefix - index * bitsPerUnit));
    const unitMask = keep === 0 ? 0 : ((2 ** bitsPerUnit - 1) >> (bitsPerUnit - keep)) << (bitsPerUnit - keep);
    return unit & unitMask;
  });
}

/**
 * Parses `a.b.c.d/n` or an IPv6 `addr/n` (surrounding whitespace allowed, as the API server allows it)
 * into its canonical network form, or `undefined` when it is not a CIDR.
 */
export function parseCidr(text: string): string | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  if (slash < 0) return undefined;
  const address = trimmed.slice(0, slash);
  const prefixText = trimmed.slice(slash + 1);
  if (!DECIMAL.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const v4 = parseIPv4(address);
  if (v4) return prefix <= 32 ? `${mask(v4, 8, prefix).join(".")}/${prefix}` : undefined;
  const v6 = parseIPv6(address);
  if (v6) return prefix <= 128 ? `${formatIPv6(mask(v6, 16, prefix))}/${prefix}` : undefined;
  return undefined;
}
