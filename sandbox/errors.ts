/**
 * The one error the embedded launchers throw on purpose. Its message is a single line that says what
 * went wrong and what to do about it (install Go, set a variable, read a log file), because it is shown
 * as-is by the CLI and at the top of a failed test run, where a stack trace helps nobody.
 *
 * @module
 */

/** Starting an embedded kube-apiserver, etcd or AWS emulator failed; `message` is one actionable line. */
export class EmbeddedSetupError extends Error {
  override readonly name = "EmbeddedSetupError";
  constructor(message: string, options?: ErrorOptions) {
    super(oneLine(message), options);
  }
}

/** Collapses whitespace runs (including newlines from a child's log) so the message stays one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
