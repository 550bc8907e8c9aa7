import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster, User } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ClusterAccess } from "../../../src/kube/config.ts";
import { credentialsFor } from "../../../src/kube/credentials.ts";

function access(cluster: Partial<Cluster>, user: Omit<User, "name"> | null): ClusterAccess {
  return {
    getCurrentCluster: () => ({ name: "c", server: "https://127.0.0.1:6443", skipTLSVerify: false, ...cluster }),
    getCurrentUser: () => (user ? { name: "u", ...user } : null),
    getCurrentContext: () => "test",
  };
}

describe("credentialsFor", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lbp-credentials-"));
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A token file user's credentials, the file written with `content` unless undefined. */
  function tokenFileUser(content: string | undefined) {
    const tokenFile = join(dir, "token");
    if (content !== undefined) writeFileSync(tokenFile, content);
    const credentials = credentialsFor(access({}, { authProvider: { name: "tokenFile", config: { tokenFile } } }));
    return { tokenFile, credentials };
  }

  it("sends a bearer token as given", async () => {
    await expect(credentialsFor(access({}, { token: "abc" })).authorization()).resolves.toBe("Bearer abc");
  });

  it("sends basic auth as base64 of user:password", async () => {
    const credentials = credentialsFor(access({}, { username: "admin", password: "p:ss" }));
    await expect(credentials.authorization()).resolves.toBe(`Basic ${Buffer.from("admin:p:ss").toString("base64")}`);
  });

  it("sends no Authorization header for a context without a user", async () => {
    await expect(credentialsFor(access({}, null)).authorization()).resolves.toBeUndefined();
  });

  it("reads a token file once, then again only when a minute has passed (the kubelet rotates it)", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: 1_000_000 });
    const { tokenFile, credentials } = tokenFileUser("first\n");
    await expect(credentials.authorization()).resolves.toBe("Bearer first");
    writeFileSync(tokenFile, "second\n");
    vi.advanceTimersByTime(59_999);
    await expect(credentials.authorization()).resolves.toBe("Bearer first");
    vi.advanceTimersByTime(1);
    await expect(credentials.authorization()).resolves.toBe("Bearer second");
  });

  it("keeps the last token while the file reads missing or empty mid-rotation, and takes the next one it reads", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: 1_000_000 });
    const { tokenFile, credentials } = tokenFileUser("first");
    await expect(credentials.authorization()).resolves.toBe("Bearer first");
    rmSync(tokenFile);
    vi.advanceTimersByTime(60_000);
    await expect(credentials.authorization()).resolves.toBe("Bearer first");
    writeFileSync(tokenFile, "");
    await expect(credentials.authorization()).resolves.toBe("Bearer first");
    writeFileSync(tokenFile, "second");
    await expect(credentials.authorization()).resolves.toBe("Bearer second");
  });

  it("fails naming the token file when its first read finds it missing or empty", async () => {
    const { tokenFile, credentials } = tokenFileUser(undefined);
    await expect(credentials.authorization()).rejects.toThrow(tokenFile);
    writeFileSync(tokenFile, "\n");
    await expect(credentials.authorization()).rejects.toThrow(`token file ${tokenFile} is empty`);
  });

  it("takes TLS material from inline data and files, and the cluster's verification settings", () => {
    const keyFile = join(dir, "client.key");
    writeFileSync(keyFile, "KEY FROM FILE");
    const { tls } = credentialsFor(
      access(
        {
          caData: Buffer.from("CA INLINE").toString("base64"),
          skipTLSVerify: true,
          tlsServerName: "kubernetes.default",
        },
        { certData: Buffer.from("CERT INLINE").toString("base64"), keyFile },
      ),
    );
    expect({ ...tls, ca: tls.ca?.toString(), cert: tls.cert?.toString(), key: tls.key?.toString() }).toEqual({
      ca: "CA INLINE",
      cert: "CERT INLINE",
      key: "KEY FROM FILE",
      rejectUnauthorized: false,
      servername: "kubernetes.default",
    });
  });

  it("refuses a cluster reached through proxy-url, naming the cluster", () => {
    expect(() => credentialsFor(access({ name: "behind-proxy", proxyUrl: "http://proxy:3128" }, null))).toThrow(
      "cluster behind-proxy: proxy-url is not supported; reach the API server directly",
    );
  });
});
