/**
 * A what-if, off unless a scenario is run with `--reuse-connections`: send all of a KubeConfig's
 * requests through one connection pool of at most {@link MAX_CONNECTIONS} connections.
 *
 * `@kubernetes/client-node` 2.x builds a new undici Agent inside `applySecurityAuthentication`, which
 * runs once per API request, so every request opens (and leaves open until it idles out) its own TLS
 * connection, and a burst of requests is a burst of handshakes. The shipped controller uses the client
 * as it is; this option measures what one bounded pool per KubeConfig would buy, to size a fix in
 * `src/kube/`. It is not what `lb-provisioner run` does.
 *
 * undici is the client library's own HTTP stack (a dependency of @kubernetes/client-node, one copy in
 * node_modules), so the Agent built here is the kind the client expects.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { KubeConfig, RequestContext } from "@kubernetes/client-node";
import { Agent } from "undici";

/** Connections per apiserver; client-go's default QPS of 5-50 needs no more. */
export const MAX_CONNECTIONS = 8;

function pem(data: string | undefined, file: string | undefined): Buffer | undefined {
  if (data) return Buffer.from(data, "base64");
  return file ? readFileSync(file) : undefined;
}

/** Patches `kubeConfig` in place so all its requests share one bounded Agent; returns it. */
export function reuseOneConnectionPool(kubeConfig: KubeConfig): KubeConfig {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  const ca = pem(cluster?.caData, cluster?.caFile);
  const cert = pem(user?.certData, user?.certFile);
  const key = pem(user?.keyData, user?.keyFile);
  const agent = new Agent({
    connections: MAX_CONNECTIONS,
    connect: {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(cluster?.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      ...(cluster?.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    },
  });
  const apply = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  kubeConfig.applySecurityAuthentication = async (context: RequestContext): Promise<void> => {
    await apply(context);
    context.setDispatcher(agent);
  };
  return kubeConfig;
}
