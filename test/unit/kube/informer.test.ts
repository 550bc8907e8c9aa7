/**
 * ResilientInformer over the real client against a small stand-in API server on a loopback socket:
 * it serves the collection in pages (`continue`) and lets each test script what each watch says.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { KubeApiClient } from "../../../src/kube/api-client.ts";
import { ResilientInformer } from "../../../src/kube/informer.ts";
import { waitFor } from "../../harness/wait.ts";
import { accessTo, type LoopbackServer, sendJson, startLoopbackServer, status } from "./loopback-server.ts";

interface Service {
  metadata: { name: string; namespace: string; resourceVersion: string };
}

const PATH = "/api/v1/services";

function service(name: string, resourceVersion: string): Service {
  return { metadata: { name, namespace: "default", resourceVersion } };
}

/** One watch event as a line of the stream. */
function line(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

function openStream(response: ServerResponse): void {
  response.writeHead(200, { "Content-Type": "application/json" });
  response.flushHeaders();
}

/** What a watch does; without one a watch opens and stays quiet until the client leaves. */
type WatchScript = (response: ServerResponse) => void;

interface FakeApiServer {
  /** Whether list requests are left unanswered, as by an API server that hangs. */
  holdLists: boolean;
  /** The sockets of the list requests, in order. */
  readonly listRequests: IncomingMessage[];
  /** The collection as a list shows it, by name. */
  readonly objects: Map<string, Service>;
  /** The resourceVersion lists report. */
  listResourceVersion: string;
  /** The query of each list page request and each watch request, in order. */
  readonly lists: URLSearchParams[];
  readonly watches: URLSearchParams[];
  /** The sockets of the watches, in order. */
  readonly watchRequests: IncomingMessage[];
  /** Played by the watches in order, one each. */
  readonly watchScripts: WatchScript[];
}

const PAGE_SIZE = 2;

let server: LoopbackServer | undefined;
let client: KubeApiClient | undefined;
let informer: ResilientInformer<Service> | undefined;

afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  client?.close();
  client = undefined;
  await server?.close();
  server = undefined;
});

async function startFakeApiServer(initial: Service[]): Promise<FakeApiServer> {
  const fake: FakeApiServer = {
    holdLists: false,
    listRequests: [],
    objects: new Map(initial.map((object) => [object.metadata.name, object])),
    listResourceVersion: "10",
    lists: [],
    watches: [],
    watchRequests: [],
    watchScripts: [],
  };
  server = await startLoopbackServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://fake");
    if (url.pathname !== PATH) return sendJson(response, 404, status(404, "NotFound", `${url.pathname} not served`));
    if (url.searchParams.get("watch") === "true") {
      fake.watches.push(url.searchParams);
      fake.watchRequests.push(request);
      (fake.watchScripts.shift() ?? openStream)(response);
      return;
    }
    fake.lists.push(url.searchParams);
    fake.listRequests.push(request);
    if (fake.holdLists) return;
    // Fewer objects a page than the client's limit asks, so that a handful of objects spans pages.
    const from = Number(url.searchParams.get("continue") ?? 0);
    const all = [...fake.objects.values()];
    const to = from + PAGE_SIZE;
    sendJson(response, 200, {
      kind: "ServiceList",
      metadata: { resourceVersion: fake.listResourceVersion, ...(to < all.length ? { continue: String(to) } : {}) },
      items: all.slice(from, to),
    });
  });
  return fake;
}

interface Started {
  readonly informer: ResilientInformer<Service>;
  /** What the handlers were told, as "add default/a 1", "update default/a 1->2", "delete default/b". */
  readonly calls: string[];
  /** Log lines at warn level or above. */
  readonly failures: () => Array<{ msg: string; err?: string }>;
}

function startInformer(now?: () => number): Started {
  if (!server) throw new Error("start the fake API server first");
  client = new KubeApiClient(accessTo(server.url));
  const lines: Array<{ level: number; msg: string; err?: string }> = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  informer = new ResilientInformer<Service>({
    name: "services",
    api: client,
    path: PATH,
    logger: pino({ level: "debug" }, logStream),
    restartBaseMs: 1,
    restartMaxMs: 1,
    ...(now ? { now } : {}),
  });
  const calls: string[] = [];
  const key = (object: Service) => `${object.metadata.namespace}/${object.metadata.name}`;
  informer.addHandlers({
    onAdd: (object) => calls.push(`add ${key(object)} ${object.metadata.resourceVersion}`),
    onUpdate: (previous, current) =>
      calls.push(`update ${key(current)} ${previous.metadata.resourceVersion}->${current.metadata.resourceVersion}`),
    onDelete: (object) => calls.push(`delete ${key(object)}`),
  });
  informer.start();
  return { informer, calls, failures: () => lines.filter((entry) => entry.level >= 40) };
}

/** Waits until the fake has seen `count` watch requests; resolves the last one's query. */
async function watchNumber(fake: FakeApiServer, count: number): Promise<URLSearchParams> {
  return await waitFor(() => fake.watches.length >= count && fake.watches[count - 1], {
    description: `watch number ${count}`,
    timeoutMs: 5_000,
    intervalMs: 5,
  });
}

/** How many full lists the informer has started (a list's later pages carry a continue token). */
const listsStarted = (fake: FakeApiServer) => fake.lists.filter((query) => !query.has("continue")).length;

const names = (informer: ResilientInformer<Service>) =>
  [...informer.list()].map((object) => `${object.metadata.name}@${object.metadata.resourceVersion}`).sort();

describe("ResilientInformer", () => {
  it("lists the collection page by page, reports synced, then watches from the list's resourceVersion", async () => {
    const fake = await startFakeApiServer(["a", "b", "c", "d", "e"].map((name) => service(name, "1")));
    const { informer, calls } = startInformer();
    await expect(informer.waitForSync()).resolves.toBe(true);
    expect(fake.lists.map((query) => [query.get("limit"), query.get("continue")])).toEqual([
      ["500", null],
      ["500", "2"],
      ["500", "4"],
    ]);
    expect(names(informer)).toEqual(["a@1", "b@1", "c@1", "d@1", "e@1"]);
    expect(calls).toEqual(["a", "b", "c", "d", "e"].map((name) => `add default/${name} 1`));
    const watch = await watchNumber(fake, 1);
    expect([watch.get("resourceVersion"), watch.get("allowWatchBookmarks")]).toEqual(["10", "true"]);
    expect(informer.isConnected()).toBe(true);
  });

  it.each<[string, WatchScript]>([
    [
      "an ERROR event with code 410",
      (response) => {
        openStream(response);
        response.write(line("ERROR", status(410, "Expired", "too old resource version: 10 (15)")));
      },
    ],
    ["an HTTP 410 answer", (response) => sendJson(response, 410, status(410, "Gone", "too old resource version"))],
  ])("relists at once after %s, and what the relist no longer has reaches onDelete", async (_, goneAnswer) => {
    const fake = await startFakeApiServer([service("a", "1"), service("b", "2"), service("c", "3")]);
    fake.watchScripts.push((response) => {
      // While the watch was away, b was deleted and a changed: only a fresh list shows it.
      fake.objects.delete("b");
      fake.objects.set("a", service("a", "14"));
      fake.listResourceVersion = "20";
      goneAnswer(response);
    });
    const { informer, calls, failures } = startInformer();
    const watchAfterRelist = await watchNumber(fake, 2);
    expect(listsStarted(fake)).toBe(2);
    expect(watchAfterRelist.get("resourceVersion")).toBe("20");
    expect(calls.slice(3).sort()).toEqual(["delete default/b", "update default/a 1->14", "update default/c 3->3"]);
    expect(names(informer)).toEqual(["a@14", "c@3"]);
    expect(failures()).toEqual([]);
  });

  it.each<[string, string, string[]]>([
    ["the last event", "13", []],
    ["a bookmark", "15", [line("BOOKMARK", { metadata: { resourceVersion: "15" } })]],
  ])("watches again from where %s left it when the server ends a watch", async (_, resumeAt, bookmark) => {
    const fake = await startFakeApiServer([service("a", "1"), service("c", "3")]);
    fake.watchScripts.push((response) => {
      openStream(response);
      response.end(
        line("ADDED", service("f", "11")) +
          line("MODIFIED", service("a", "12")) +
          line("DELETED", service("c", "13")) +
          bookmark.join(""),
      );
    });
    const { informer, calls, failures } = startInformer();
    const resumed = await watchNumber(fake, 2);
    expect(resumed.get("resourceVersion")).toBe(resumeAt);
    expect(listsStarted(fake)).toBe(1);
    expect(calls.slice(2)).toEqual(["add default/f 11", "update default/a 1->12", "delete default/c"]);
    expect(names(informer)).toEqual(["a@12", "f@11"]);
    expect(failures()).toEqual([]);
  });

  it("after any other failure, logs it and watches again from where it was, without relisting", async () => {
    const fake = await startFakeApiServer([service("a", "1")]);
    fake.watchScripts.push((response) =>
      sendJson(response, 500, status(500, "InternalError", "etcdserver: leader changed")),
    );
    const { informer, failures } = startInformer();
    const retried = await watchNumber(fake, 2);
    expect(retried.get("resourceVersion")).toBe("10");
    expect(listsStarted(fake)).toBe(1);
    expect(failures()).toMatchObject([
      { msg: "list/watch failed; restarting", err: "HTTP 500: etcdserver: leader changed" },
    ]);
    await waitFor(() => informer.isConnected(), { description: "the retried watch to open", intervalMs: 5 });
  });

  it("counts a watch the server ends at once with no events as a failure, so it backs off instead of spinning", async () => {
    const fake = await startFakeApiServer([service("a", "1")]);
    fake.watchScripts.push((response) => {
      openStream(response);
      response.end();
    });
    // A clock that does not move: however slow the machine, the watch lasted less than a second.
    const { failures } = startInformer(() => 0);
    const retried = await watchNumber(fake, 2);
    expect(retried.get("resourceVersion")).toBe("10");
    expect(listsStarted(fake)).toBe(1);
    expect(failures()).toMatchObject([
      {
        msg: "list/watch failed; restarting",
        err: "watch /api/v1/services: the API server ended it at once, with no events",
      },
    ]);
  });

  it("stop() resolves with a watch open, closes its connection, keeps the cache and logs no failure", async () => {
    const fake = await startFakeApiServer([service("a", "1")]);
    const { informer, failures } = startInformer();
    await watchNumber(fake, 1);
    const watchSocket = fake.watchRequests[0]?.socket;
    const closed = new Promise<void>((resolve) => watchSocket?.once("close", () => resolve()));
    await expect(informer.stop()).resolves.toBeUndefined();
    await closed;
    expect(informer.isConnected()).toBe(false);
    expect(informer.hasSynced()).toBe(true);
    expect(names(informer)).toEqual(["a@1"]);
    expect(failures()).toEqual([]);
  });

  it("stop() during a list resolves without the server's answer, cancels the list and tells the handlers nothing", async () => {
    const fake = await startFakeApiServer([service("a", "1")]);
    fake.holdLists = true;
    const { informer, calls, failures } = startInformer();
    await waitFor(() => fake.listRequests.length === 1, { description: "the first list", intervalMs: 5 });
    const listSocket = fake.listRequests[0]?.socket;
    const closed = new Promise<void>((resolve) => listSocket?.once("close", () => resolve()));
    await expect(informer.stop()).resolves.toBeUndefined();
    await closed;
    expect([informer.hasSynced(), informer.isConnected(), informer.size]).toEqual([false, false, 0]);
    await expect(informer.waitForSync()).resolves.toBe(false);
    expect(calls).toEqual([]);
    expect(failures()).toEqual([]);
  });
});
