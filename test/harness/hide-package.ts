/**
 * Imports a module in a fresh Node process where one package looks not installed, to prove a module does
 * not need it (e.g. `lb-provisioner/providers` and the optional peer vitest) without uninstalling it.
 *
 * @module
 */
import { spawnSync } from "node:child_process";

/** A `node --import` argument that makes resolving `name`, or any subpath of it, fail as if absent. */
function hiding(name: string): string {
  const hook = `
import { registerHooks } from "node:module";
const name = ${JSON.stringify(name)};
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === name || specifier.startsWith(name + "/")) throw new Error(name + " is not installed");
    return next(specifier, context);
  },
});`;
  return `data:text/javascript,${encodeURIComponent(hook)}`;
}

/** Imports `specifier` (a package name resolved from `cwd`, or a path) in a Node process that cannot see `hidden`. */
export function importWithout(
  hidden: string,
  specifier: string,
  cwd: string = process.cwd(),
): { status: number | null; stderr: string } {
  const result = spawnSync(
    process.execPath,
    ["--import", hiding(hidden), "--input-type=module", "--eval", "await import(process.argv[1]);", specifier],
    { cwd, encoding: "utf8" },
  );
  return { status: result.status, stderr: result.stderr };
}
