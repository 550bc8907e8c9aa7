/**
 * helm for the chart's tests: built once from Go modules by `scripts/ensure-helm.sh` into a
 * per-version cache (or `$LBP_HELM`), provisioned by the integration tier's global setup.
 *
 * @module
 */
import { type LineLogger, runProjectScript, stderrLogger } from "../../sandbox/project-scripts.ts";

declare module "vitest" {
  interface ProvidedContext {
    /** Path of the helm executable, from the integration tier's global setup. */
    helm: string;
  }
}

/** The path of a helm executable; builds it the first time (minutes, with progress lines). */
export function ensureHelm(logger: LineLogger = stderrLogger): Promise<string> {
  return runProjectScript("ensure-helm.sh", logger);
}
