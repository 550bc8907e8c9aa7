/**
 * `--reuse-connections`, a what-if from before the controller pooled its connections: all of a
 * KubeConfig's requests through one connection pool. The controller now does this itself
 * (`src/kube/api-client.ts`), so the option changes nothing for it; the benchmark's own client
 * (creating objects, watching for addresses) still uses it to keep setup light.
 *
 * @module
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { withConnectionPool } from "./connection-pool.ts";

/** `kubeConfig` with all its requests sent through one pooled Agent. */
export function reuseOneConnectionPool(kubeConfig: KubeConfig): KubeConfig {
  return withConnectionPool(kubeConfig);
}
