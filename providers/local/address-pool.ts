/**
 * The addresses the local provider hands out, and the rule that picks one for a Service.
 *
 * Addresses must survive a controller restart although the provider keeps no state outside its own
 * process (the contract's "no state outside the cloud", and this cloud dies with the process). So the
 * choice is a pure function of things that outlive the process:
 *
 * 1. the address the Service already publishes in `status.loadBalancer.ingress[].ip`
 *    ({@link LoadBalancerSpec.publishedStatus}), when it is in the pool and no other load balancer holds it;
 * 2. else the pool address at `sha256(cluster, namespace, name) mod size`;
 * 3. else, when that one is taken, the next free address after it (wrapping around).
 *
 * Rule 2 alone gives every Service the same address after a restart, whatever order Services are
 * re-ensured in, until two of them hash to the same address; then rule 3 decides by arrival order, and
 * rule 1 is what brings each back to the address it had. A Service whose status was cleared by hand and
 * that once lost a collision may come back on another address: its status is then rewritten, as for
 * any cloud that moved a load balancer.
 *
 * @module
 */
import { createHash } from "node:crypto";
import ipaddr from "ipaddr.js";
import { formatIpAddress, type IpAddress, parseCidr, parseIpAddress } from "../rules/index.ts";
import type { IPFamily, LoadBalancerRef } from "../types.ts";

type Family = "ipv4" | "ipv6";

/** One contiguous, inclusive run of addresses. */
interface AddressRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

/** A pool entry that is neither a CIDR nor a range; the message says which entry and why. */
export class AddressPoolSyntaxError extends Error {
  override readonly name = "AddressPoolSyntaxError";
}

const BITS: Readonly<Record<Family, number>> = { ipv4: 32, ipv6: 128 };
const FAMILY_OF_KIND: Readonly<Record<Family, IPFamily>> = { ipv4: "IPv4", ipv6: "IPv6" };

function toBigInt(address: IpAddress): bigint {
  return address.toByteArray().reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

function fromBigInt(value: bigint, family: Family): string {
  const bytes: number[] = [];
  let rest = value;
  for (let i = 0; i < BITS[family] / 8; i++) {
    bytes.unshift(Number(rest & 0xffn));
    rest >>= 8n;
  }
  return formatIpAddress(ipaddr.fromByteArray(bytes));
}

function parseAddress(text: string, entry: string): IpAddress {
  const address = parseIpAddress(text);
  if (address === undefined) throw new AddressPoolSyntaxError(`"${entry}": "${text}" is not an IP address`);
  // An IPv4-mapped IPv6 address is an IPv4 address in disguise: `contains` and `canonical` read it as
  // IPv4, so a pool of them would hand out addresses it then does not recognise as its own.
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    const ipv4 = (address as ipaddr.IPv6).toIPv4Address().toString();
    throw new AddressPoolSyntaxError(`"${entry}": "${text}" is an IPv4-mapped IPv6 address; write it as ${ipv4}`);
  }
  return address;
}

function parseEntry(entry: string): AddressRange {
  if (entry.includes("/")) {
    const cidr = parseCidr(entry);
    if (cidr === undefined) throw new AddressPoolSyntaxError(`"${entry}" is not a CIDR`);
    const { family, prefix } = cidr;
    const hostBits = BigInt(BITS[family] - prefix);
    const network = toBigInt(parseAddress(cidr.network, entry));
    const broadcast = network + (1n << hostBits) - 1n;
    // An IPv4 subnet's network and broadcast addresses are not host addresses; /31 and /32 have none.
    if (family === "ipv4" && prefix <= 30) return { family, first: network + 1n, last: broadcast - 1n };
    return { family, first: network, last: broadcast };
  }
  const dash = entry.indexOf("-");
  if (dash < 0) {
    const address = parseAddress(entry, entry);
    return { family: address.kind(), first: toBigInt(address), last: toBigInt(address) };
  }
  const first = parseAddress(entry.slice(0, dash).trim(), entry);
  const last = parseAddress(entry.slice(dash + 1).trim(), entry);
  if (first.kind() !== last.kind()) throw new AddressPoolSyntaxError(`"${entry}" mixes IPv4 and IPv6`);
  if (toBigInt(first) > toBigInt(last)) throw new AddressPoolSyntaxError(`"${entry}" ends before it starts`);
  return { family: first.kind(), first: toBigInt(first), last: toBigInt(last) };
}

/** An ordered set of addresses from CIDRs, `first-last` ranges and single addresses. */
export class AddressPool {
  readonly #ranges: readonly AddressRange[];
  /** Number of addresses, summed over the ranges. */
  readonly size: bigint;
  /** The pool as given, for messages. */
  readonly description: string;

  private constructor(ranges: readonly AddressRange[], description: string) {
    this.#ranges = ranges;
    this.size = ranges.reduce((sum, range) => sum + range.last - range.first + 1n, 0n);
    this.description = description;
  }

  /**
   * Parses entries separated by commas or whitespace: `127.0.100.0/24`, `10.0.0.10-10.0.0.20`,
   * `192.0.2.7`, `fd00::/120`.
   *
   * @throws {AddressPoolSyntaxError} naming the first bad entry, or when there is none, or when two
   *   entries overlap (an address would be in the pool twice).
   */
  static parse(text: string): AddressPool {
    const entries = text
      .split(/[\s,]+/)
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    if (entries.length === 0) throw new AddressPoolSyntaxError("no addresses given");
    const ranges = entries.map(parseEntry);
    for (const [i, a] of ranges.entries()) {
      for (const [j, b] of ranges.entries()) {
        if (j > i && a.family === b.family && a.first <= b.last && b.first <= a.last) {
          throw new AddressPoolSyntaxError(`"${entries[i]}" and "${entries[j]}" overlap`);
        }
      }
    }
    return new AddressPool(ranges, entries.join(","));
  }

  /** The families the pool has addresses of, IPv4 first. */
  get families(): IPFamily[] {
    return (["ipv4", "ipv6"] as const)
      .filter((kind) => this.#ranges.some((range) => range.family === kind))
      .map((kind) => FAMILY_OF_KIND[kind]);
  }

  /** The pool's addresses of `family`, in pool order, or `undefined` when it has none. */
  ofFamily(family: IPFamily): AddressPool | undefined {
    const ranges = this.#ranges.filter((range) => FAMILY_OF_KIND[range.family] === family);
    if (ranges.length === this.#ranges.length) return this;
    return ranges.length === 0 ? undefined : new AddressPool(ranges, this.description);
  }

  /** The address at position `index` (0 <= index < size) in pool order. */
  addressAt(index: bigint): string {
    let rest = index;
    for (const range of this.#ranges) {
      const count = range.last - range.first + 1n;
      if (rest < count) return fromBigInt(range.first + rest, range.family);
      rest -= count;
    }
    throw new RangeError(`index ${index} is outside a pool of ${this.size} addresses`);
  }

  /** Whether `address` (any spelling) is in the pool. */
  contains(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    const parsed = ipaddr.process(address);
    const value = toBigInt(parsed);
    return this.#ranges.some((r) => r.family === parsed.kind() && r.first <= value && value <= r.last);
  }

  /** The canonical spelling of a pool address (the one {@link addressAt} returns). */
  static canonical(address: string): string {
    const parsed = ipaddr.process(address);
    return fromBigInt(toBigInt(parsed), parsed.kind());
  }
}

/** Position in `pool` where `ref`'s search for an address starts: a hash of its identity. */
export function preferredIndex(pool: AddressPool, ref: LoadBalancerRef): bigint {
  const digest = createHash("sha256")
    .update(JSON.stringify([ref.clusterName, ref.service.namespace, ref.service.name]))
    .digest();
  return BigInt(`0x${digest.subarray(0, 16).toString("hex")}`) % pool.size;
}

/**
 * The address `ref` gets (see the module comment), or `undefined` when every address is taken. For one
 * family, pass that family's pool ({@link AddressPool.ofFamily}).
 *
 * @param published addresses the Service publishes now, tried first.
 * @param taken addresses other load balancers hold, in canonical spelling.
 */
export function chooseAddress(
  pool: AddressPool,
  ref: LoadBalancerRef,
  published: readonly string[],
  taken: ReadonlySet<string>,
): string | undefined {
  for (const address of published) {
    if (!pool.contains(address)) continue;
    const canonical = AddressPool.canonical(address);
    if (!taken.has(canonical)) return canonical;
  }
  let takenHere = 0n;
  for (const address of taken) if (pool.contains(address)) takenHere++;
  if (takenHere >= pool.size) return undefined;
  const start = preferredIndex(pool, ref);
  for (let step = 0n; step < pool.size; step++) {
    const candidate = pool.addressAt((start + step) % pool.size);
    if (!taken.has(candidate)) return candidate;
  }
  return undefined;
}
