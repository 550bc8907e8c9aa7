/**
 * Generators of user input for the property tests in this folder: strings that are mostly plausible
 * (the shapes each parser expects, slightly wrong) and partly hostile (empty, whitespace, separators,
 * Unicode, the names of `Object.prototype` members that a record lookup can trip over).
 *
 * Every property runs {@link RUNS} inputs; a failure prints the seed and path, and
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path>` replays it.
 *
 * @module
 */
import fc from "fast-check";

/** Inputs per property: thousands per parser, while the unit tier stays fast. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);

/**
 * Time allowed for one property: thousands of runs are CPU-bound, and on a loaded 2-core machine they
 * take several times what they take on a quiet one. A property that hangs still fails, after this.
 */
export const PROPERTY_TIMEOUT_MS = 60_000;

/** Options for `fc.assert`: the run count, and a replay when `FUZZ_SEED` (and `FUZZ_PATH`) are set. */
export function fuzzOptions(): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED;
  return {
    numRuns: RUNS,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(process.env.FUZZ_PATH === undefined ? {} : { path: process.env.FUZZ_PATH }),
  };
}

/** Names a plain-object lookup finds on every object. */
export const PROTOTYPE_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];

const separators = fc.constantFrom(",", "=", ", ", " ,", ",,", "=,", "/", ":", ";", " ", "\t", "\n", "");

/** A short token: a word, a number, a prototype name, or junk. */
export const token: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9][-a-z0-9._]{0,12}$/) },
  { weight: 2, arbitrary: fc.integer({ min: -70_000, max: 70_000 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("true", "false", "True", "1", "0", "t", "yes", "", " ", "*", "-", "0x10", "1e3"),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 4 }) },
);

/** Tokens joined by separators: lists, `k=v` pairs and everything in between. */
export const tokenList: fc.Arbitrary<string> = fc
  .array(fc.tuple(token, separators), { maxLength: 6 })
  .map((parts) => parts.map(([part, separator]) => part + separator).join(""));

/** An IPv4 or IPv6 address, well-formed or slightly not. */
export const address: fc.Arbitrary<string> = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4Extended(),
  fc.constantFrom("010.0.0.0", "1.2.3", "1.2.3.4.5", "256.0.0.1", "::", "::ffff:1.2.3.4", "fe80::1%eth0", ""),
);

/** `address/prefix`, with prefixes in and out of range and stray whitespace. */
export const cidrLike: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom("", " ", "\t"),
      address,
      fc.oneof(
        fc.integer({ min: 0, max: 140 }).map((n) => `/${n}`),
        fc.constantFrom("", "/", "/-1", "/08", "/a"),
      ),
    )
    .map(([pad, ip, prefix]) => `${pad}${ip}${prefix}${pad}`),
  token,
);

/** A value of any annotation: plausible shapes for each kind of annotation, and junk. */
export const annotationValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: tokenList },
  { weight: 2, arbitrary: token },
  { weight: 1, arbitrary: fc.array(cidrLike, { maxLength: 4 }).map((list) => list.join(",")) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.tuple(token, token), { maxLength: 5 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(",")),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "arn:aws:acm:us-east-1:123456789012:certificate/abc",
      "arn:aws:iam::123456789012:server-certificate/x",
      "eipalloc-0123abcd,eipalloc-0456ef01",
      "subnet-0123,subnet-0456",
      "10.0.0.5,10.0.1.5",
      "/healthz",
      "traffic-port",
      "nlb",
      "nlb-ip",
      "external",
      "internal",
      "internet-facing",
      "instance",
      "ip",
      "ssl",
      "tcp",
      "http",
      "HTTPS",
      "preserve_client_ip.enabled=false",
      "stickiness.enabled=true,stickiness.type=source_ip",
      "deregistration_delay.timeout_seconds=3601",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

/** Annotations as a record built from entries, so a key like `__proto__` becomes an own property. */
export function annotationsFrom(keys: fc.Arbitrary<string>): fc.Arbitrary<Record<string, string>> {
  return fc
    .array(fc.tuple(keys, annotationValue), { maxLength: 8 })
    .map((entries) => Object.fromEntries(entries) as Record<string, string>);
}

/** A Go-style duration, well-formed or not. */
export const durationLike: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.nat({ max: 100_000 }).map(String),
          fc.constantFrom("0.5", "1.", ".5", "1e3", "-1", "99999999999999999999"),
        ),
        fc.constantFrom("ms", "s", "m", "h", "", "d", "S", "us"),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((parts) => parts.map(([n, unit]) => n + unit).join("")),
  token,
);

/** A `[host]:port` bind address, well-formed or not. */
export const bindAddressLike: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.oneof(fc.constantFrom("", "0.0.0.0", "localhost", "[::1]", "::1", "[zz]", "host name"), fc.ipV4()),
      fc.constantFrom(":", "", "::"),
      fc.oneof(fc.integer({ min: -1, max: 100_000 }).map(String), token),
    )
    .map(([host, colon, port]) => host + colon + port),
  token,
);

/** A URL, well-formed or not. */
export const urlLike: fc.Arbitrary<string> = fc.oneof(
  fc.webUrl(),
  fc
    .tuple(
      fc.constantFrom("http://", "https://", "ftp://", "http:/", "", "http://user@"),
      fc.oneof(token, fc.ipV4(), fc.constantFrom("a b", "[::1]", "[::1", "%zz", "")),
      fc.constantFrom("", ":4566", ":99999", "/path", " ", ":x"),
    )
    .map((parts) => parts.join("")),
);
