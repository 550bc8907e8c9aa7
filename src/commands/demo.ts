/**
 * `lb-provisioner demo` (`npm run demo`): the product end to end on this machine, with no cluster and no
 * cloud account — an embedded kube-apiserver + etcd, the seed scenario, and the controller with the local
 * provider, whose load balancer carries real requests to node stand-ins on loopback; or the fake provider,
 * `--provider aws` against moto / `AWS_ENDPOINT_URL`, or any plugin (`--provider <module path or package
 * name>`, with `--provider-config`). Exits 0 leaving nothing behind.
 *
 * The scenario and the embedded environment live in the top-level `sandbox/` module, imported only when
 * the demo runs: no other command loads it, and an installation without it (the container image ships
 * only what `run` needs) says so in one line.
 *
 * @module
 */
import { Command, Option } from "commander";
import { ConfigError, loadConfig } from "../config/index.ts";
import { LOG_LEVELS } from "../observability/log-levels.ts";
import { addSettingOptions } from "./setting-options.ts";

/** `local`, `fake`, `aws` (against an emulator the demo starts), or any specifier `run --provider` takes. */
export type DemoProvider = string;

/** The demo is not installed here; the message says where to run it instead. */
export class DemoUnavailableError extends Error {
  override readonly name = "DemoUnavailableError";
}

/** The sandbox's demo module; only a missing sandbox itself (not a missing dependency of it) is explained. */
async function importSandbox() {
  try {
    return await import("../../sandbox/demo/index.ts");
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (code !== "ERR_MODULE_NOT_FOUND" || !String(message).includes("sandbox/demo/index.")) throw error;
    throw new DemoUnavailableError(
      "the demo is not part of this installation (the container image ships only what `run` needs); run it from a checkout of the project with `npm run demo`, or from the npm package with `npx lb-provisioner demo`",
      { cause: error },
    );
  }
}

interface DemoFlags {
  readonly provider: DemoProvider;
  readonly providerConfig?: readonly string[];
  readonly keep: boolean;
  readonly clusterName: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

/**
 * The provider's `--provider-config` settings (or `LBP_PROVIDER_CONFIG`), parsed as `run` parses them.
 * The aws demo configures its provider against the emulator it starts, so settings for it are refused
 * rather than ignored.
 */
function demoProviderSettings(flags: DemoFlags): Readonly<Record<string, string>> {
  const aws = flags.provider === "aws";
  // For aws, `run` would add region and endpoint from the AWS variables; only the pairs given count here.
  const { providerSettings } = loadConfig({
    provider: aws ? "fake" : flags.provider,
    ...(flags.providerConfig !== undefined && { providerConfig: flags.providerConfig }),
  });
  if (aws && Object.keys(providerSettings).length > 0) {
    throw new ConfigError(
      "--provider-config",
      "--provider-config: the aws demo configures its provider against the emulator it starts; drop the settings, or set AWS_ENDPOINT_URL to use another emulator",
    );
  }
  return providerSettings;
}

/**
 * Creates the provider once, and closes it, before anything starts, as `run` creates it: a wrong
 * `--provider` or a setting the provider refuses is one line and exit 64, not a failed step after the
 * cluster is up. The aws provider needs the emulator the demo starts, and gets the demo's settings.
 */
async function checkProvider(flags: DemoFlags, settings: Readonly<Record<string, string>>): Promise<void> {
  if (flags.provider === "aws") return;
  const { loadProvider } = await import("../../providers/index.ts");
  const { providerConfigError } = await import("../composition.ts");
  const { createLogger } = await import("../observability/logger.ts");
  const logger = createLogger("silent", process.stderr);
  try {
    const provider = await loadProvider(flags.provider, { clusterName: flags.clusterName, logger, settings });
    await provider.close?.();
  } catch (error) {
    throw providerConfigError(error);
  }
}

export function demoCommand(): Command {
  const command = new Command("demo")
    .description(
      "run the seed scenario end to end on an embedded kube-apiserver + etcd: a NodePort Service switched to " +
        "LoadBalancer, requests through it, a node added, a node stopped, the Service deleted; then stop everything",
    )
    .option(
      "--provider <name>",
      "provider to demonstrate: local (real requests through this process), fake, aws (against an AWS emulator the demo starts), or a plugin's module path or package name",
      "local",
    )
    .option("--keep", "leave the cluster running after the fourth node, until Ctrl-C", false)
    .option("--cluster-name <name>", "cluster name the provider scopes its resources to", "demo")
    .addOption(
      new Option("--log-level <level>", "controller log lines on stderr").choices(LOG_LEVELS).default("silent"),
    );
  addSettingOptions(command, ["--provider-config"]);
  return command.action(async (flags: DemoFlags) => {
    const settings = demoProviderSettings(flags);
    await checkProvider(flags, settings);
    const { demoParts, runDemo, wasReported } = await importSandbox();
    const { createLogger } = await import("../observability/logger.ts");
    const logger = createLogger(flags.logLevel, process.stderr);
    const interrupted = new AbortController();
    let keepUntil: () => void = () => {};
    const kept = new Promise<void>((resolve) => {
      keepUntil = resolve;
    });
    // The first Ctrl-C ends a kept demo (or aborts a running one) and still cleans up; a second one exits.
    const onSignal = (): void => {
      if (interrupted.signal.aborted) process.exit(130);
      if (flags.keep) keepUntil();
      else interrupted.abort(new Error("interrupted"));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      process.stdout.write(`lb-provisioner demo: embedded kube-apiserver + etcd, ${flags.provider} provider\n\n`);
      await runDemo(demoParts(flags.provider, logger, settings), {
        out: process.stdout,
        clusterName: flags.clusterName,
        keep: flags.keep,
        keepUntil: kept,
        signal: interrupted.signal,
        ...(flags.provider === "aws" ? { stepTimeoutMs: 120_000 } : {}),
      });
      process.stdout.write("Done: everything the demo started is stopped and removed.\n");
    } catch (error) {
      // The failed step already printed its one line; repeat it only when no step was running.
      process.exitCode = 1;
      if (!wasReported(error)) {
        process.stderr.write(`lb-provisioner: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  });
}
