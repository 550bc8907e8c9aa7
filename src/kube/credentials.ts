/**
 * What a request to the API server carries to prove who sends it, read once from the configuration:
 * the TLS material for the connection pool, and the Authorization header for each request.
 *
 * Handled here: certificate authority, client certificate and key (inline or files), a bearer token,
 * a token file (the in-cluster service account's, read again every minute because the kubelet
 * rotates it), and basic auth. An `exec` plugin or an `auth-provider` (cloud logins such as
 * `aws eks get-token`) is delegated to `@kubernetes/client-node`, loaded only then.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { Cluster, User } from "@kubernetes/client-node";
import type { ClusterAccess } from "./config.ts";

export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

export interface Credentials {
  readonly tls: TlsMaterial;
  /** The Authorization header for the next request, if the user has one. */
  authorization(): Promise<string | undefined>;
}

/** How long a token read from a file is used before the file is read again (as client-go). */
const TOKEN_FILE_REREAD_MS = 60_000;

function pem(data: string | undefined, file: string | undefined): Buffer | undefined {
  if (data) return Buffer.from(data, "base64");
  return file ? readFileSync(file) : undefined;
}

function tlsMaterial(cluster: Cluster, user: User | null): TlsMaterial {
  const ca = pem(cluster.caData, cluster.caFile);
  const cert = pem(user?.certData, user?.certFile);
  const key = pem(user?.keyData, user?.keyFile);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  };
}

function tokenFileReader(file: string): () => Promise<string> {
  let token: string | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  return async () => {
    if (Date.now() - readAt >= TOKEN_FILE_REREAD_MS) {
      try {
        const read = readFileSync(file, "utf8").trim();
        if (read === "") throw new Error(`token file ${file} is empty`);
        token = read;
        readAt = Date.now();
      } catch (error) {
        // As client-go: a file caught missing or empty mid-rotation keeps the last token in use (it is
        // still valid for a while) and is read again on the next request; without one, say why.
        if (token === undefined) throw error;
      }
    }
    return `Bearer ${token}`;
  };
}

/**
 * The client library's authenticators, for a user whose credentials come from a plugin. Only the
 * Authorization header is taken from it; the connection and its TLS stay this client's, so the
 * library is shown the cluster as one it need not check (it refuses to sign for a plain-HTTP server
 * otherwise, which it never connects to here).
 */
function pluginAuthorization(cluster: Cluster, user: User): () => Promise<string | undefined> {
  let kubeConfig: Promise<{ applyToHTTPSOptions(options: object): Promise<void> }> | undefined;
  return async () => {
    kubeConfig ??= import("@kubernetes/client-node").then(({ KubeConfig }) => {
      const loaded = new KubeConfig();
      loaded.loadFromClusterAndUser({ name: cluster.name, server: cluster.server, skipTLSVerify: true }, user);
      return loaded;
    });
    const options: { headers?: Record<string, unknown> } = {};
    await (await kubeConfig).applyToHTTPSOptions(options);
    const header = options.headers?.Authorization;
    return typeof header === "string" ? header : undefined;
  };
}

function authorizationOf(cluster: Cluster, user: User | null): () => Promise<string | undefined> {
  if (!user) return async () => undefined;
  if (user.token) {
    const header = `Bearer ${user.token}`;
    return async () => header;
  }
  const tokenFile = user.authProvider?.name === "tokenFile" ? user.authProvider.config?.tokenFile : undefined;
  if (typeof tokenFile === "string") return tokenFileReader(tokenFile);
  if (user.exec || user.authProvider) return pluginAuthorization(cluster, user);
  if (user.username) {
    const header = `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`;
    return async () => header;
  }
  return async () => undefined;
}

/** The credentials of `access`'s current user for its current cluster. */
export function credentialsFor(access: ClusterAccess): Credentials {
  const cluster = access.getCurrentCluster();
  if (!cluster) throw new Error("the Kubernetes configuration has no current cluster");
  if (cluster.proxyUrl) {
    throw new Error(`cluster ${cluster.name}: proxy-url is not supported; reach the API server directly`);
  }
  const user = access.getCurrentUser();
  return { tls: tlsMaterial(cluster, user), authorization: authorizationOf(cluster, user) };
}
