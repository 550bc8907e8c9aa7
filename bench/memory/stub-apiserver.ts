/**
 * A loopback stand-in for the part of the Kubernetes API the controller uses, holding more Services
 * than a real apiserver can give LoadBalancer NodePorts to (2,768). It serves, over HTTPS:
 *
 * - `GET /api/v1/services` and `/api/v1/nodes`: the full list, then (`?watch=true`) a watch that only
 *   sends bookmarks, plus MODIFIED events for the stub's own writes;
 * - `GET`/`PATCH` of one Service and of its status (JSON merge patch; resourceVersion bumped);
 * - `POST`/`PATCH` of Events (echoed back with a name).
 *
 * It checks nothing: no authentication, no validation, no conflicts. The objects it serves are
 * supplied by the caller (clones of objects a real apiserver returned), and a write leaves a Service
 * looking as the real apiserver left it, so the controller's caches hold what they would hold against
 * a real one. Used only to measure the controller's memory.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { KubernetesObject } from "@kubernetes/client-node";
import { applyMergePatch } from "./merge-patch.ts";

export interface StubApiserverOptions {
  readonly services: readonly KubernetesObject[];
  readonly nodes: readonly KubernetesObject[];
  /**
   * `metadata.managedFields` a Service gets when the stub applies a write to it: what the real
   * apiserver recorded once the controller had written finalizer and status (so a converged clone
   * weighs what a converged real Service weighs). Default: left as they are.
   */
  readonly managedFieldsAfterWrite?: unknown;
  /** Serving certificate and key (PEM); clients must trust the certificate. */
  readonly cert: string;
  readonly key: string;
}

export interface StubApiserver {
  /** `https://127.0.0.1:<port>`. */
  readonly server: string;
  /** Requests served, by `METHOD kind` (e.g. `POST events`), to show what the controller did. */
  requests(): Record<string, number>;
  stop(): Promise<void>;
}

interface Collection {
  readonly listKind: string;
  readonly objects: Map<string, KubernetesObject>;
  readonly watchers: Set<ServerResponse>;
}

const BOOKMARK_INTERVAL_MS = 5_000;

export async function startStubApiserver(options: StubApiserverOptions): Promise<StubApiserver> {
  let resourceVersion = 1;
  const nextVersion = () => String(++resourceVersion);
  const index = (objects: readonly KubernetesObject[]) =>
    new Map(objects.map((object) => [`${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`, object]));
  const collections: Record<"services" | "nodes", Collection> = {
    services: { listKind: "ServiceList", objects: index(options.services), watchers: new Set() },
    nodes: { listKind: "NodeList", objects: index(options.nodes), watchers: new Set() },
  };
  const counts = new Map<string, number>();

  const send = (response: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    response.end(text);
  };
  const notFound = (response: ServerResponse, what: string) =>
    send(response, 404, {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      reason: "NotFound",
      code: 404,
      message: `${what} not found`,
    });

  const list = (response: ServerResponse, collection: Collection) => {
    send(response, 200, {
      kind: collection.listKind,
      apiVersion: "v1",
      metadata: { resourceVersion: String(resourceVersion) },
      items: [...collection.objects.values()],
    });
  };

  const watch = (response: ServerResponse, collection: Collection, kind: string) => {
    response.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    collection.watchers.add(response);
    // Bookmarks keep the client's 30 s idle timeout from closing the watch.
    const timer = setInterval(() => {
      response.write(
        `${JSON.stringify({ type: "BOOKMARK", object: { kind, apiVersion: "v1", metadata: { resourceVersion: String(resourceVersion) } } })}\n`,
      );
    }, BOOKMARK_INTERVAL_MS);
    response.on("close", () => {
      clearInterval(timer);
      collection.watchers.delete(response);
    });
  };

  const readBody = async (request: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString("utf8"));
  };

  const patchService = async (request: IncomingMessage, response: ServerResponse, key: string) => {
    const current = collections.services.objects.get(key);
    if (!current) return notFound(response, `service ${key}`);
    const patched = applyMergePatch(current, await readBody(request)) as KubernetesObject;
    patched.metadata = {
      ...patched.metadata,
      resourceVersion: nextVersion(),
      ...(options.managedFieldsAfterWrite === undefined
        ? {}
        : { managedFields: structuredClone(options.managedFieldsAfterWrite) as never }),
    };
    collections.services.objects.set(key, patched);
    const event = `${JSON.stringify({ type: "MODIFIED", object: patched })}\n`;
    for (const watcher of collections.services.watchers) watcher.write(event);
    send(response, 200, patched);
  };

  const events = new Map<string, unknown>();
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "https://stub");
    const method = request.method ?? "GET";
    const parts = url.pathname.split("/").filter(Boolean);
    const isWatch = url.searchParams.get("watch") === "true";
    // /api/v1/<collection> or /api/v1/namespaces/<ns>/<resource>[/<name>[/status]]
    const collectionName = parts.length === 3 ? parts[2] : parts[4];
    counts.set(
      `${method} ${collectionName}${isWatch ? " watch" : ""}`,
      (counts.get(`${method} ${collectionName}${isWatch ? " watch" : ""}`) ?? 0) + 1,
    );
    if (parts.length === 3 && (parts[2] === "services" || parts[2] === "nodes") && method === "GET") {
      const collection = collections[parts[2]];
      return isWatch
        ? watch(response, collection, parts[2] === "services" ? "Service" : "Node")
        : list(response, collection);
    }
    if (parts[2] === "namespaces" && parts[4] === "services" && parts[5]) {
      const key = `${parts[3]}/${parts[5]}`;
      if (method === "PATCH") return patchService(request, response, key);
      const found = collections.services.objects.get(key);
      return found ? send(response, 200, found) : notFound(response, `service ${key}`);
    }
    if (parts[2] === "namespaces" && parts[4] === "events") {
      const body = (await readBody(request)) as KubernetesObject;
      const name = parts[5] ?? `${body.metadata?.name ?? "event"}.${randomUUID().slice(0, 8)}`;
      const stored = applyMergePatch(events.get(name) ?? {}, body) as KubernetesObject;
      stored.metadata = { ...stored.metadata, name, namespace: parts[3] ?? "", resourceVersion: nextVersion() };
      events.set(name, stored);
      return send(response, method === "POST" ? 201 : 200, stored);
    }
    notFound(response, `${method} ${url.pathname}`);
  };

  const server: Server = createServer({ cert: options.cert, key: options.key }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { kind: "Status", code: 500, message: String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // A controller starting over thousands of Services opens a connection per Event it writes.
    server.listen({ port: 0, host: "127.0.0.1", backlog: 8192 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server: `https://127.0.0.1:${port}`,
    requests: () => Object.fromEntries(counts),
    stop: async () => {
      for (const collection of Object.values(collections)) for (const watcher of collection.watchers) watcher.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
