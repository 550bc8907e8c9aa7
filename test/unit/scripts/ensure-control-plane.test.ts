/**
 * scripts/ensure-control-plane.sh before any build: which kube-apiserver and etcd it picks
 * ($KUBEBUILDER_ASSETS, binaries on PATH), and the progress line scripts/lib/go-build.sh prints while
 * a build runs. (The build itself runs whenever the integration tier finds no cached binaries.)
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const SCRIPTS = fileURLToPath(new URL("../../../scripts/", import.meta.url));
const whereIs = (tool: string) => spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
const BASH = whereIs("bash");

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "lbp-ensure-cp-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function executable(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, "#!/bin/sh\n");
  chmodSync(path, 0o755);
  return path;
}

function ensure(env: Record<string, string>) {
  const { KUBEBUILDER_ASSETS: _ignored, ...inherited } = process.env;
  return spawnSync(BASH, [join(SCRIPTS, "ensure-control-plane.sh")], {
    encoding: "utf8",
    env: { ...inherited, PATH: "/usr/bin:/bin", LBP_CACHE_DIR: join(root, "cache"), ...env },
  });
}

describe("scripts/ensure-control-plane.sh", () => {
  it("uses KUBEBUILDER_ASSETS when it holds both binaries, and names what is missing otherwise", () => {
    const assets = join(root, "assets");
    executable(assets, "kube-apiserver");
    expect(ensure({ KUBEBUILDER_ASSETS: assets })).toMatchObject({
      status: 1,
      stderr: `lb-provisioner: error: KUBEBUILDER_ASSETS=${assets} must contain executable kube-apiserver and etcd (e.g. the output of 'setup-envtest use')\n`,
    });
    executable(assets, "etcd");
    expect(ensure({ KUBEBUILDER_ASSETS: assets })).toMatchObject({ status: 0, stdout: `${assets}\n`, stderr: "" });
  });

  it("uses kube-apiserver and etcd found on PATH instead of building them", () => {
    const bin = join(root, "bin");
    executable(bin, "kube-apiserver");
    executable(bin, "etcd");
    expect(ensure({ PATH: `${bin}:/usr/bin:/bin` })).toMatchObject({ status: 0, stdout: `${bin}\n`, stderr: "" });
  });

  it("links binaries found in two PATH directories into one directory of the cache", () => {
    const apiserver = executable(join(root, "k8s"), "kube-apiserver");
    const etcd = executable(join(root, "etcd"), "etcd");
    const result = ensure({ PATH: `${join(root, "k8s")}:${join(root, "etcd")}:/usr/bin:/bin` });
    const links = join(root, "cache", "control-plane", "from-path");
    expect(result).toMatchObject({ status: 0, stdout: `${links}\n` });
    expect([readlinkSync(join(links, "kube-apiserver")), readlinkSync(join(links, "etcd"))]).toEqual([apiserver, etcd]);
  });

  it("without Go, binaries or KUBEBUILDER_ASSETS, says every way out in one line", () => {
    // A PATH with only the tools the script uses before it looks for Go, so no machine's Go is found.
    const tools = join(root, "tools");
    mkdirSync(tools);
    for (const tool of ["dirname", "mkdir", "flock"]) {
      const found = whereIs(tool);
      if (found) symlinkSync(found, join(tools, tool));
    }
    const result = ensure({ PATH: tools });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "lb-provisioner: error: building kube-apiserver and etcd needs Go >= 1.24 on PATH; install Go, or put kube-apiserver and etcd on PATH, or set KUBEBUILDER_ASSETS to a directory holding both\n",
    );
  });
});

describe("the progress line of scripts/lib/go-build.sh", () => {
  function describeBuilds(
    state: Record<string, { phase?: string; total?: number; compiled?: readonly string[] }>,
  ): string {
    for (const [name, { phase, total, compiled }] of Object.entries(state)) {
      if (phase) writeFileSync(join(root, `${name}.phase`), `${phase}\n`);
      if (total !== undefined) writeFileSync(join(root, `${name}.total`), `${total}\n`);
      if (compiled) writeFileSync(join(root, `${name}.log`), compiled.map((pkg) => `${pkg}\n`).join(""));
      writeFileSync(join(root, `${name}.package`), "example.com/cmd/main\n");
    }
    const script = `GO_BUILD_WORK="$1"; source "$2"; go_build_describe ${Object.keys(state)
      .map((name) => `"${name}"`)
      .join(" ")}`;
    const result = spawnSync("bash", ["-c", script, "bash", root, join(SCRIPTS, "lib", "go-build.sh")], {
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    return result.stdout.trim();
  }

  it("says what each build is doing and how far it is", () => {
    expect(
      describeBuilds({
        "kube-apiserver v1.37.2": { phase: "compiling", total: 2079, compiled: Array(812).fill("example.com/lib") },
        "etcd v3.6.16": { phase: "resolving modules" },
        helm: {},
      }),
    ).toBe("kube-apiserver v1.37.2 compiling 812 of 2079 packages; etcd v3.6.16 resolving modules; helm waiting");
  });

  it("says linking once the command's own package is compiled, and done at the end", () => {
    expect(
      describeBuilds({
        "kube-apiserver v1.37.2": {
          phase: "compiling",
          total: 3,
          compiled: ["example.com/lib", "example.com/cmd/main"],
        },
        "etcd v3.6.16": { phase: "done" },
      }),
    ).toBe("kube-apiserver v1.37.2 linking; etcd v3.6.16 done");
  });
});
