/**
 * A provider plugin author's loop, from the package as it is published: this checkout packed with
 * `npm pack` (which builds it), installed with the provider template into a scratch directory outside
 * the repository, the template's conformance suite run with vitest there and its build type-checked
 * against the package's declarations; the same tarball installed globally (`npm install -g`), whose
 * `lb-provisioner run --provider <the template's package>` finds the plugin from the author's directory
 * and addresses the seed Service on a real kube-apiserver; and `lb-provisioner demo --provider <the
 * template's source>` from the author's install.
 *
 * npm installs from its cache when it can (`--prefer-offline`): the suite's own `npm ci` filled it.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFORMANCE_CASES } from "../../providers/conformance/index.ts";
import { launchProcess } from "../../sandbox/child-process.ts";
import { importWithout } from "../harness/hide-package.ts";
import { createNodes, seedNodes, seedService, waitFor, withControlPlane } from "../harness/index.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const TEMPLATE = join(repo, "examples", "provider-template");
/** What `npm pack` must not see of the checkout: installs, builds, history, earlier packs. */
const NOT_PACKED_FROM = new Set(["node_modules", "dist", ".git", ".lbp-tmp"]);
const nodeBin = dirname(process.execPath);

interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of every child: this Node first on PATH (npm and the bin's shebang find it), npm
 * quiet and offline-first, and none of this test run's vitest variables, which would confuse the
 * template's own vitest.
 */
function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("VITEST") && key !== "NODE_OPTIONS" && key !== "NODE_ENV") env[key] = value;
  }
  return {
    ...env,
    PATH: `${nodeBin}:${process.env.PATH ?? ""}`,
    npm_config_prefer_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    NO_COLOR: "1",
    ...extra,
  };
}

function run(command: string, args: readonly string[], cwd: string, env = childEnv()): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function succeed(command: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv) {
  const finished = await run(command, args, cwd, env);
  expect(
    finished.code,
    `${basename(command)} ${args.join(" ")} in ${cwd}:\n${finished.stdout}\n${finished.stderr}`,
  ).toBe(0);
  return finished;
}

// From PATH: a Node installed from its npm package (scripts/ensure-node.sh) has no npm beside it.
const npm = "npm";
const npx = "npx";

interface PackedFile {
  readonly path: string;
}

describe("the plugin author's loop, from the packed package", () => {
  const scratch = mkdtempSync(join(tmpdir(), "lbp-author-loop-"));
  const app = join(scratch, "my-provider");
  const globalPrefix = join(scratch, "global");
  const controlPlane = withControlPlane();
  let packed: readonly string[] = [];
  let manifest: { exports: Record<string, string>; bin: Record<string, string> };
  let templateName = "";

  beforeAll(async () => {
    // Pack a copy of this checkout, so the build `npm pack` runs first never touches the checkout's dist/.
    const stage = join(scratch, "stage");
    cpSync(repo, stage, {
      recursive: true,
      filter: (source) => !NOT_PACKED_FROM.has(basename(source)) && !source.endsWith(".tgz"),
    });
    symlinkSync(join(repo, "node_modules"), join(stage, "node_modules"));
    const pack = await succeed(npm, ["pack", "--json", "--pack-destination", scratch], stage);
    const [result] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as {
      filename: string;
      files: PackedFile[];
    }[];
    if (result === undefined) throw new Error(`npm pack printed no result: ${pack.stdout}`);
    packed = result.files.map((file) => file.path);
    manifest = JSON.parse(readFileSync(join(stage, "package.json"), "utf8"));
    const tarball = join(scratch, result.filename);

    // The template as an author copies it, depending on the packed package instead of a registry's.
    cpSync(TEMPLATE, app, { recursive: true, filter: (source) => !NOT_PACKED_FROM.has(basename(source)) });
    const template = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    templateName = template.name;
    template.devDependencies["lb-provisioner"] = `file:${tarball}`;
    writeFileSync(join(app, "package.json"), JSON.stringify(template, null, 2));
    await Promise.all([
      succeed(npm, ["install"], app),
      succeed(npm, ["install", "--global", "--prefix", globalPrefix, tarball], scratch),
    ]);
    // A build and two installs: about a minute on an idle machine, several on a busy one.
  }, 600_000);

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it("packs the build of every entry point, with type declarations, and nothing a consumer does not need", () => {
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (target.endsWith(".json")) continue;
      const path = target.replace(/^\.\//, "");
      expect(packed, `exports["${entry}"]`).toContain(path);
      expect(packed, `declarations of exports["${entry}"]`).toContain(path.replace(/\.js$/, ".d.ts"));
    }
    for (const bin of Object.values(manifest.bin)) expect(packed).toContain(bin);
    const unexpected = packed.filter(
      (path) =>
        !["package.json", "README.md"].includes(path) &&
        !path.startsWith("scripts/") &&
        !(path.startsWith("dist/") && (path.endsWith(".js") || path.endsWith(".d.ts"))),
    );
    expect(unexpected, "files outside the build, the provisioning scripts, package.json and README.md").toEqual([]);
    expect(packed.filter((path) => /\.test\.|\/test\/|\/bench\/|\/examples\//.test(path))).toEqual([]);
    // The demo runs from an install: the sandbox is part of the build, with the scripts it runs.
    expect(packed).toContain("dist/sandbox/demo/index.js");
    expect(packed).toContain("scripts/ensure-control-plane.sh");
  });

  it("imports lb-provisioner/providers there, and needs vitest only for the conformance entry point", async () => {
    await succeed(process.execPath, ["-e", 'import("lb-provisioner/providers")'], app);
    const providers = importWithout("vitest", "lb-provisioner/providers", app);
    expect(providers.status, providers.stderr).toBe(0);
    const conformance = importWithout("vitest", "lb-provisioner/providers/conformance", app);
    expect(conformance.stderr).toContain("vitest is not installed");
  });

  it("runs `npx lb-provisioner --help` there", async () => {
    const help = await succeed(npx, ["--no-install", "lb-provisioner", "--help"], app);
    expect(help.stdout).toMatch(/^Usage: lb-provisioner /);
    expect(help.stdout).toContain("demo");
  });

  it("passes the template's conformance suite with vitest there, skipping nothing", async () => {
    const report = join(scratch, "conformance.json");
    await succeed(npx, ["--no-install", "vitest", "run", "--reporter=json", `--outputFile=${report}`], app);
    const result = JSON.parse(readFileSync(report, "utf8")) as Record<string, number>;
    expect({
      passed: result.numPassedTests,
      failed: result.numFailedTests,
      skipped: (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0),
    }).toEqual({ passed: CONFORMANCE_CASES.length, failed: 0, skipped: 0 });
  });

  it("builds the template against the package's type declarations", async () => {
    await succeed(npm, ["run", "build"], app);
    expect(existsSync(join(app, "dist", "index.js"))).toBe(true);
    expect(existsSync(join(app, "dist", "index.d.ts"))).toBe(true);
  });

  it("runs the globally installed controller with the template as its provider, by package name, and the seed Service gets its address", async () => {
    if (!existsSync(join(app, "dist", "index.js"))) await succeed(npm, ["run", "build"], app);
    const core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
    await createNodes(core, seedNodes());
    await core.createNamespacedService({ namespace: "default", body: seedService({ type: "LoadBalancer" }) });
    const bin = join(globalPrefix, "bin", "lb-provisioner");
    const controller = await launchProcess({
      name: "lb-provisioner-global",
      executable: bin,
      args: [
        "run",
        ...["--provider", templateName, "--cluster-name", "author-loop", "--kubeconfig", controlPlane.kubeconfigPath()],
        ...["--leader-elect=false", "--metrics-bind-address", "0", "--health-probe-bind-address", "0"],
      ],
      cwd: app,
      logPath: join(scratch, "run.log"),
      env: childEnv() as Record<string, string>,
    });
    try {
      const hostname = await waitFor(
        async () => {
          if (controller.exit) throw new Error(`it exited: ${readFileSync(join(scratch, "run.log"), "utf8")}`);
          const service: V1Service = await core.readNamespacedService({ namespace: "default", name: "myapp-service" });
          return service.status?.loadBalancer?.ingress?.[0]?.hostname;
        },
        { description: "the seed Service to be addressed by the template", timeoutMs: 60_000 },
      );
      expect(hostname).toMatch(/^lbp-[0-9a-f]{24}\.lb\.example\.invalid$/);
    } finally {
      await controller.stop(5_000);
    }
  });

  it("runs the demo there with the template as its provider, by module path", async () => {
    const demo = await succeed(
      join(app, "node_modules", ".bin", "lb-provisioner"),
      ["demo", "--provider", "./src/index.ts"],
      app,
    );
    expect(demo.stdout).toContain("Start the provider: template, loaded from ./src/index.ts");
    expect(demo.stdout).toMatch(/Wait for the load balancer: address lbp-[0-9a-f]{24}\.lb\.example\.invalid/);
    expect(demo.stdout).toContain("Wait for the new target: node-4 192.168.1.5:30008");
    expect(demo.stdout).toContain("Done: everything the demo started is stopped and removed.");
  });
});
