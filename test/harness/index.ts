/**
 * Everything a test needs to run against real parts: the embedded launchers (re-exported from
 * `sandbox/`, with the seed scenario's Kubernetes objects), per-file lifecycle hooks, and `waitFor`.
 *
 * @module
 */
export * from "../../sandbox/index.ts";
export * from "./events.ts";
export * from "./hooks.ts";
export * from "./wait.ts";
