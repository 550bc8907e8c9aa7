/**
 * Runs the project's provisioning scripts (`scripts/ensure-*.sh`) from TypeScript. The scripts own
 * installing and caching; this module only finds them — from `sandbox/` when run from source and from
 * `dist/sandbox/` when run from a build or an installed package — and turns a failure into
 * one actionable line.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EmbeddedSetupError } from "./errors.ts";

/** Receives progress lines meant for a person (never credentials). */
export type LineLogger = (line: string) => void;

/** Writes to stderr: a first-run build takes minutes and must not look like a hang. */
export const stderrLogger: LineLogger = (line) => {
  process.stderr.write(`${line}\n`);
};

/** Absolute path of `scripts/<fileName>`, searched upwards from this module's directory. */
export function findProjectScript(fileName: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "scripts", fileName);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new EmbeddedSetupError(
        `scripts/${fileName} not found above ${fileURLToPath(import.meta.url)}; run from a checkout or an installed package that includes scripts/`,
      );
    }
    dir = parent;
  }
}

const SCRIPT_MESSAGE_PREFIX = "lb-provisioner: ";
// The scripts' `fail` lines: already one actionable sentence, so they become the error message itself.
const SCRIPT_FAILURE_PREFIX = "lb-provisioner: error: ";

/**
 * Runs `bash scripts/<fileName>` and resolves to the last line it printed on stdout (the scripts print
 * the path they provisioned). Its own progress lines (`lb-provisioner: ...` on stderr) go to `logger`;
 * the rest of stderr (compiler and installer chatter) is kept and, on failure, saved to a log file that
 * the error names.
 */
export async function runProjectScript(fileName: string, logger: LineLogger = stderrLogger): Promise<string> {
  const script = findProjectScript(fileName);
  const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  const stderrLines: string[] = [];
  let partial = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      stderrLines.push(line);
      if (line.startsWith(SCRIPT_MESSAGE_PREFIX) && !line.startsWith(SCRIPT_FAILURE_PREFIX)) logger(line);
    }
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode) => resolve(exitCode ?? 1));
  }).catch((error: unknown) => {
    throw new EmbeddedSetupError(`could not run bash ${script}: ${String(error)}; bash is required`, { cause: error });
  });
  if (partial) stderrLines.push(partial);
  const printed = stdout.trim().split("\n").at(-1)?.trim() ?? "";
  if (code === 0 && printed) return printed;

  const failure = stderrLines.findLast((line) => line.startsWith(SCRIPT_FAILURE_PREFIX));
  if (failure) throw new EmbeddedSetupError(failure.slice(SCRIPT_FAILURE_PREFIX.length));
  const logPath = join(tmpdir(), `lb-provisioner-${basename(fileName, ".sh")}-${process.pid}.log`);
  writeFileSync(logPath, `${stderrLines.join("\n")}\n`);
  // A build or install step failed; its cause is somewhere in the compiler or installer output.
  const lastLine = stderrLines.filter((line) => line.trim()).at(-1) ?? "(no output)";
  const reason = `${fileName} failed (exit ${code}): ${lastLine}`;
  throw new EmbeddedSetupError(`${reason} (full output: ${logPath})`);
}
