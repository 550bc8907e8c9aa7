/**
 * The container image's runtime layout works: the Dockerfile's stages replayed with plain npm and node
 * commands (no Docker engine here) build the project, keep only production dependencies, and the
 * entrypoint starts as the image's non-root user and prints `lb-provisioner --help`.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type ReplayedStage, replayDockerfile, runEntrypoint } from "../harness/dockerfile-replay.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const BUILD_TIMEOUT_MS = 900_000;

describe("container image", () => {
  const work = mkdtempSync(join(tmpdir(), "lbp-image-"));
  chmodSync(work, 0o755);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(
    "starts `lb-provisioner --help` as a non-root user with production dependencies only",
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

      const home = mkdtempSync(join(work, "home-"));
      const result = await runEntrypoint(image, ["--help"], home);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("lb-provisioner");
      expect(result.stdout).toMatch(/Usage:/);
    },
    BUILD_TIMEOUT_MS,
  );
});
