/**
 * Property tests of every setting an operator types: `run`'s command line as commander parses it, the
 * environment, `resolveConfig` (`src/config/`), the AWS provider's settings, and `plan`'s Service
 * argument. Each input is accepted or rejected with an error naming the flag or setting; never another
 * exception.
 */
import { CommanderError, InvalidArgumentError } from "commander";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AWS_SETTINGS, readAwsSettings } from "../../../providers/aws/index.ts";
import { InvalidConfigurationError } from "../../../providers/errors.ts";
import { parseServiceArgument } from "../../../src/commands/plan.ts";
import { runCommand } from "../../../src/commands/run.ts";
import { ConfigError, resolveConfig, SETTINGS } from "../../../src/config/index.ts";
import {
  annotationValue,
  bindAddressLike,
  durationLike,
  fuzzOptions,
  PROPERTY_TIMEOUT_MS,
  PROTOTYPE_NAMES,
  token,
  urlLike,
} from "./arbitraries.ts";

/** Values shaped like what some setting expects, so most inputs get past the first check. */
const settingValue = fc.oneof(
  durationLike,
  bindAddressLike,
  urlLike,
  fc.integer({ min: -5, max: 2_000 }).map(String),
  fc.constantFrom("true", "false", "1", "0", "TRUE", "yes", "us-east-1", "eu-west-3", "US-EAST-1", "fake", "aws"),
  fc.constantFrom("debug", "info", "silent", "verbose", "kube-system", "example.com/internal-nlb", "a/b/c"),
  annotationValue,
);

const FLAGS = SETTINGS.map((setting) => setting.flag);
const ENV_NAMES = [...new Set(SETTINGS.flatMap((setting) => setting.env))];

const flags = fc
  .array(fc.tuple(fc.constantFrom(...SETTINGS.map((setting) => setting.key)), settingValue), { maxLength: 6 })
  .map((entries) =>
    Object.fromEntries(entries.map(([key, value]) => [key, key === "providerConfig" ? [value] : value])),
  );

const env = fc
  .array(fc.tuple(fc.constantFrom(...ENV_NAMES), settingValue), { maxLength: 6 })
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);

/** A config, or a ConfigError naming a known flag in its message; anything else fails the property. */
function resolveOrNameTheFlag(sources: Parameters<typeof resolveConfig>[0]): void {
  try {
    const config = resolveConfig(sources);
    expect(Object.isFrozen(config)).toBe(true);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    expect(FLAGS).toContain(error.flag);
    expect(error.message).toContain(error.flag);
  }
}

describe("every operator setting (property)", { timeout: PROPERTY_TIMEOUT_MS }, () => {
  it("resolves any flags and environment to a config, or names the flag at fault", () => {
    fc.assert(
      fc.property(flags, env, fc.boolean(), (flagValues, environment, exists) =>
        resolveOrNameTheFlag({ flags: flagValues, env: environment, fileExists: () => exists }),
      ),
      fuzzOptions(),
    );
  });

  it("parses any command line of run, or names the option at fault", () => {
    const argument = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(fc.constantFrom(...FLAGS), settingValue).map(([flag, value]) => `${flag}=${value}`),
      },
      { weight: 2, arbitrary: fc.constantFrom(...FLAGS, "--no-leader-elect") },
      { weight: 2, arbitrary: settingValue },
      { weight: 1, arbitrary: fc.constantFrom("--", "-", "--bogus", "-x", "--cluster-name=", "--leader-elect=maybe") },
    );
    fc.assert(
      fc.property(fc.array(argument, { maxLength: 6 }), env, (argv, environment) => {
        // The real options and checks, without the action (which would start the controller).
        const command = runCommand()
          .action(() => {})
          .exitOverride()
          .configureOutput({ writeErr: () => {}, writeOut: () => {} });
        try {
          command.parse(argv, { from: "user" });
        } catch (error) {
          // Commander's own refusals (unknown option, missing value, extra argument) say what is wrong.
          if (!(error instanceof CommanderError)) throw error;
          expect(error.message.length).toBeGreaterThan(0);
          return;
        }
        resolveOrNameTheFlag({ flags: command.opts(), env: environment, fileExists: () => true });
      }),
      fuzzOptions(),
    );
  });

  it("reads any AWS provider settings, or names the setting at fault", () => {
    const key = fc.oneof(fc.constantFrom(...AWS_SETTINGS), fc.constantFrom(...PROTOTYPE_NAMES), token);
    const value = fc.oneof(
      urlLike,
      fc.constantFrom("us-east-1", "us-gov-west-1", "vpc-0abc", "vpc-XYZ", ""),
      token,
      annotationValue,
    );
    const awsEnv = fc.record(
      { AWS_REGION: value, AWS_DEFAULT_REGION: value, AWS_ENDPOINT_URL: urlLike },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 4 }), awsEnv, (entries, environment) => {
        const settings = Object.fromEntries(entries) as Record<string, string>;
        let read: ReturnType<typeof readAwsSettings>;
        try {
          read = readAwsSettings(settings, environment);
        } catch (error) {
          if (!(error instanceof InvalidConfigurationError)) throw error;
          const named = [...Object.keys(settings), ...AWS_SETTINGS].map((name) => `--provider-config ${name}`);
          expect(named, error.message).toContain(error.field);
          return;
        }
        // What is accepted must be usable by the AWS SDK: an endpoint it can parse as a URL.
        if (read.endpoint !== undefined) expect(() => new URL(read.endpoint as string)).not.toThrow();
      }),
      fuzzOptions(),
    );
  });

  it("parses plan's Service argument, or says what form it expects", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          token,
          fc.tuple(token, token).map(([a, b]) => `${a}/${b}`),
          fc.string(),
        ),
        (value) => {
          try {
            const { namespace, name } = parseServiceArgument(value);
            expect(namespace.length).toBeGreaterThan(0);
            expect(name.length).toBeGreaterThan(0);
          } catch (error) {
            if (!(error instanceof InvalidArgumentError)) throw error;
            expect(error.message).toContain("namespace/name");
          }
        },
      ),
      fuzzOptions(),
    );
  });
});
