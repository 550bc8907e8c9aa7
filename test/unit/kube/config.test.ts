import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeConfigError, loadKubeConfig } from "../../../src/kube/config.ts";
import { credentialsFor } from "../../../src/kube/credentials.ts";

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

/** Writes `lines` as the file `path`, and returns `path`. */
function writeLines(path: string, lines: string[]): string {
  writeFileSync(path, lines.join("\n"));
  return path;
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

  it("resolves relative certificate, key and token file paths against the kubeconfig's directory", async () => {
    const configDir = join(dir, "cluster-a");
    mkdirSync(join(configDir, "pki"), { recursive: true });
    writeFileSync(join(configDir, "pki", "ca.crt"), "CA");
    writeFileSync(join(configDir, "pki", "client.crt"), "CERT");
    writeFileSync(join(configDir, "client.key"), "KEY");
    writeFileSync(join(configDir, "token"), "from-the-file\n");
    const file = writeLines(join(configDir, "config"), [
      "current-context: a",
      "clusters: [{name: a, cluster: {server: 'https://127.0.0.1:6443', certificate-authority: pki/ca.crt}}]",
      "users: [{name: a, user: {client-certificate: ./pki/client.crt, client-key: client.key, tokenFile: token}}]",
      "contexts: [{name: a, context: {cluster: a, user: a}}]",
    ]);
    const access = loadKubeConfig({ kubeconfig: file, env: {} });
    expect(access.getCurrentCluster()?.caFile).toBe(join(configDir, "pki", "ca.crt"));
    expect(access.getCurrentUser()).toMatchObject({
      certFile: join(configDir, "pki", "client.crt"),
      keyFile: join(configDir, "client.key"),
    });
    const credentials = credentialsFor(access);
    expect([credentials.tls.ca, credentials.tls.cert, credentials.tls.key].map(String)).toEqual(["CA", "CERT", "KEY"]);
    await expect(credentials.authorization()).resolves.toBe("Bearer from-the-file");
  });

  it("keeps absolute file paths as written", () => {
    const file = writeLines(join(dir, "config"), [
      "current-context: a",
      "clusters: [{name: a, cluster: {server: 'https://127.0.0.1:6443', certificate-authority: /etc/k8s/ca.crt}}]",
      "contexts: [{name: a, context: {cluster: a}}]",
    ]);
    expect(loadKubeConfig({ kubeconfig: file, env: {} }).getCurrentCluster()?.caFile).toBe("/etc/k8s/ca.crt");
  });

  describe("KUBECONFIG listing several files", () => {
    /** A kubeconfig with one cluster `shared` and one context of `context`'s name using it. */
    function file(name: string, server: string, context: string, currentContext?: string): string {
      return writeLines(join(dir, name), [
        ...(currentContext ? [`current-context: ${currentContext}`] : []),
        `clusters: [{name: shared, cluster: {server: "${server}"}}]`,
        `users: [{name: ${context}, user: {token: ${context}-token}}]`,
        `contexts: [{name: ${context}, context: {cluster: shared, user: ${context}}}]`,
      ]);
    }
    const load = (...files: string[]) =>
      loadKubeConfig({
        env: { KUBECONFIG: files.join(":") },
        homeDir: dir,
        serviceAccountTokenPath: join(dir, "none"),
      });

    it("merges them, the first file to name an entry winning", () => {
      const access = load(
        file("first", "https://first:6443", "one", "two"),
        file("second", "https://second:6443", "two"),
      );
      expect(access.getCurrentContext()).toBe("two");
      expect(access.getCurrentCluster()?.server).toBe("https://first:6443");
      expect(access.getCurrentUser()?.token).toBe("two-token");
    });

    it("takes current-context from the first file that sets it", () => {
      const access = load(
        file("first", "https://first:6443", "one"),
        file("second", "https://second:6443", "two", "one"),
        file("third", "https://third:6443", "three", "three"),
      );
      expect(access.getCurrentContext()).toBe("one");
      expect(access.getCurrentUser()?.token).toBe("one-token");
    });

    it("skips a listed file that does not exist", () => {
      const access = load(join(dir, "missing"), file("present", "https://present:6443", "one", "one"));
      expect(access.getCurrentCluster()?.server).toBe("https://present:6443");
    });
  });

  it("refuses a cluster with proxy-url, naming the field and the cluster", () => {
    const file = writeLines(join(dir, "proxied"), [
      "current-context: a",
      "clusters: [{name: corp, cluster: {server: 'https://10.0.0.1:6443', proxy-url: 'http://proxy:3128'}}]",
      "contexts: [{name: a, context: {cluster: corp}}]",
    ]);
    expect(() => loadKubeConfig({ kubeconfig: file, env: {} })).toThrow(KubeConfigError);
    expect(() => loadKubeConfig({ kubeconfig: file, env: {} })).toThrow(
      /--kubeconfig: cluster corp sets proxy-url, which lb-provisioner does not support/,
    );
  });

  it("says a file that is not YAML cannot be read, naming the file", () => {
    const file = join(dir, "broken");
    writeFileSync(file, "clusters: [unclosed\n  - name: {\n");
    expect(() => loadKubeConfig({ kubeconfig: file, env: {} })).toThrow(KubeConfigError);
    expect(() => loadKubeConfig({ kubeconfig: file, env: {} })).toThrow(
      `--kubeconfig: kubeconfig file ${file} cannot be read: `,
    );
  });

  it("says which entry is malformed in a YAML file that is not a kubeconfig", () => {
    const file = join(dir, "wrong-shape");
    writeFileSync(file, "clusters:\n  - cluster: {server: 'https://127.0.0.1:6443'}\n");
    expect(() => loadKubeConfig({ kubeconfig: file, env: {} })).toThrow(
      `kubeconfig file ${file} cannot be read: clusters[0].name must be a string`,
    );
  });
});
