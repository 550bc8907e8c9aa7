/**
 * Kubernetes label syntax, for the controller's flags and the providers' annotations alike: a label key
 * (also the shape of `spec.loadBalancerClass`) is an optional DNS-subdomain prefix and `/`, then a name
 * of at most 63 letters, digits, `-`, `_` and `.` that starts and ends with a letter or digit; a label
 * value is such a name, or empty. A selector written with anything else can never match a node, so it
 * is refused rather than left to select nothing.
 *
 * @module
 */

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Whether `value` is a DNS subdomain (RFC 1123): lowercase, dot-separated labels, at most 253 characters. */
export function isDnsSubdomain(value: string): boolean {
  return DNS_SUBDOMAIN.test(value);
}

/** Whether `key` is a label key (a qualified name): `[prefix/]name`. */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return NAME.test(key);
  return isDnsSubdomain(key.slice(0, slash)) && NAME.test(key.slice(slash + 1));
}

/** Whether `value` is a label value: empty, or a name of at most 63 characters. */
export function isLabelValue(value: string): boolean {
  return value === "" || NAME.test(value);
}
