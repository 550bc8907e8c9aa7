/**
 * `lb-provisioner status`: a table of the Services the controller manages.
 *
 * @module
 */
import { Command, Option } from "commander";
import { type FlagValues, loadConfig } from "../config.ts";
import { renderTable } from "../demo/table.ts";
import { connectOperator, FAKE_PROVIDER_NOTE, OPERATOR_FLAGS } from "../plan/connect.ts";
import { formatAge, runStatus, type ServiceStatusRow } from "../plan/service-status.ts";
import { addSettingOptions } from "./setting-options.ts";

const HEADERS = ["SERVICE", "ADDRESS", "PROVIDER", "LISTENERS", "TARGETS", "LAST RESULT", "AGE"];

/** Pure: the table `status` prints, ages taken relative to `now`. */
export function renderStatusTable(rows: readonly ServiceStatusRow[], now: Date): string {
  if (rows.length === 0) return "No Services managed by this controller.\n";
  return renderTable(
    HEADERS,
    rows.map((row) => [
      row.service,
      row.address || "<pending>",
      row.provider,
      row.listeners,
      row.targets === undefined ? "-" : String(row.targets),
      row.lastResult || "-",
      row.lastResultAt === undefined ? "-" : formatAge(now.getTime() - row.lastResultAt.getTime()),
    ]),
  );
}

export function statusCommand(): Command {
  const command = new Command("status")
    .description("list the Services the controller manages: address, listeners, targets, last result and its age")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"));
  addSettingOptions(command, OPERATOR_FLAGS);
  return command.action(async (flags: FlagValues & { output: string }) => {
    const config = loadConfig(flags);
    if (config.provider === "fake") process.stderr.write(`${FAKE_PROVIDER_NOTE}\n`);
    const deps = await connectOperator(config);
    try {
      const rows = await runStatus(deps);
      process.stdout.write(
        flags.output === "json" ? `${JSON.stringify(rows, null, 2)}\n` : renderStatusTable(rows, new Date()),
      );
    } finally {
      await deps.provider.close?.();
    }
  });
}
