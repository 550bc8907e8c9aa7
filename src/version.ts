/**
 * This package's version, read from its own `package.json` so there is one source of truth. Found by
 * walking up from this file, which works both from source (`src/`) and from the build (`dist/src/`).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_NAME = "lb-provisioner";

function readOwnVersion(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === PACKAGE_NAME && typeof manifest.version === "string") return manifest.version;
    } catch {
      // no readable package.json here: keep walking up
    }
    const parent = dirname(directory);
    if (parent === directory) return "0.0.0-unknown";
    directory = parent;
  }
}

/** The package version, e.g. `0.1.0`. */
export const VERSION: string = readOwnVersion();
