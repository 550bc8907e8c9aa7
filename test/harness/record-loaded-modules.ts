/**
 * Preloaded into a CLI process (`node --import <this file>`) to record every module it loads — ES
 * modules, CommonJS files and `node:` builtins alike — and write their URLs, one per line, to the file
 * named by `LBP_LOADED_MODULES_FILE` when the process exits. Tests read it to check what a command
 * really loads, not what its source appears to import.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const output = process.env.LBP_LOADED_MODULES_FILE;
if (!output) throw new Error("record-loaded-modules: set LBP_LOADED_MODULES_FILE to the file to write");

const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on("exit", () => writeFileSync(output, [...loaded].join("\n")));
