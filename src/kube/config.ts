/**
 * Where the Kubernetes client connects: `--kubeconfig <file>` when given; else the Pod's service account
 * when running in a cluster; else `$KUBECONFIG`; else `~/.kube/config`. A missing or unusable
 * configuration is one clear error that says what to pass, instead of the client library's silent
 * fallback to `http://localhost:8080`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

/** Where a Pod's service account token is mounted. */
export const SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";

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

function loadFile(kubeConfig: KubeConfig, file: string, origin: string): void {
  if (!existsSync(file)) {
    throw new KubeConfigError(`${origin}: kubeconfig file ${file} does not exist; pass --kubeconfig <file>`);
  }
  try {
    kubeConfig.loadFromFile(file);
  } catch (error) {
    throw new KubeConfigError(`${origin}: kubeconfig file ${file} cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Loads `kubeConfig` from the first source that applies, in the module doc's order; returns its name. */
function loadFromFirstSource(kubeConfig: KubeConfig, options: LoadKubeConfigOptions, env: NodeJS.ProcessEnv): string {
  if (options.kubeconfig !== undefined && options.kubeconfig !== "") {
    loadFile(kubeConfig, options.kubeconfig, "--kubeconfig");
    return "--kubeconfig";
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(options.serviceAccountTokenPath ?? SERVICE_ACCOUNT_TOKEN_PATH)) {
    kubeConfig.loadFromCluster();
    return "in-cluster service account";
  }
  if (env.KUBECONFIG) {
    // KUBECONFIG may list several files; the client merges them like kubectl does.
    const files = env.KUBECONFIG.split(process.platform === "win32" ? ";" : ":").filter(Boolean);
    const missing = files.filter((file) => !existsSync(file));
    if (missing.length === files.length) {
      throw new KubeConfigError(`KUBECONFIG names no existing file (${env.KUBECONFIG}); pass --kubeconfig <file>`);
    }
    kubeConfig.loadFromDefault({}, false);
    return "KUBECONFIG";
  }
  const file = join(options.homeDir ?? homedir(), ".kube", "config");
  if (!existsSync(file)) {
    throw new KubeConfigError(
      "no Kubernetes configuration found: pass --kubeconfig <file>, set KUBECONFIG, " +
        `create ${file}, or run in a Pod with a service account`,
    );
  }
  loadFile(kubeConfig, file, "~/.kube/config");
  return "~/.kube/config";
}

/** Loads the client configuration (see the module doc for the order) and checks it names a cluster. */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const kubeConfig = new KubeConfig();
  const origin = loadFromFirstSource(kubeConfig, options, options.env ?? process.env);
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster?.server) {
    throw new KubeConfigError(
      `${origin}: the current context (${kubeConfig.getCurrentContext() || "none"}) names no cluster with a server; ` +
        "set current-context to a context whose cluster has a server URL",
    );
  }
  return kubeConfig;
}
