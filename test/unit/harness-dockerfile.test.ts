/**
 * The Dockerfile, read statically: two stages, the runtime one non-root with production dependencies
 * only and the CLI as entrypoint. (test/integration/runtime-image.test.ts replays it for real.)
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { imageEnvironment, parseDockerfile } from "../harness/dockerfile-replay.ts";

const dockerfile = readFileSync(fileURLToPath(new URL("../../Dockerfile", import.meta.url)), "utf8");

describe("Dockerfile parsing", () => {
  it("joins continuation lines and drops comments", () => {
    const parsed = parseDockerfile("# c\nFROM a AS b\nRUN one \\\n  && two\n\n# d\nUSER 1\n");
    expect(parsed.map(({ keyword, args }) => [keyword, args])).toEqual([
      ["FROM", "a AS b"],
      ["RUN", "one  && two"],
      ["USER", "1"],
    ]);
  });
});

describe("imageEnvironment", () => {
  it("is the last stage's ENV, quoted values unquoted, later values winning", () => {
    const text = 'FROM a AS build\nENV BUILD_ONLY=1\nFROM b\nENV A=1 B="two words"\nENV A=3\n';
    expect(imageEnvironment(text)).toEqual({ A: "3", B: "two words" });
  });
});

describe("the project's Dockerfile", () => {
  const instructions = parseDockerfile(dockerfile);
  const stages = instructions.filter((instruction) => instruction.keyword === "FROM");
  const runtime = instructions.slice(instructions.lastIndexOf(stages.at(-1) as (typeof stages)[0]));

  it("builds in one stage and runs from a slim Node 24 image in another", () => {
    expect(stages.map((stage) => stage.args)).toEqual(["node:24-slim AS build", "node:24-slim"]);
    const buildSteps = instructions.filter((instruction) => instruction.keyword === "RUN").map((run) => run.args);
    expect(buildSteps.join(" && ")).toMatch(/npm ci .*&& npm run build && npm prune --omit=dev/);
  });

  it("runs with production settings, two malloc arenas, a fixed mmap threshold and a compile cache in /tmp (as docs/benchmarks.md measures it)", () => {
    expect(imageEnvironment(dockerfile)).toEqual({
      NODE_ENV: "production",
      MALLOC_ARENA_MAX: "2",
      MALLOC_MMAP_THRESHOLD_: "131072",
      NODE_COMPILE_CACHE: "/tmp/node-compile-cache",
    });
  });

  it("runs as a non-root user with the CLI as entrypoint and only what `run` needs: no sandbox, no scripts", () => {
    expect(runtime.find((instruction) => instruction.keyword === "USER")?.args).toBe("65532:65532");
    expect(runtime.find((instruction) => instruction.keyword === "ENTRYPOINT")?.args).toBe(
      '["node", "dist/src/cli.js"]',
    );
    expect(runtime.some((instruction) => instruction.keyword === "RUN")).toBe(false);
    const copied = runtime.filter((instruction) => instruction.keyword === "COPY").map((copy) => copy.args);
    expect(copied).toEqual([
      "--from=build /app/package.json ./package.json",
      "--from=build /app/node_modules ./node_modules",
      "--from=build /app/dist/src ./dist/src",
      "--from=build /app/dist/providers ./dist/providers",
    ]);
  });
});
