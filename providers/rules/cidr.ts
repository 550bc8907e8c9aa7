/**
 * IP addresses and CIDRs, read strictly and written canonically, on `ipaddr.js`: the one reading of a
 * source range or an address range for the controller and every provider.
 *
 * Strict where the library is lenient: IPv4 only as four decimal parts (`010.0.0.0`, read as octal by
 * some parsers, `10.1` and `0x0a.0.0.0` are refused rather than guessed at), a prefix length without
 * leading zeros, and no IPv6 zone (`%eth0` means nothing in a range). Canonical: the network address
 * (`10.1.2.3/8` is `10.0.0.0/8`), IPv6 compressed as RFC 5952 says, so each range has one spelling.
 *
 * @module
 */
import ipaddr from "ipaddr.js";

export type IpFamily = "ipv4" | "ipv6";

/** An address as the library models it. */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** A parsed CIDR: its network address (canonical text), prefix length and family. */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: string;
  readonly prefix: number;
}

/** The ranges that mean "every client": reported by some clouds for an unrestricted load balancer. */
export const OPEN_TO_ALL_RANGES: readonly string[] = ["0.0.0.0/0", "::/0"];

const PREFIX = /^(0|[1-9][0-9]*)$/;

/** Parses one IP address strictly (see the module doc), or `undefined`. Whitespace is not trimmed. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.includes("%") || !ipaddr.isValid(text)) return undefined;
  if (ipaddr.IPv4.isIPv4(text)) return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : undefined;
  return ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text) : undefined;
}

/** The canonical text of an address: dotted decimal, or RFC 5952 for IPv6. */
export function formatIpAddress(address: IpAddress): string {
  return address.kind() === "ipv6" ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
}

/**
 * Parses `address/prefix` (surrounding whitespace allowed, as the API server allows it), or returns
 * `undefined` when it is not a CIDR.
 */
export function parseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  if (slash < 0) return undefined;
  const address = parseIpAddress(trimmed.slice(0, slash));
  const prefixText = trimmed.slice(slash + 1);
  if (address === undefined || !PREFIX.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const family = address.kind();
  if (prefix > (family === "ipv4" ? 32 : 128)) return undefined;
  const network =
    family === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${prefix}`);
  return { family, network: formatIpAddress(network), prefix };
}

/** The canonical `network/prefix` form of a CIDR, or `undefined` when `text` is not one. */
export function canonicalCidr(text: string): string | undefined {
  const cidr = parseCidr(text);
  return cidr === undefined ? undefined : `${cidr.network}/${cidr.prefix}`;
}

/** Whether `address` lies inside `cidr` (same family only); false when either does not parse. */
export function cidrContains(cidr: string, address: string): boolean {
  const range = parseCidr(cidr);
  const parsed = parseIpAddress(address);
  if (range === undefined || parsed === undefined) return false;
  if (parsed instanceof ipaddr.IPv4) {
    return range.family === "ipv4" && parsed.match(ipaddr.IPv4.parse(range.network), range.prefix);
  }
  return range.family === "ipv6" && parsed.match(ipaddr.IPv6.parse(range.network), range.prefix);
}

/** Whether `ranges` admit every client: none at all, or only the all-addresses CIDRs. */
export function isOpenToAll(ranges: readonly string[]): boolean {
  return ranges.every((range) => OPEN_TO_ALL_RANGES.includes(canonicalCidr(range) ?? range));
}
