/**
 * Compiles the measured controller process to JavaScript with the project's own compiler settings,
 * into `bench/results/.build/` (ignored by git; inside the checkout so `node_modules` resolves).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BUILD_DIR = fileURLToPath(new URL("../results/.build/", import.meta.url));

/** Compiles `bench/memory/controller-process.ts` and what it imports; resolves with the `.js` entry point. */
export async function compileControllerProcess(): Promise<string> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const tsconfig = join(BUILD_DIR, "tsconfig.json");
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: "../../../tsconfig.json",
      compilerOptions: { noEmit: false, outDir: ".", rootDir: "../../..", declaration: false, sourceMap: false },
      include: [],
      files: ["../../memory/controller-process.ts"],
    }),
  );
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, "-p", tsconfig], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", resolve);
  });
  if (code !== 0) throw new Error(`compiling the controller process failed (tsc exit ${code})`);
  return join(BUILD_DIR, "bench", "memory", "controller-process.js");
}
