/**
 * The container image's runtime layout works: the Dockerfile's stages replayed with plain npm and node
 * commands (no Docker engine here) build the project, keep only production dependencies and what `run`
 * needs (no sandbox, no provisioning scripts), and the entrypoint starts as the image's non-root user.
 */
import { accessSync, chmodSync, constants, existsSync, mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type ReplayedStage, replayDockerfile, runEntrypoint } from "../harness/dockerfile-replay.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const BUILD_TIMEOUT_MS = 900_000;
/** The stages hold two node_modules trees and a build: about 0.5 GB at most. */
const STAGES_BYTES = 1024 ** 3;

/**
 * Where the stage roots go: a memory filesystem when there is room, because writing the build stage's
 * node_modules (npm ci, then the runtime stage's copy) to disk was most of this test's time on a busy
 * machine. The steps and what they produce are the same on either.
 */
function stagesParent(): string {
  const memory = "/dev/shm";
  try {
    accessSync(memory, constants.W_OK);
    const { bavail, bsize } = statfsSync(memory);
    if (bavail * bsize >= STAGES_BYTES) return memory;
  } catch {
    // no /dev/shm here: use the temporary directory
  }
  return tmpdir();
}

/** A fresh directory every user can enter (the entrypoint runs as the image's non-root user). */
function sharedTempDir(parent: string, prefix: string): string {
  const dir = mkdtempSync(join(parent, prefix));
  chmodSync(dir, 0o755);
  return dir;
}

describe("container image", () => {
  const work = sharedTempDir(stagesParent(), "lbp-image-");
  // On the disk that holds this process's node, which runEntrypoint links into it rather than copies.
  const home = sharedTempDir(tmpdir(), "lbp-image-home-");
  afterAll(() => {
    for (const dir of [work, home]) rmSync(dir, { recursive: true, force: true });
  });

  it(
    "starts `lb-provisioner --help` as a non-root user with production dependencies and no sandbox",
    async () => {
      const stages = await replayDockerfile(join(repo, "Dockerfile"), {
        contextDir: repo,
        workDir: join(work, "stages"),
        // The lockfile's packages are in npm's cache after the suite's own `npm ci`.
        runEnv: { npm_config_prefer_offline: "true", npm_config_update_notifier: "false" },
      });
      const image = stages.at(-1) as ReplayedStage;
      expect(stages.length).toBeGreaterThan(1);
      expect(image.user).toMatch(/^(65532(:65532)?|node)$/);
      expect(image.entrypoint).toEqual(["node", "dist/src/cli.js"]);

      const app = join(image.root, image.workdir);
      expect(existsSync(join(app, "node_modules/@kubernetes/client-node/package.json"))).toBe(true);
      expect(existsSync(join(app, "node_modules/typescript"))).toBe(false);
      expect(existsSync(join(app, "node_modules/vitest"))).toBe(false);
      expect(existsSync(join(app, "src"))).toBe(false);
      expect(existsSync(join(app, "dist/src/cli.js"))).toBe(true);
      expect(existsSync(join(app, "dist/providers/aws/index.js"))).toBe(true);
      expect(existsSync(join(app, "dist/sandbox"))).toBe(false);
      expect(existsSync(join(app, "scripts"))).toBe(false);

      const result = await runEntrypoint(image, ["--help"], home);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("lb-provisioner");
      expect(result.stdout).toMatch(/Usage:/);

      // The demo is not in the image: one line saying where to run it, not a stack trace.
      const demo = await runEntrypoint(image, ["demo"], home);
      expect(demo.code).toBe(1);
      expect(demo.stdout).toBe("");
      expect(demo.stderr).toMatch(/^lb-provisioner: the demo is not part of this installation .*npm run demo.*\n$/);
    },
    BUILD_TIMEOUT_MS,
  );
});
