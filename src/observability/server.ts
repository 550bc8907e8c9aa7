/**
 * The observability HTTP endpoints on `node:http`: `/metrics` (Prometheus text format from the
 * process's own registry) and `/healthz` `/readyz` (see `health.ts`). Metrics and probes get separate
 * listeners, as `--metrics-bind-address` and `--health-probe-bind-address` ask; when both name the same
 * address they share one listener.
 *
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { BindAddress } from "../config/index.ts";
import { liveness, type ProbeAnswer, type ProbeState, readiness } from "./health.ts";

type Route = (request: IncomingMessage) => Promise<{ status: number; contentType: string; body: string }>;

function probe(answer: () => ProbeAnswer): Route {
  return async () => ({ ...answer(), contentType: "text/plain; charset=utf-8" });
}

function metricsRoute(registry: Registry): Route {
  return async () => ({ status: 200, contentType: registry.contentType, body: await registry.metrics() });
}

function handler(routes: ReadonlyMap<string, Route>) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const route = routes.get(path);
    const reply = (status: number, contentType: string, body: string): void => {
      response.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
      response.end(request.method === "HEAD" ? undefined : body);
    };
    if (!route) {
      reply(404, "text/plain; charset=utf-8", "not found\n");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      reply(405, "text/plain; charset=utf-8", "method not allowed\n");
      return;
    }
    route(request).then(
      ({ status, contentType, body }) => reply(status, contentType, body.endsWith("\n") ? body : `${body}\n`),
      (error: unknown) => reply(500, "text/plain; charset=utf-8", `${String(error)}\n`),
    );
  };
}

/** A listener, with the address it actually bound (port 0 picks a free one). */
export interface Endpoint {
  readonly paths: readonly string[];
  readonly address: AddressInfo;
  /** `http://host:port` reachable from this machine (wildcard hosts become loopback). */
  readonly url: string;
}

export interface ObservabilityServers {
  readonly endpoints: readonly Endpoint[];
  /** Stops accepting connections and closes idle ones; resolves when every listener has closed. */
  close(): Promise<void>;
}

export interface ObservabilityServerOptions {
  /** Undefined disables `/metrics`. */
  readonly metricsBindAddress?: BindAddress;
  /** Undefined disables the probes. */
  readonly healthProbeBindAddress?: BindAddress;
  readonly registry: Registry;
  readonly probes: ProbeState;
}

function sameAddress(a: BindAddress, b: BindAddress): boolean {
  return a.port === b.port && a.port !== 0 && (a.host ?? "") === (b.host ?? "");
}

/** What a listener serves, so a bind failure can name the setting at fault. */
export type EndpointPurpose = "metrics" | "probes" | "metrics+probes";

/** A listener could not bind (address in use, not local, no permission). */
export class ListenError extends Error {
  override readonly name = "ListenError";
  readonly purpose: EndpointPurpose;
  /** The address as configured, e.g. `:8080`. */
  readonly address: string;
  /** The system's reason, e.g. `EADDRINUSE`. */
  readonly reason: string;
  constructor(purpose: EndpointPurpose, bind: BindAddress, cause: unknown) {
    const address = `${bind.host?.includes(":") ? `[${bind.host}]` : (bind.host ?? "")}:${bind.port}`;
    const reason = (cause as { code?: string }).code ?? (cause instanceof Error ? cause.message : String(cause));
    super(`cannot listen on ${address} for ${purpose}: ${reason}`, { cause });
    this.purpose = purpose;
    this.address = address;
    this.reason = reason;
  }
}

function listen(purpose: EndpointPurpose, bind: BindAddress, routes: ReadonlyMap<string, Route>): Promise<Server> {
  // Not `import { createServer } from "node:http"`: see `src/kube/api-client.ts` for why.
  const server = process.getBuiltinModule("node:http").createServer(handler(routes));
  // A scrape or probe never needs a long-lived connection; keep shutdown from waiting on idle ones.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once("error", (error) => reject(new ListenError(purpose, bind, error)));
    server.listen({ port: bind.port, ...(bind.host === undefined ? {} : { host: bind.host }) }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function urlOf(address: AddressInfo): string {
  const wildcard = address.address === "::" || address.address === "0.0.0.0";
  const host = wildcard ? "127.0.0.1" : address.address;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** Starts the listeners the options ask for. Rejects (closing any already started) if one cannot bind. */
export async function startObservabilityServers(options: ObservabilityServerOptions): Promise<ObservabilityServers> {
  const metrics: [string, Route] = ["/metrics", metricsRoute(options.registry)];
  const probes: [string, Route][] = [
    ["/healthz", probe(liveness)],
    ["/readyz", probe(() => readiness(options.probes))],
  ];
  const plans: { purpose: EndpointPurpose; bind: BindAddress; routes: [string, Route][] }[] = [];
  const { metricsBindAddress, healthProbeBindAddress } = options;
  if (metricsBindAddress && healthProbeBindAddress && sameAddress(metricsBindAddress, healthProbeBindAddress)) {
    plans.push({ purpose: "metrics+probes", bind: metricsBindAddress, routes: [metrics, ...probes] });
  } else {
    if (metricsBindAddress) plans.push({ purpose: "metrics", bind: metricsBindAddress, routes: [metrics] });
    if (healthProbeBindAddress) plans.push({ purpose: "probes", bind: healthProbeBindAddress, routes: probes });
  }

  const servers: Server[] = [];
  const endpoints: Endpoint[] = [];
  try {
    for (const plan of plans) {
      const server = await listen(plan.purpose, plan.bind, new Map(plan.routes));
      servers.push(server);
      const address = server.address() as AddressInfo;
      endpoints.push({ paths: plan.routes.map(([path]) => path), address, url: urlOf(address) });
    }
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  return {
    endpoints,
    close: async () => {
      await Promise.all(servers.map(closeServer));
    },
  };
}
