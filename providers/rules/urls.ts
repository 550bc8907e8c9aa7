/**
 * What an endpoint setting must be before a client library is handed it: an `http://` or `https://` URL
 * with a host. `--aws-endpoint-url` and every provider setting of type `url` are checked by it.
 *
 * @module
 */

/** Whether `value` parses as a URL with an http(s) scheme and a host. */
export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}
