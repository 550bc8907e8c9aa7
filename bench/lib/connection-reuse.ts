/**
 * A what-if, off unless a scenario is run with `--reuse-connections`: make a KubeConfig send every
 * request over one shared connection pool.
 *
 * `@kubernetes/client-node` 2.x builds a new undici Agent inside `applySecurityAuthentication`, which
 * runs once per API request, so every request opens (and leaves open) its own TLS connection. The
 * shipped controller uses the client as it is; this option measures what reusing one Agent per
 * KubeConfig would buy, to size a fix in `src/kube/` — it is not what `lb-provisioner run` does.
 *
 * @module
 */
import type { KubeConfig, RequestContext } from "@kubernetes/client-node";

/** Patches `kubeConfig` in place so all its requests share the first request's Agent; returns it. */
export function reuseOneConnectionPool(kubeConfig: KubeConfig): KubeConfig {
  const apply = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  let shared: ReturnType<RequestContext["getDispatcher"]>;
  kubeConfig.applySecurityAuthentication = async (context: RequestContext): Promise<void> => {
    await apply(context);
    shared ??= context.getDispatcher();
    if (shared) context.setDispatcher(shared);
  };
  return kubeConfig;
}
