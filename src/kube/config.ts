/**
 * Where the Kubernetes client connects: `--kubeconfig <file>` when given; else the Pod's service account
 * when running in a cluster; else `$KUBECONFIG`; else `~/.kube/config`. A missing or unusable
 * configuration is one clear error that says what to pass, instead of the client library's silent
 * fallback to `http://localhost:8080`.
 *
 * The file is read here, not by `@kubernetes/client-node`: loading that library costs more memory and
 * start-up time than the rest of the controller (see `./api-client.ts`). The result has the shape of
 * the library's `KubeConfig` (current cluster and user), so either can be handed to the controller.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import type { Cluster, Context, User } from "@kubernetes/client-node";
import { load as parseYaml } from "js-yaml";

/** Where a Pod's service account token is mounted. */
export const SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** Where a Pod's service account sees the cluster's certificate authority. */
const SERVICE_ACCOUNT_CA_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

/**
 * Where the cluster is and who the client is: what the controller, the Lease and the commands need of a
 * Kubernetes configuration. `@kubernetes/client-node`'s `KubeConfig` has this shape too.
 */
export interface ClusterAccess {
  getCurrentCluster(): Cluster | null;
  getCurrentUser(): User | null;
  getCurrentContext(): string;
}

interface Named<T> {
  readonly name: string;
  readonly value: T;
}

/** One or more kubeconfig files merged as kubectl merges them: the first file to name an entry wins. */
class KubeconfigFiles implements ClusterAccess {
  readonly #clusters = new Map<string, Cluster>();
  readonly #users = new Map<string, User>();
  readonly #contexts = new Map<string, Context>();
  #currentContext = "";

  add(clusters: Named<Cluster>[], users: Named<User>[], contexts: Named<Context>[], currentContext: string): void {
    for (const { name, value } of clusters) if (!this.#clusters.has(name)) this.#clusters.set(name, value);
    for (const { name, value } of users) if (!this.#users.has(name)) this.#users.set(name, value);
    for (const { name, value } of contexts) if (!this.#contexts.has(name)) this.#contexts.set(name, value);
    if (this.#currentContext === "") this.#currentContext = currentContext;
  }

  getCurrentContext(): string {
    return this.#currentContext;
  }

  getCurrentCluster(): Cluster | null {
    const context = this.#contexts.get(this.#currentContext);
    return (context && this.#clusters.get(context.cluster)) ?? null;
  }

  getCurrentUser(): User | null {
    const context = this.#contexts.get(this.#currentContext);
    return (context?.user !== undefined && this.#users.get(context.user)) || null;
  }
}

type Entry = Record<string, unknown>;

function entries(document: Entry, key: string, field: string): Array<{ name: string; body: Entry }> {
  const list = document[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new Error(`${key} must be a list`);
  return list.map((item: Entry, index) => {
    if (typeof item?.name !== "string") throw new Error(`${key}[${index}].name must be a string`);
    return { name: item.name, body: (item[field] ?? {}) as Entry };
  });
}

const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

/** Parses one kubeconfig file; relative file paths in it are relative to the file, as kubectl reads them. */
function parseKubeconfig(file: string): Parameters<KubeconfigFiles["add"]> {
  const document = (parseYaml(readFileSync(file, "utf8")) ?? {}) as Entry;
  if (typeof document !== "object" || Array.isArray(document)) throw new Error("not a kubeconfig document");
  const root = dirname(file);
  const path = (value: unknown): string | undefined => {
    const given = text(value);
    return given === undefined || isAbsolute(given) ? given : join(root, given);
  };
  const clusters = entries(document, "clusters", "cluster").map(({ name, body }) => ({
    name,
    value: {
      name,
      server: text(body.server) ?? "",
      caData: text(body["certificate-authority-data"]),
      caFile: path(body["certificate-authority"]),
      skipTLSVerify: body["insecure-skip-tls-verify"] === true,
      tlsServerName: text(body["tls-server-name"]),
      proxyUrl: text(body["proxy-url"]),
    } as Cluster,
  }));
  const users = entries(document, "users", "user").map(({ name, body }) => ({
    name,
    value: {
      name,
      certData: text(body["client-certificate-data"]),
      certFile: path(body["client-certificate"]),
      keyData: text(body["client-key-data"]),
      keyFile: path(body["client-key"]),
      token: text(body.token),
      ...(text(body.tokenFile)
        ? { authProvider: { name: "tokenFile", config: { tokenFile: path(body.tokenFile) } } }
        : {}),
      ...(body["auth-provider"] ? { authProvider: body["auth-provider"] } : {}),
      exec: body.exec ?? undefined,
      username: text(body.username),
      password: text(body.password),
    } as User,
  }));
  const contexts = entries(document, "contexts", "context").map(({ name, body }) => ({
    name,
    value: { name, cluster: text(body.cluster) ?? "", user: text(body.user) ?? "" } as Context,
  }));
  return [clusters, users, contexts, text(document["current-context"]) ?? ""];
}

/** The Pod's service account, as client-go's in-cluster configuration reads it. */
function inClusterAccess(env: NodeJS.ProcessEnv, tokenPath: string): KubeconfigFiles {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const name = "in-cluster";
  const access = new KubeconfigFiles();
  access.add(
    [
      {
        name,
        value: {
          name,
          server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
          caFile: SERVICE_ACCOUNT_CA_PATH,
          skipTLSVerify: false,
        },
      },
    ],
    [{ name, value: { name, authProvider: { name: "tokenFile", config: { tokenFile: tokenPath } } } }],
    [{ name, value: { name, cluster: name, user: name } }],
    name,
  );
  return access;
}

/** A Kubernetes client configuration that cannot be found or used. */
export class KubeConfigError extends Error {
  override readonly name = "KubeConfigError";
}

export interface LoadKubeConfigOptions {
  /** `--kubeconfig`: a kubeconfig file; when set, nothing else is tried. */
  readonly kubeconfig?: string | undefined;
  /** The environment to read `KUBECONFIG` and `KUBERNETES_SERVICE_HOST` from; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where `~/.kube/config` lives; defaults to the user's home directory. */
  readonly homeDir?: string;
  /** The service account token path that marks "running in a Pod"; overridable for tests. */
  readonly serviceAccountTokenPath?: string;
}

function loadFile(kubeConfig: KubeconfigFiles, file: string, origin: string): void {
  if (!existsSync(file)) {
    throw new KubeConfigError(`${origin}: kubeconfig file ${file} does not exist; pass --kubeconfig <file>`);
  }
  try {
    kubeConfig.add(...parseKubeconfig(file));
  } catch (error) {
    throw new KubeConfigError(`${origin}: kubeconfig file ${file} cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Reads the first source that applies, in the module doc's order; returns it and its name. */
function loadFromFirstSource(
  options: LoadKubeConfigOptions,
  env: NodeJS.ProcessEnv,
): { access: KubeconfigFiles; origin: string } {
  const access = new KubeconfigFiles();
  if (options.kubeconfig !== undefined && options.kubeconfig !== "") {
    loadFile(access, options.kubeconfig, "--kubeconfig");
    return { access, origin: "--kubeconfig" };
  }
  const tokenPath = options.serviceAccountTokenPath ?? SERVICE_ACCOUNT_TOKEN_PATH;
  if (env.KUBERNETES_SERVICE_HOST && existsSync(tokenPath)) {
    return { access: inClusterAccess(env, tokenPath), origin: "in-cluster service account" };
  }
  if (env.KUBECONFIG) {
    // KUBECONFIG may list several files, merged as kubectl merges them; missing ones are skipped.
    const files = env.KUBECONFIG.split(process.platform === "win32" ? ";" : ":").filter(Boolean);
    const present = files.filter((file) => existsSync(file));
    if (present.length === 0) {
      throw new KubeConfigError(`KUBECONFIG names no existing file (${env.KUBECONFIG}); pass --kubeconfig <file>`);
    }
    for (const file of present) loadFile(access, file, "KUBECONFIG");
    return { access, origin: "KUBECONFIG" };
  }
  const file = join(options.homeDir ?? homedir(), ".kube", "config");
  if (!existsSync(file)) {
    throw new KubeConfigError(
      "no Kubernetes configuration found: pass --kubeconfig <file>, set KUBECONFIG, " +
        `create ${file}, or run in a Pod with a service account`,
    );
  }
  loadFile(access, file, "~/.kube/config");
  return { access, origin: "~/.kube/config" };
}

/** Loads the client configuration (see the module doc for the order) and checks it names a cluster. */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): ClusterAccess {
  const { access, origin } = loadFromFirstSource(options, options.env ?? process.env);
  const cluster = access.getCurrentCluster();
  if (!cluster?.server) {
    throw new KubeConfigError(
      `${origin}: the current context (${access.getCurrentContext() || "none"}) names no cluster with a server; ` +
        "set current-context to a context whose cluster has a server URL",
    );
  }
  if (cluster.proxyUrl) {
    throw new KubeConfigError(
      `${origin}: cluster ${cluster.name} sets proxy-url, which lb-provisioner does not support; ` +
        "give it a cluster entry that reaches the API server directly",
    );
  }
  return access;
}
