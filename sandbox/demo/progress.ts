/**
 * Shows the demo's steps as they happen: a spinner line per running step on a terminal, and one plain
 * line per finished step otherwise (CI logs, pipes, `docs/demo-output.txt`). Hand-rolled ANSI, because a
 * spinner is a dozen lines and the output must stay byte-for-byte predictable when it is not a TTY.
 *
 * @module
 */
import type { Writable } from "node:stream";

/** Where a step's progress goes. */
export interface Progress {
  /**
   * Runs `work` while showing `title`, then prints it as done with `describe(result)` as detail (or as
   * failed with the error's message, rethrowing the error).
   */
  step<T>(title: string, work: () => Promise<T>, describe?: (result: T) => string): Promise<T>;
  /** A line of its own, between steps (e.g. a heading or a hint). */
  line(text: string): void;
  /**
   * A passing remark from inside the running step (e.g. "building kube-apiserver, several minutes"):
   * shown next to the spinner on a terminal, as an indented line otherwise — unless `transient`, for
   * chatter (ports, pids) that only makes sense while watching.
   */
  note(text: string, options?: { readonly transient?: boolean }): void;
  /** Stops any spinner; safe to call more than once. */
  close(): void;
}

export interface ProgressOptions {
  /** Spinner and colours; defaults to whether `out` is a TTY. */
  readonly interactive?: boolean;
  /** Colours on an interactive stream unless `NO_COLOR` is set. */
  readonly color?: boolean;
  /** Clock, for deterministic tests. */
  readonly now?: () => number;
}

const reported = new WeakSet<object>();

/** Whether a step already printed this error as its failure line, so nobody prints it twice. */
export function wasReported(error: unknown): boolean {
  return typeof error === "object" && error !== null && reported.has(error);
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_MS = 80;

/** A {@link Progress} writing to `out`. */
export function createProgress(
  out: Writable & { isTTY?: boolean; columns?: number },
  options: ProgressOptions = {},
): Progress {
  const interactive = options.interactive ?? out.isTTY === true;
  const color = interactive && (options.color ?? process.env.NO_COLOR === undefined);
  const now = options.now ?? performance.now.bind(performance);
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  let spinner: NodeJS.Timeout | undefined;
  let remark = "";

  const stopSpinner = () => {
    if (spinner === undefined) return;
    clearInterval(spinner);
    spinner = undefined;
    out.write("\r\u001b[K");
  };

  return {
    async step(title, work, describe) {
      const started = now();
      remark = "";
      if (interactive) {
        let frame = 0;
        const draw = () => {
          const elapsed = formatSeconds(now() - started);
          // A spinner line that wraps can no longer be redrawn in place: keep it within the terminal.
          const room = (out.columns ?? 80) - title.length - elapsed.length - 5;
          const fitted = remark.length <= room ? remark : `${remark.slice(0, Math.max(0, room - 1))}…`;
          const aside = fitted === "" || room <= 1 ? "" : ` ${paint("2", fitted)}`;
          out.write(
            `\r\u001b[K${paint("36", FRAMES[frame % FRAMES.length] ?? "-")} ${title} ${paint("2", elapsed)}${aside}`,
          );
          frame += 1;
        };
        draw();
        spinner = setInterval(draw, FRAME_MS);
        spinner.unref();
      }
      try {
        const result = await work();
        stopSpinner();
        const detail = describe?.(result) ?? "";
        out.write(
          `${paint("32", "✔")} ${title}${detail === "" ? "" : `: ${detail}`} ${paint("2", `(${formatSeconds(now() - started)})`)}\n`,
        );
        return result;
      } catch (error) {
        stopSpinner();
        out.write(`${paint("31", "✖")} ${title}: ${error instanceof Error ? error.message : String(error)}\n`);
        if (typeof error === "object" && error !== null) reported.add(error);
        throw error;
      }
    },
    line(text) {
      stopSpinner();
      out.write(`${text}\n`);
    },
    note(text, noteOptions) {
      if (interactive) remark = text;
      else if (!noteOptions?.transient) out.write(`  ${text}\n`);
    },
    close: stopSpinner,
  };
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
