/**
 * Booleans as Kubernetes and the cloud providers written in Go read them (`strconv.ParseBool`): the
 * node exclusion label, and annotations such as cloud-provider-aws's `...-internal`.
 *
 * @module
 */

const TRUE_SPELLINGS: ReadonlySet<string> = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_SPELLINGS: ReadonlySet<string> = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Go's `strconv.ParseBool`: `true`/`false` in its accepted spellings, else `undefined`. */
export function parseGoBool(value: string): boolean | undefined {
  if (TRUE_SPELLINGS.has(value)) return true;
  if (FALSE_SPELLINGS.has(value)) return false;
  return undefined;
}
