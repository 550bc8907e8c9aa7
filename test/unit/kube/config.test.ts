import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeConfigError, loadKubeConfig } from "../../../src/kube/config.ts";

function kubeconfigYaml(server: string, context = "test"): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    `current-context: ${context}`,
    "clusters:",
    `- name: c\n  cluster:\n    server: ${server}`,
    "users:",
    "- name: u\n  user:\n    token: not-a-real-token",
    "contexts:",
    "- name: test\n  context:\n    cluster: c\n    user: u",
    "",
  ].join("\n");
}

describe("loadKubeConfig", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lbp-kubeconfig-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads the --kubeconfig file and nothing else", () => {
    const file = join(dir, "explicit");
    writeFileSync(file, kubeconfigYaml("https://127.0.0.1:6443"));
    const kubeConfig = loadKubeConfig({
      kubeconfig: file,
      env: { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBECONFIG: "/nonexistent" },
      homeDir: dir,
    });
    expect(kubeConfig.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  it("names the flag and the file when --kubeconfig does not exist", () => {
    expect(() => loadKubeConfig({ kubeconfig: join(dir, "missing"), env: {} })).toThrow(
      /--kubeconfig: kubeconfig file .*missing does not exist/,
    );
  });

  it("rejects a kubeconfig whose current context has no cluster", () => {
    const file = join(dir, "dangling");
    writeFileSync(file, kubeconfigYaml("https://127.0.0.1:6443", "nowhere"));
    expect(() => loadKubeConfig({ kubeconfig: file, env: {} })).toThrow(KubeConfigError);
    expect(() => loadKubeConfig({ kubeconfig: file, env: {} })).toThrow(/current context \(nowhere\)/);
  });

  it("uses the in-cluster service account when running in a Pod", () => {
    const token = join(dir, "token");
    writeFileSync(token, "t");
    // The client reads the service address from the process environment itself.
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = "10.96.0.1";
    process.env.KUBERNETES_SERVICE_PORT = "443";
    try {
      const kubeConfig = loadKubeConfig({ serviceAccountTokenPath: token, homeDir: dir });
      expect(kubeConfig.getCurrentCluster()?.server).toBe("https://10.96.0.1:443");
    } finally {
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      else process.env.KUBERNETES_SERVICE_HOST = saved.host;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      else process.env.KUBERNETES_SERVICE_PORT = saved.port;
    }
  });

  it("falls back to ~/.kube/config", () => {
    mkdirSync(join(dir, ".kube"));
    writeFileSync(join(dir, ".kube", "config"), kubeconfigYaml("https://127.0.0.1:7443"));
    const kubeConfig = loadKubeConfig({ env: {}, homeDir: dir, serviceAccountTokenPath: join(dir, "none") });
    expect(kubeConfig.getCurrentCluster()?.server).toBe("https://127.0.0.1:7443");
  });

  it("says what to pass when there is no configuration anywhere", () => {
    expect(() => loadKubeConfig({ env: {}, homeDir: dir, serviceAccountTokenPath: join(dir, "none") })).toThrow(
      /no Kubernetes configuration found: pass --kubeconfig <file>, set KUBECONFIG/,
    );
  });

  it("rejects a KUBECONFIG that names no existing file", () => {
    expect(() =>
      loadKubeConfig({ env: { KUBECONFIG: join(dir, "a") }, homeDir: dir, serviceAccountTokenPath: join(dir, "none") }),
    ).toThrow(/KUBECONFIG names no existing file/);
  });
});
