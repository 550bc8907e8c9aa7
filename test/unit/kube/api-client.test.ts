/**
 * KubeApiClient against a stand-in API server on a real loopback socket: what goes on the wire for
 * each verb, how refusals and broken watches surface, and that requests share pooled connections.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  apiClientFor,
  KubeApiClient,
  KubeApiError,
  MAX_CONNECTIONS,
  namespacedPath,
  type PatchType,
  USER_AGENT,
  type WatchEvent,
} from "../../../src/kube/api-client.ts";
import { loadKubeConfig } from "../../../src/kube/config.ts";
import { waitFor } from "../../harness/wait.ts";
import {
  accessTo,
  type Handler,
  jsonBody,
  type LoopbackServer,
  sendJson,
  startLoopbackServer,
  status,
} from "./loopback-server.ts";

/** What the echo server received; `null` where the request had none (JSON has no `undefined`). */
interface Seen {
  readonly method: string | null;
  readonly url: string | null;
  readonly contentType: string | null;
  readonly authorization: string | null;
  readonly userAgent: string | null;
  readonly body: unknown;
}

let server: LoopbackServer | undefined;
let client: KubeApiClient | undefined;
const cleanups: Array<() => void> = [];

afterEach(async () => {
  client?.close();
  client = undefined;
  await server?.close();
  server = undefined;
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A client connected to a fresh loopback server that answers with `handle`. */
async function connect(handle: Handler): Promise<{ server: LoopbackServer; client: KubeApiClient }> {
  server = await startLoopbackServer(handle);
  client = new KubeApiClient(accessTo(server.url));
  return { server, client };
}

/** A server that answers every request with what it received, as JSON. */
function echo(request: IncomingMessage, response: ServerResponse): void {
  void jsonBody(request).then((body) => {
    const seen: Seen = {
      method: request.method ?? null,
      url: request.url ?? null,
      contentType: request.headers["content-type"] ?? null,
      authorization: request.headers.authorization ?? null,
      userAgent: request.headers["user-agent"] ?? null,
      body: body ?? null,
    };
    sendJson(response, 200, seen);
  });
}

const services = namespacedPath("/api/v1", "services", "default");

describe("KubeApiClient requests", () => {
  it("GETs the path with each query value encoded and undefined ones left out", async () => {
    const { client } = await connect(echo);
    const seen = await client.get<Seen>(services, {
      query: { labelSelector: "app in (a,b)", limit: 5, continue: undefined, watch: false },
    });
    expect(seen).toMatchObject({ method: "GET", body: null, contentType: null, authorization: null });
    expect(seen.url).toBe("/api/v1/namespaces/default/services?labelSelector=app%20in%20(a%2Cb)&limit=5&watch=false");
  });

  it("encodes the namespace and name in an object's path", () => {
    expect(namespacedPath("/api/v1", "services", "a b", "x/y")).toBe("/api/v1/namespaces/a%20b/services/x%2Fy");
  });

  it("POSTs a create and PUTs a replace as JSON, resolving the server's JSON", async () => {
    const { client } = await connect(echo);
    const service = { metadata: { name: "web", resourceVersion: "7" }, spec: { type: "LoadBalancer" } };
    await expect(client.create<Seen>(services, service)).resolves.toEqual({
      method: "POST",
      url: services,
      contentType: "application/json",
      authorization: null,
      userAgent: USER_AGENT,
      body: service,
    });
    await expect(client.replace<Seen>(`${services}/web`, service)).resolves.toMatchObject({
      method: "PUT",
      url: `${services}/web`,
      contentType: "application/json",
      body: service,
    });
  });

  it.each<[PatchType, string]>([
    ["merge", "application/merge-patch+json"],
    ["strategic-merge", "application/strategic-merge-patch+json"],
    ["json", "application/json-patch+json"],
  ])("PATCHes a %s patch with Content-Type %s", async (type, contentType) => {
    const { client } = await connect(echo);
    const patch = type === "json" ? [{ op: "remove", path: "/metadata/finalizers/0" }] : { status: {} };
    await expect(
      client.patch<Seen>(`${services}/web/status`, patch, type, { query: { fieldManager: "lb-provisioner" } }),
    ).resolves.toMatchObject({
      method: "PATCH",
      url: `${services}/web/status?fieldManager=lb-provisioner`,
      contentType,
      body: patch,
    });
  });

  it("names itself in User-Agent as client-go does, so the API server names its writes' field manager lb-provisioner", async () => {
    const { client } = await connect(echo);
    expect(USER_AGENT).toMatch(/^lb-provisioner\/\d+\.\d+\.\d+\S* \((linux|darwin|win32)\/\w+\) node\/v\d+/);
    await expect(client.patch<Seen>(`${services}/web`, {}, "merge")).resolves.toMatchObject({ userAgent: USER_AGENT });
    await expect(client.get<Seen>(services)).resolves.toMatchObject({ userAgent: USER_AGENT });
  });

  it("sends requests under the path of a server URL that has one", async () => {
    server = await startLoopbackServer(echo);
    client = new KubeApiClient(accessTo(`${server.url}/k8s/clusters/c-1/`));
    await expect(client.get<Seen>("/api/v1/nodes")).resolves.toMatchObject({ url: "/k8s/clusters/c-1/api/v1/nodes" });
  });

  it("sends the kubeconfig user's token as a bearer Authorization header", async () => {
    server = await startLoopbackServer(echo);
    const dir = mkdtempSync(join(tmpdir(), "lbp-api-client-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "config");
    writeFileSync(
      file,
      [
        "current-context: loopback",
        `clusters: [{name: c, cluster: {server: "${server.url}"}}]`,
        "users: [{name: u, user: {token: abc.def}}]",
        "contexts: [{name: loopback, context: {cluster: c, user: u}}]",
      ].join("\n"),
    );
    client = new KubeApiClient(loadKubeConfig({ kubeconfig: file, env: {} }));
    await expect(client.get<Seen>("/api/v1/nodes")).resolves.toMatchObject({ authorization: "Bearer abc.def" });
  });

  it("signs requests with the token an exec credential plugin prints (through the client library, loaded for it)", async () => {
    server = await startLoopbackServer(echo);
    const dir = mkdtempSync(join(tmpdir(), "lbp-api-client-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const credential = {
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: "from-the-plugin" },
    };
    const exec = {
      apiVersion: "client.authentication.k8s.io/v1",
      command: process.execPath,
      args: ["-e", `console.log(${JSON.stringify(JSON.stringify(credential))})`],
      interactiveMode: "Never",
    };
    const file = join(dir, "config");
    writeFileSync(
      file,
      JSON.stringify({
        "current-context": "loopback",
        clusters: [{ name: "c", cluster: { server: server.url } }],
        users: [{ name: "u", user: { exec } }],
        contexts: [{ name: "loopback", context: { cluster: "c", user: "u" } }],
      }),
    );
    client = new KubeApiClient(loadKubeConfig({ kubeconfig: file, env: {} }));
    await expect(client.get<Seen>("/api/v1/nodes")).resolves.toMatchObject({
      authorization: "Bearer from-the-plugin",
    });
  });

  it.each([
    [404, "NotFound", 'services "web" not found'],
    [409, "AlreadyExists", 'services "web" already exists'],
  ])(
    "rejects an HTTP %i with a KubeApiError carrying the status and the server's Status",
    async (code, reason, message) => {
      const refusal = status(code, reason, message);
      const { client } = await connect((_request, response) => sendJson(response, code, refusal));
      const error = await client.create(services, { metadata: { name: "web" } }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KubeApiError);
      expect(error).toMatchObject({ code, body: refusal, message: `POST ${services}: HTTP ${code}: ${message}` });
    },
  );

  it("keeps a refusal's body as text when it is not JSON", async () => {
    const { client } = await connect((_request, response) => {
      response.writeHead(503, { "Content-Type": "text/plain" });
      response.end("upstream connect error");
    });
    await expect(client.get("/api/v1/nodes")).rejects.toMatchObject({
      code: 503,
      body: "upstream connect error",
      message: "GET /api/v1/nodes: HTTP 503",
    });
  });

  it("rejects with the network error when nothing listens", async () => {
    const { server, client } = await connect(echo);
    await server.close();
    await expect(client.get("/api/v1/nodes")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("is made once per cluster access, so every part shares one pool", async () => {
    server = await startLoopbackServer(echo);
    const access = accessTo(server.url);
    client = apiClientFor(access);
    expect(apiClientFor(access)).toBe(client);
    expect(apiClientFor(accessTo(server.url))).not.toBe(client);
  });
});

describe("KubeApiClient connections", () => {
  it("sends 20 sequential requests over one kept-alive connection", async () => {
    const { server, client } = await connect(echo);
    for (let i = 0; i < 20; i++) await client.get(`/api/v1/namespaces/ns-${i}`);
    expect(server.connections()).toBe(1);
  });

  it("sends a request again on a fresh connection when the pooled one it took was closed by the server", async () => {
    // The server cuts a connection at its second request, before answering: what a server that closed
    // the connection while idle looks like to the request that picked it from the pool.
    const served = new WeakMap<object, number>();
    const { server, client } = await connect((request, response) => {
      const count = (served.get(request.socket) ?? 0) + 1;
      served.set(request.socket, count);
      if (count === 2) request.socket.destroy();
      else echo(request, response);
    });
    await client.get("/api/v1/namespaces/first");
    await expect(client.patch("/api/v1/namespaces/second", { a: 1 }, "merge")).resolves.toMatchObject({
      method: "PATCH",
      url: "/api/v1/namespaces/second",
    });
    expect(server.connections()).toBe(2);
  });

  it("does not send again a request whose fresh connection failed", async () => {
    const { server, client } = await connect((request) => request.socket.destroy());
    await expect(client.get("/api/v1/namespaces/x")).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(server.connections()).toBe(1);
  });

  it(`opens no more than ${MAX_CONNECTIONS} connections for 20 requests at once`, async () => {
    const held: ServerResponse[] = [];
    const { server, client } = await connect((_request, response) => held.push(response));
    const requests = Array.from({ length: 20 }, (_, i) => client.get(`/api/v1/namespaces/ns-${i}`));
    // The pool is full when MAX_CONNECTIONS requests are held; answering lets the queued ones through.
    await waitFor(() => held.length === MAX_CONNECTIONS, { description: "the pool to fill", intervalMs: 5 });
    let answered = 0;
    while (answered < requests.length) {
      await waitFor(() => held.length > 0, { description: "the next queued request", intervalMs: 5 });
      for (const response of held.splice(0)) {
        sendJson(response, 200, {});
        answered++;
      }
    }
    await Promise.all(requests);
    expect(server.connections()).toBe(MAX_CONNECTIONS);
  });
});

type Named = { metadata: { name: string; resourceVersion: string } };

function event(type: WatchEvent<Named>["type"], name: string, resourceVersion: string): string {
  return `${JSON.stringify({ type, object: { metadata: { name, resourceVersion } } })}\n`;
}

/** A server that starts a 200 watch stream for each request and hands it to the test. */
async function connectWatch(): Promise<{
  client: KubeApiClient;
  server: LoopbackServer;
  nextWatch: () => Promise<{ request: IncomingMessage; response: ServerResponse }>;
}> {
  const opened: Array<{ request: IncomingMessage; response: ServerResponse }> = [];
  const connected = await connect((request, response) => {
    response.writeHead(200, { "Content-Type": "application/json" });
    response.flushHeaders();
    opened.push({ request, response });
  });
  const nextWatch = async () => {
    await waitFor(() => opened.length > 0, { description: "the client to open a watch", intervalMs: 5 });
    const next = opened.shift();
    if (!next) throw new Error("no watch opened");
    return next;
  };
  return { ...connected, nextWatch };
}

describe("KubeApiClient.watch", () => {
  it("calls onOpen first, then each event in order, whether split across chunks or several in one", async () => {
    const { client, nextWatch } = await connectWatch();
    const calls: string[] = [];
    const firstDelivered = Promise.withResolvers<void>();
    const done = client.watch<Named>(
      services,
      { resourceVersion: "5" },
      {
        onOpen: () => calls.push("open"),
        onEvent: ({ type, object }) => {
          calls.push(`${type} ${object.metadata.name} ${object.metadata.resourceVersion}`);
          firstDelivered.resolve();
        },
      },
      new AbortController().signal,
    );
    const { request, response } = await nextWatch();
    expect(request.url).toBe(`${services}?resourceVersion=5&watch=true`);
    // The second event's line is cut inside the two bytes of "ü", and its rest is sent only after the
    // client has handled the first event: the line spans two reads for certain.
    const split = Buffer.from(event("ADDED", "grün", "6"));
    const cut = split.indexOf(Buffer.from("ü")) + 1;
    response.write(Buffer.concat([Buffer.from(event("ADDED", "a", "5")), split.subarray(0, cut)]));
    await firstDelivered.promise;
    response.write(
      Buffer.concat([split.subarray(cut), Buffer.from(event("MODIFIED", "a", "7") + event("DELETED", "b", "8"))]),
    );
    response.end();
    await expect(done).resolves.toBeUndefined();
    expect(calls).toEqual(["open", "ADDED a 5", "ADDED grün 6", "MODIFIED a 7", "DELETED b 8"]);
  });

  it("rejects when the connection is cut mid-watch", async () => {
    const { client, nextWatch } = await connectWatch();
    const delivered = Promise.withResolvers<void>();
    const done = client.watch<Named>(
      services,
      {},
      { onEvent: () => delivered.resolve() },
      new AbortController().signal,
    );
    const { response } = await nextWatch();
    response.write(event("ADDED", "a", "5"));
    await delivered.promise;
    response.socket?.destroy();
    await expect(done).rejects.toThrow(`watch ${services}: connection lost`);
  });

  it("rejects with a KubeApiError, without calling onOpen, when the server refuses the watch", async () => {
    const refusal = status(403, "Forbidden", 'services is forbidden: User "x" cannot watch resource "services"');
    const { client } = await connect((_request, response) => sendJson(response, 403, refusal));
    let opened = false;
    const error = await client
      .watch(services, {}, { onOpen: () => (opened = true), onEvent: () => undefined }, new AbortController().signal)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ code: 403, body: refusal });
    expect(opened).toBe(false);
  });

  it("resolves, and closes the connection, when its signal aborts", async () => {
    const { client, nextWatch } = await connectWatch();
    const abort = new AbortController();
    const done = client.watch(services, {}, { onEvent: () => undefined }, abort.signal);
    const { request } = await nextWatch();
    const closed = new Promise<void>((resolve) => request.socket.once("close", () => resolve()));
    abort.abort();
    await expect(done).resolves.toBeUndefined();
    await closed;
  });

  it("resolves without a request when its signal has already aborted", async () => {
    const { server, client } = await connectWatch();
    await expect(
      client.watch(services, {}, { onEvent: () => undefined }, AbortSignal.abort()),
    ).resolves.toBeUndefined();
    expect(server.connections()).toBe(0);
  });

  it("ends the watch and rejects with what onEvent throws", async () => {
    const { client, nextWatch } = await connectWatch();
    const failure = new Error("handler failed");
    const done = client.watch(
      services,
      {},
      {
        onEvent: () => {
          throw failure;
        },
      },
      new AbortController().signal,
    );
    const { response } = await nextWatch();
    response.write(event("ADDED", "a", "5"));
    await expect(done).rejects.toBe(failure);
  });
});
