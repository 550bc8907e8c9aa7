import { type DestinationStream, type LevelWithSilent, type Logger, pino } from "pino";

export { LOG_LEVELS } from "./log-levels.ts";
export type { Logger };

/**
 * Paths redacted from every log line wherever they appear, so that a credential passed by mistake in a
 * logged object (a kubeconfig user, an AWS client config, an HTTP header) never reaches the output.
 */
const REDACTED_PATHS = [
  "token",
  "*.token",
  "password",
  "*.password",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "headers.Authorization",
  "*.headers.authorization",
  "*.headers.Authorization",
  "secret",
  "*.secret",
  "apiKey",
  "*.apiKey",
  // Provider settings may carry a plugin's credentials; only their keys are logged (see app.ts).
  "providerSettings",
  "*.providerSettings",
  "settings",
  "*.settings",
  "credentials",
  "*.credentials",
  "secretAccessKey",
  "*.secretAccessKey",
  "sessionToken",
  "*.sessionToken",
  "accessKeyId",
  "*.accessKeyId",
];

/**
 * Lines a provider logs about one Service name it `service` (the provider's own vocabulary); give them
 * the controller's `key` too, so one `key` filter follows a Service through its whole reconcile.
 */
function keyFromService(mergeObject: object, _level: number, logger: Logger): object {
  const bindings = logger.bindings();
  if ("key" in mergeObject || bindings.key !== undefined) return {};
  const service = (mergeObject as { service?: unknown }).service ?? bindings.service;
  return typeof service === "string" && service.includes("/") ? { key: service } : {};
}

/**
 * The process logger: JSON lines on stdout (pino, written asynchronously), one object per line, `key` bound by the reconciler
 * on every line it logs for a Service. `destination` is for tests that read the lines back.
 */
export function createLogger(level: LevelWithSilent = "info", destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { name: "lb-provisioner" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    mixin: keyFromService,
    formatters: { level: (label) => ({ level: label }) },
  };
  // Written without blocking the event loop: a reconcile does not wait for its log line to reach the
  // disk or the pipe. Lines still go out as they come (no batching threshold), and pino flushes what
  // is pending when the process exits; only a SIGKILL mid-write can lose the line being written.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}
