/**
 * Everything a test needs to run against real parts: the embedded launchers (re-exported from
 * `src/embedded/`), per-file lifecycle hooks, the seed scenario's Kubernetes objects, and `waitFor`.
 *
 * @module
 */
export * from "../../src/embedded/index.ts";
export * from "./hooks.ts";
export * from "./kube-fixtures.ts";
export * from "./wait.ts";
