/**
 * The process exit codes of every command, and the one place an error becomes one: whatever a command
 * throws reaches {@link exitCodeFor} in `cli.ts`, so the same bad configuration exits the same way from
 * `run`, `plan`, `status` and `gc`.
 *
 * @module
 */
import { CommanderError } from "commander";
import { ConfigError } from "./config/index.ts";

/** Success, `--help`, and `run` stopped on request. */
export const EXIT_OK = 0;
/** A runtime failure, including a lost leader Lease. */
export const EXIT_FAILURE = 1;
/** `plan`: changes pending, or a Service that cannot be built. */
export const EXIT_CHANGES_PENDING = 2;
/**
 * Bad usage or configuration (sysexits `EX_USAGE`): an unknown flag or command, a malformed value, a
 * missing `--provider`, a kubeconfig that cannot be found, a provider module that cannot be loaded.
 * Kept apart from `plan`'s 2 so CI can tell a broken invocation from pending changes.
 */
export const EXIT_USAGE = 64;

/** Whether `error` is the operator's to fix by changing flags or environment. */
export function isUsageError(error: unknown): boolean {
  return error instanceof ConfigError || (error instanceof CommanderError && error.exitCode !== 0);
}

/** The exit code for what a command threw. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError && error.exitCode === 0) return EXIT_OK;
  return isUsageError(error) ? EXIT_USAGE : EXIT_FAILURE;
}
