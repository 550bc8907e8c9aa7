/**
 * The controller's own Kubernetes API client: JSON over one keep-alive connection pool per apiserver,
 * with the few verbs it uses (get, list in pages, watch, create, replace, patch).
 *
 * Why not `@kubernetes/client-node` for this: loading it costs a process about 90 MiB and half a
 * second of CPU before the first request (it brings every generated model), every response goes
 * through its model serializer, and its requests go through undici's fetch. For two list/watches and
 * a handful of writes that was most of the controller's memory and much of its CPU per Service
 * (docs/benchmarks.md). Objects here are the API server's JSON as parsed: timestamps stay strings,
 * as the server wrote them. The client library is still loaded, lazily, for the one thing this does
 * not do itself: credentials from an `exec` plugin or an `auth-provider` (see `./credentials.ts`).
 *
 * @module
 */
import type { Agent, IncomingMessage } from "node:http";
import { VERSION } from "../version.ts";
import type { ClusterAccess } from "./config.ts";
import { type Credentials, credentialsFor } from "./credentials.ts";

/**
 * Connections per apiserver. Each watch holds one for its lifetime (HTTP/1.1); writes take a few
 * milliseconds each, so the rest serve dozens of workers. Requests beyond the limit wait for a free one.
 */
export const MAX_CONNECTIONS = 8;

/**
 * Sent with every request, shaped as client-go's (`name/version (os/arch) runtime`). The API server
 * names the field manager of each write after the part before the first slash, so the finalizer, the
 * status and the Lease show `lb-provisioner` in `managedFields` (without it: `unknown`), and audit
 * logs and API priority-and-fairness rules can tell this controller's requests apart.
 */
export const USER_AGENT = `lb-provisioner/${VERSION} (${process.platform}/${process.arch}) node/${process.version}`;

/** How long a request other than a watch may take before it fails. */
const REQUEST_TIMEOUT_MS = 60_000;

/*
 * `node:http` and `node:https` are taken with `process.getBuiltinModule`, not imported: an ES module
 * import of `node:http` reads every export, and one of them (`WebSocket`) loads Node's bundled undici,
 * which costs the process about 10 MiB and 25 ms of CPU at start for nothing it uses.
 */
const http = process.getBuiltinModule("node:http");
const https = process.getBuiltinModule("node:https");

/** A failed API call: the HTTP status and the API server's `Status` object, when it sent one. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  /** The HTTP status. `api-errors.ts` classifies failures by it. */
  readonly code: number;
  /** The response body: the server's `Status` object, or its text when that is not JSON. */
  readonly body: unknown;

  constructor(method: string, path: string, code: number, body: unknown) {
    const message = (body as { message?: unknown } | null)?.message;
    super(`${method} ${path}: HTTP ${code}${typeof message === "string" ? `: ${message}` : ""}`);
    this.code = code;
    this.body = body;
  }
}

/** How a patch body is to be applied (its Content-Type). */
export type PatchType = "merge" | "strategic-merge" | "json";

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  "strategic-merge": "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
};

/** Query parameters; `undefined` values are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** A list response: the objects and the list's metadata. */
export interface ObjectList<T> {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items: T[];
}

/** One event of a watch, as the API server sends it. */
export interface WatchEvent<T> {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: T;
}

export interface WatchHandlers<T> {
  readonly onOpen?: () => void;
  readonly onEvent: (event: WatchEvent<T>) => void;
}

export interface RequestOptions {
  readonly query?: Query;
  readonly signal?: AbortSignal;
}

/** `path?query` with each value encoded. */
export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? path : `${path}?${parts.join("&")}`;
}

/** The path of a namespaced object, its name and namespace encoded: `/api/v1/namespaces/ns/services/x`. */
export function namespacedPath(apiBase: string, resource: string, namespace: string, name?: string): string {
  const base = `${apiBase}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The verbs the controller and its commands use. Paths are API paths (`/api/v1/...`); bodies and
 * results are the API server's JSON. Every call rejects with a {@link KubeApiError} carrying the HTTP
 * status when the server refuses it, and with the network error when it cannot be reached.
 */
export interface KubeApi {
  /** Reads an object, or one page of a collection (`query: { limit, continue }`). */
  get<T>(path: string, options?: RequestOptions): Promise<T>;
  /** Creates the object in the collection at `path`; resolves it as stored (409 when it exists). */
  create<T>(path: string, body: unknown, options?: RequestOptions): Promise<T>;
  /** Replaces the object at `path`; 409 when `body`'s resourceVersion is not the current one. */
  replace<T>(path: string, body: unknown, options?: RequestOptions): Promise<T>;
  /** Patches the object at `path` (a subresource such as `/status` included); resolves it as stored. */
  patch<T>(path: string, body: unknown, type: PatchType, options?: RequestOptions): Promise<T>;
  /**
   * Watches the collection at `path`: `onOpen` once the server accepted the watch, then `onEvent` for
   * each event, in order, as it arrives. Resolves when the server ends the watch (its
   * `timeoutSeconds`) or `signal` aborts; rejects when the server refuses it, when the connection
   * fails mid-watch, and with what `onEvent` throws (which ends the watch).
   */
  watch<T>(path: string, query: Query, handlers: WatchHandlers<T>, signal: AbortSignal): Promise<void>;
}

export class KubeApiClient implements KubeApi {
  readonly #server: URL;
  readonly #agent: Agent;
  readonly #credentials: Credentials;

  constructor(access: ClusterAccess) {
    const cluster = access.getCurrentCluster();
    if (!cluster?.server) throw new Error("the Kubernetes configuration names no cluster server");
    this.#server = new URL(cluster.server);
    this.#credentials = credentialsFor(access);
    const pool = {
      keepAlive: true,
      // As client-go: probe idle connections, so a dead apiserver is noticed by the keep-alive.
      keepAliveMsecs: 30_000,
      maxSockets: MAX_CONNECTIONS,
    };
    this.#agent =
      this.#server.protocol === "http:" ? new http.Agent(pool) : new https.Agent({ ...pool, ...this.#credentials.tls });
    // The agent serves one server with one identity, so every request may use any of its connections.
    // Its own `getName` would fingerprint the CA, certificate and key on every request to decide that.
    this.#agent.getName = () => "apiserver";
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.#json<T>("GET", path, undefined, undefined, options);
  }

  create<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#json<T>("POST", path, body, "application/json", options);
  }

  replace<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#json<T>("PUT", path, body, "application/json", options);
  }

  patch<T>(path: string, body: unknown, type: PatchType, options: RequestOptions = {}): Promise<T> {
    return this.#json<T>("PATCH", path, body, PATCH_CONTENT_TYPE[type], options);
  }

  async watch<T>(path: string, query: Query, handlers: WatchHandlers<T>, signal: AbortSignal): Promise<void> {
    const target = withQuery(path, { ...query, watch: true });
    let response: IncomingMessage;
    try {
      response = await this.#send("GET", target, undefined, undefined, { signal }, false);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    if (response.statusCode !== 200) {
      const text = await readText(response).catch((error: unknown) => {
        if (signal.aborted) return "";
        throw error;
      });
      if (signal.aborted) return;
      throw new KubeApiError("GET", path, response.statusCode ?? 0, parseBody(text));
    }
    handlers.onOpen?.();
    const onEvent = handlers.onEvent;
    await new Promise<void>((resolve, reject) => {
      let pending = "";
      let failure: unknown;
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        pending += chunk;
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line.trim() !== "") {
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch (error) {
              failure = error;
              response.destroy();
              return;
            }
          }
          newline = pending.indexOf("\n");
        }
      });
      response.on("error", () => undefined); // the outcome is decided on close
      // A watch the server ended is complete; one cut off (the server died, the network failed) is not.
      response.on("close", () => {
        if (failure !== undefined) reject(failure);
        else if (response.complete || signal.aborted) resolve();
        else reject(new Error(`watch ${path}: connection lost`));
      });
    });
  }

  /** Closes idle connections. In-flight requests and watches are not affected; abort them first. */
  close(): void {
    this.#agent.destroy();
  }

  async #json<T>(
    method: string,
    path: string,
    body: unknown,
    contentType: string | undefined,
    options: RequestOptions,
  ): Promise<T> {
    const target = withQuery(path, options.query);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const response = await this.#send(method, target, payload, contentType, options, true);
    const parsed = parseBody(await readText(response));
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw new KubeApiError(method, path, status, parsed);
    return parsed as T;
  }

  async #send(
    method: string,
    target: string,
    payload: string | undefined,
    contentType: string | undefined,
    options: RequestOptions,
    timed: boolean,
    firstTry = true,
  ): Promise<IncomingMessage> {
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": USER_AGENT };
    const authorization = await this.#credentials.authorization();
    if (authorization) headers.Authorization = authorization;
    if (payload !== undefined) {
      headers["Content-Type"] = contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const send = this.#server.protocol === "http:" ? http.request : https.request;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(
        {
          protocol: this.#server.protocol,
          hostname: this.#server.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: this.#server.port || (this.#server.protocol === "http:" ? 80 : 443),
          method,
          path: `${this.#server.pathname.replace(/\/$/, "")}${target}`,
          headers,
          agent: this.#agent,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(timed ? { timeout: REQUEST_TIMEOUT_MS } : {}),
        },
        resolve,
      );
      request.on("error", (error: NodeJS.ErrnoException) => {
        // A pooled connection the server closed while it sat idle fails the next request sent on it
        // before the server read any of it (unlike Go's, Node's client does not retry that itself):
        // send it once more, on a fresh connection.
        if (firstTry && request.reusedSocket && error.code === "ECONNRESET" && !options.signal?.aborted) {
          resolve(this.#send(method, target, payload, contentType, options, timed, false));
        } else {
          reject(error);
        }
      });
      request.on("timeout", () =>
        request.destroy(new Error(`${method} ${target}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      request.end(payload);
    });
  }
}

function readText(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", reject);
    response.on("close", () => {
      if (!response.complete) reject(new Error("the connection closed before the response was complete"));
    });
  });
}

const clients = new WeakMap<ClusterAccess, KubeApiClient>();

/**
 * The client of `access`, made once: the controller, its Events and the Lease share one connection
 * pool, however many parts ask for it.
 */
export function apiClientFor(access: ClusterAccess): KubeApiClient {
  let client = clients.get(access);
  if (!client) {
    client = new KubeApiClient(access);
    clients.set(access, client);
  }
  return client;
}
