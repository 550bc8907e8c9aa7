/**
 * `loadBalancerSourceRanges` as a filter on client addresses. Node's `BlockList` does the matching;
 * the ranges arrive already validated and canonical from the controller.
 *
 * @module
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";

/** Whether a client address may connect; always true for no ranges (open to all). */
export type SourceFilter = (clientAddress: string | undefined) => boolean;

const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** A filter admitting only addresses inside `ranges` (IPv4-mapped IPv6 clients match IPv4 ranges). */
export function sourceFilter(ranges: readonly string[]): SourceFilter {
  if (ranges.length === 0) return () => true;
  const allowed = new BlockList();
  for (const range of ranges) {
    const slash = range.indexOf("/");
    const network = range.slice(0, slash);
    allowed.addSubnet(network, Number(range.slice(slash + 1)), isIPv6(network) ? "ipv6" : "ipv4");
  }
  return (clientAddress) => {
    if (clientAddress === undefined) return false;
    const address = MAPPED_IPV4.exec(clientAddress)?.[1] ?? clientAddress;
    if (isIPv4(address)) return allowed.check(address, "ipv4");
    return isIPv6(address) && allowed.check(address, "ipv6");
  };
}
