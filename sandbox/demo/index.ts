/**
 * The demo scenario (`lb-provisioner demo`, `npm run demo`): the seed scenario told step by step on the
 * embedded control plane, with the fake provider or the AWS provider against an emulator. The CLI's
 * `demo` command imports this module only when it runs, so no other command loads the sandbox.
 *
 * @module
 */
export { type DemoProvider, demoParts } from "./parts.ts";
export { wasReported } from "./progress.ts";
export { type DemoOptions, type DemoParts, type RunningController, runDemo } from "./scenario.ts";
