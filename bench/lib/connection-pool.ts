/**
 * The benchmark's own `@kubernetes/client-node` clients (creating objects, watching for addresses)
 * through one bounded connection pool per apiserver. (The controller has its own client,
 * `src/kube/api-client.ts`.)
 *
 * `@kubernetes/client-node` 2.x builds a new undici Agent inside `applySecurityAuthentication`, which
 * its API clients and watches call once per request; a new Agent has no pooled connection, so every
 * finalizer patch, status patch, Event and Lease renewal made its own TCP connection and TLS handshake
 * (and left the socket open until it idled out). {@link withConnectionPool} returns a view of a
 * KubeConfig whose requests all go through one Agent built once from the same TLS material.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { KubeConfig, RequestContext } from "@kubernetes/client-node";
import { Agent } from "undici";

/**
 * Connections per apiserver. undici offers HTTP/2 and the apiserver takes it, so in practice one
 * connection carries every request and both watches; over HTTP/1.1 each watch holds one and the rest
 * carry writes, which take a few milliseconds each, so a handful serve dozens of workers.
 */
export const MAX_CONNECTIONS = 8;

const pooled = new WeakMap<KubeConfig, KubeConfig>();

function pem(data: string | undefined, file: string | undefined): Buffer | undefined {
  if (data) return Buffer.from(data, "base64");
  return file ? readFileSync(file) : undefined;
}

function newAgent(kubeConfig: KubeConfig): Agent {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  const ca = pem(cluster?.caData, cluster?.caFile);
  const cert = pem(user?.certData, user?.certFile);
  const key = pem(user?.keyData, user?.keyFile);
  return new Agent({
    connections: MAX_CONNECTIONS,
    connect: {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(cluster?.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      ...(cluster?.tlsServerName ? { servername: cluster.tlsServerName } : {}),
      // As client-go: probe idle connections, so a dead apiserver is noticed by the keep-alive.
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
    },
  });
}

/**
 * `kubeConfig` with every request of the clients and watches made from it sent through one pool of at
 * most {@link MAX_CONNECTIONS} connections. The same KubeConfig always gets the same view (so the
 * controller, its Events and the Lease share the pool); `kubeConfig` itself is not changed. A cluster
 * reached through a proxy (`proxy-url`) keeps the client's own proxy dispatcher.
 */
export function withConnectionPool(kubeConfig: KubeConfig): KubeConfig {
  const existing = pooled.get(kubeConfig);
  if (existing) return existing;
  if (kubeConfig.getCurrentCluster()?.proxyUrl) return kubeConfig;
  let agent: Agent | undefined;
  // Reads (clusters, users, contexts) fall through to the original; only authentication is overridden.
  const view: KubeConfig = Object.create(kubeConfig);
  view.applySecurityAuthentication = async (context: RequestContext): Promise<void> => {
    await kubeConfig.applySecurityAuthentication(context);
    agent ??= newAgent(kubeConfig);
    context.setDispatcher(agent);
  };
  pooled.set(kubeConfig, view);
  pooled.set(view, view);
  return view;
}
