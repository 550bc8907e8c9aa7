/**
 * Vitest lifecycle helpers: one embedded control plane or AWS endpoint per test file, started in
 * `beforeAll` and stopped in `afterAll` even when tests fail. Each returns a stand-in that forwards to
 * the live instance, so test bodies read `controlPlane.kubeConfig()` without `!` or getters.
 *
 * @module
 */
import { afterAll, beforeAll, inject } from "vitest";
import {
  type AwsEndpoint,
  type AwsEndpointInfo,
  attachAwsEndpoint,
  startAwsEndpoint,
} from "../../sandbox/aws-endpoint.ts";
import { type ControlPlane, type StartControlPlaneOptions, startControlPlane } from "../../sandbox/control-plane.ts";

declare module "vitest" {
  interface ProvidedContext {
    /** The run's shared AWS endpoint, started by the aws project's global setup. */
    awsEndpoint: AwsEndpointInfo | undefined;
  }
}

function notStarted(what: string): never {
  throw new Error(`${what} is not started yet: use it inside tests or hooks that run after beforeAll`);
}

/** Starts a control plane for this test file (beforeAll) and stops it (afterAll). */
export function withControlPlane(options: StartControlPlaneOptions = {}): ControlPlane {
  let live: ControlPlane | undefined;
  const current = (): ControlPlane => live ?? notStarted("the control plane");
  beforeAll(async () => {
    live = await startControlPlane(options);
  });
  afterAll(async () => {
    await live?.stop();
  });
  return {
    get server() {
      return current().server;
    },
    get dataDir() {
      return current().dataDir;
    },
    kubeConfig: (identity) => current().kubeConfig(identity),
    kubeconfigPath: (identity) => current().kubeconfigPath(identity),
    stopApiserver: () => current().stopApiserver(),
    startApiserver: () => current().startApiserver(),
    stop: () => current().stop(),
  };
}

/**
 * An AWS endpoint for this test file, empty at its start: the run's shared one (provided by the global
 * setup) after a reset, or, when there is none (a file run outside the aws project), one of its own.
 */
export function withAwsEndpoint(options: { readonly region?: string } = {}): AwsEndpoint {
  let live: AwsEndpoint | undefined;
  const current = (): AwsEndpoint => live ?? notStarted("the AWS endpoint");
  beforeAll(async () => {
    const shared = inject("awsEndpoint");
    if (shared && (options.region === undefined || options.region === shared.region)) {
      live = attachAwsEndpoint(shared);
      await live.reset();
    } else {
      live = await startAwsEndpoint(options);
    }
  });
  afterAll(async () => {
    await live?.stop();
  });
  return {
    get endpoint() {
      return current().endpoint;
    },
    get region() {
      return current().region;
    },
    get credentials() {
      return current().credentials;
    },
    get emulator() {
      return current().emulator;
    },
    reset: () => current().reset(),
    stop: () => current().stop(),
  };
}
