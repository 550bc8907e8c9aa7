/**
 * Commands load only what they use: `version` loads neither the Kubernetes client nor any provider, and
 * `run --provider fake`, running against a real kube-apiserver, loads no AWS SDK module and neither
 * `@kubernetes/client-node` nor undici: the controller's own client (`src/kube/api-client.ts`) talks to
 * the apiserver, and the library is loaded only for `exec` or `auth-provider` credentials. What the
 * process loaded is recorded by a module hook inside it (`test/harness/record-loaded-modules.ts`), so
 * this checks the running program, not its source (`test/unit/layering/import-graph.test.ts` does that).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor, withControlPlane } from "../harness/index.ts";
import { startController } from "./cli-process.ts";

const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));
const RECORDER = fileURLToPath(new URL("../harness/record-loaded-modules.ts", import.meta.url));

const work = mkdtempSync(join(tmpdir(), "lbp-loaded-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Environment that makes a CLI process record what it loads into `file`. */
function recording(file: string): Record<string, string> {
  const nodeOptions = [process.env.NODE_OPTIONS, `--import=${RECORDER}`].filter(Boolean).join(" ");
  return { NODE_OPTIONS: nodeOptions, LBP_LOADED_MODULES_FILE: file };
}

function loadedModules(file: string): string[] {
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

const fromPackage = (modules: readonly string[], name: string) =>
  modules.filter((url) => url.includes(`/node_modules/${name}/`));
const awsSdk = (modules: readonly string[]) => modules.filter((url) => url.includes("/node_modules/@aws-sdk/"));

describe("what a command loads", () => {
  const controlPlane = withControlPlane();

  it("`version` loads commander and no Kubernetes client, provider or AWS SDK", async () => {
    const file = join(work, "version.txt");
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [CLI, "version"],
        { env: { ...process.env, ...recording(file) }, timeout: 50_000 },
        (error, out) => (error ? reject(error) : resolve(out)),
      );
    });
    expect(stdout).toMatch(/^lb-provisioner \S+ \(provider API v\d+/);
    const modules = loadedModules(file);
    expect(fromPackage(modules, "commander").length).toBeGreaterThan(0);
    expect(fromPackage(modules, "@kubernetes/client-node")).toEqual([]);
    expect(modules.filter((url) => url.includes("/providers/fake/") || url.includes("/providers/aws/"))).toEqual([]);
    expect(awsSdk(modules)).toEqual([]);
  });

  it("`run --provider fake` serving a real cluster loads the fake provider and no AWS SDK or client library", async () => {
    const file = join(work, "run.txt");
    const controller = await startController({
      name: "lazy-loading",
      args: ["--provider", "fake", "--kubeconfig", controlPlane.kubeconfigPath(), "--leader-elect=false"],
      env: recording(file),
    });
    try {
      const base = await controller.endpoint("/readyz");
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200 || undefined, {
        description: "the controller's caches to sync (/readyz 200)",
      });
    } finally {
      await controller.process.stop();
    }
    expect(controller.process.exit).toEqual({ code: 0, signal: null });
    const modules = loadedModules(file);
    expect(modules.some((url) => url.endsWith("/src/kube/api-client.ts"))).toBe(true);
    expect(fromPackage(modules, "@kubernetes/client-node")).toEqual([]);
    expect(fromPackage(modules, "undici")).toEqual([]);
    expect(modules.some((url) => url.endsWith("/providers/fake/index.ts"))).toBe(true);
    expect(awsSdk(modules)).toEqual([]);
  });
});
