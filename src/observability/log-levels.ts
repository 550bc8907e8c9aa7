/**
 * The levels `--log-level` accepts, apart from the logger itself so that declaring the flag (every
 * command's help) does not load the logging library.
 *
 * @module
 */
import type { LevelWithSilent } from "pino";

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS: readonly LevelWithSilent[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
