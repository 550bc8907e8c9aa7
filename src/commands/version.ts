/**
 * `lb-provisioner version`: the package version, the provider interface version plugins are built
 * against, and the Node.js runtime.
 *
 * @module
 */
import { Command } from "commander";
import { PROVIDER_API_VERSION } from "../../providers/types.ts";
import { VERSION } from "../version.ts";

export function versionCommand(): Command {
  return new Command("version")
    .description("print the version, the provider API version and the Node.js version")
    .option("--json", "print one JSON object")
    .action((options: { json?: boolean }) => {
      const info = { version: VERSION, providerApiVersion: PROVIDER_API_VERSION, node: process.version };
      process.stdout.write(
        options.json
          ? `${JSON.stringify(info)}\n`
          : `lb-provisioner ${info.version} (provider API v${info.providerApiVersion}, node ${info.node})\n`,
      );
    });
}
