/**
 * Minimal HTTP(S) requests for readiness probes: a status code and a body, never a throw for a
 * connection refused (the server is simply not up yet).
 *
 * @module
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** The outcome of one probe: the status and body, or `undefined` when no HTTP answer came. */
export interface ProbeResult {
  readonly status: number;
  readonly body: string;
}

/** TLS trust and authentication for an HTTPS probe. */
export interface ProbeOptions {
  readonly method?: string;
  /** PEM bundle trusted for the server's certificate. */
  readonly ca?: string;
  readonly bearerToken?: string;
  readonly timeoutMs?: number;
}

/** One request to `url`; resolves `undefined` on any network-level failure or timeout. */
export function probe(url: string, options: ProbeOptions = {}): Promise<ProbeResult | undefined> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(
      target,
      {
        method: options.method ?? "GET",
        timeout: options.timeoutMs ?? 5_000,
        ...(options.ca ? { ca: options.ca } : {}),
        headers: options.bearerToken ? { authorization: `Bearer ${options.bearerToken}` } : {},
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", () => resolve(undefined));
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
