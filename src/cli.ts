#!/usr/bin/env node
/**
 * The `lb-provisioner` command line. Each subcommand is defined in its own module under `commands/` and
 * registered in {@link COMMANDS}; adding one is one import and one entry there. A definition holds only
 * the command's flags and help: its action imports the code that does the work when the command runs,
 * so `--help` and `version` load neither the Kubernetes client nor any provider, and `run` loads only the
 * provider it is given.
 *
 * Exit codes (`exit-codes.ts`): 0 success (and `--help`), 1 runtime failure (including a lost leader
 * Lease), 2 `plan` with changes pending, 64 bad usage or configuration (one line on stderr naming the
 * flag), the same for every command.
 *
 * @module
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { demoCommand } from "./commands/demo.ts";
import { gcCommand } from "./commands/gc.ts";
import { planCommand } from "./commands/plan.ts";
import { runCommand } from "./commands/run.ts";
import { statusCommand } from "./commands/status.ts";
import { versionCommand } from "./commands/version.ts";
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from "./exit-codes.ts";
import { VERSION } from "./version.ts";

/** Subcommand factories, in help order. */
const COMMANDS: readonly (() => Command)[] = [
  runCommand,
  demoCommand,
  planCommand,
  statusCommand,
  gcCommand,
  versionCommand,
];

/** Commander settings are not inherited through `addCommand`, so apply them down the tree. */
function applyDeep(command: Command, configure: (command: Command) => void): void {
  configure(command);
  for (const child of command.commands) applyDeep(child, configure);
}

/** The program with every subcommand, parsing without ever calling `process.exit` itself. */
export function buildProgram(): Command {
  const program = new Command("lb-provisioner")
    .description("Provisions cloud load balancers for Kubernetes Services of type LoadBalancer.")
    .version(VERSION, "-v, --version", "print the version")
    .helpCommand(true);
  for (const create of COMMANDS) program.addCommand(create());
  applyDeep(program, (command) => {
    command.exitOverride();
    command.helpOption("-h, --help", "show help");
  });
  return program;
}

/**
 * Parses `argv` (user arguments only, without `node` and the script) and runs the chosen command.
 * Resolves with the process exit code; the command itself may set `process.exitCode` for a runtime
 * outcome (e.g. `run` losing its Lease).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT_OK;
  } catch (error) {
    // Commander has already printed its own one-line message.
    if (!(error instanceof CommanderError)) {
      process.stderr.write(`lb-provisioner: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    return exitCodeFor(error);
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // Exit explicitly: open watches, keep-alive sockets and timers must not keep a finished command alive.
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
