/**
 * A raw GET against the apiserver, returning the JSON exactly as served (the client library turns
 * objects into model classes with Date fields, which would not serialize back byte-for-byte).
 *
 * @module
 */
import { get } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/** GETs `path` as the kubeconfig's current user (bearer token) and parses the JSON body. */
export function getRawJson(kubeConfig: KubeConfig, path: string): Promise<unknown> {
  const cluster = kubeConfig.getCurrentCluster();
  const token = kubeConfig.getCurrentUser()?.token;
  if (!cluster) return Promise.reject(new Error("the kubeconfig has no current cluster"));
  const ca = cluster.caData ? Buffer.from(cluster.caData, "base64") : undefined;
  return new Promise((resolve, reject) => {
    const request = get(
      new URL(path, cluster.server),
      {
        ...(ca ? { ca } : {}),
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), accept: "application/json" },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (response.statusCode !== 200) {
            reject(new Error(`GET ${path}: HTTP ${response.statusCode}: ${text.slice(0, 200)}`));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch (error) {
            reject(error);
          }
        });
        response.on("error", reject);
      },
    );
    request.on("error", reject);
  });
}
