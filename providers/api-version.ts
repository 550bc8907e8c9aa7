/**
 * Whether a plugin built for one provider API version may run under this package, and if not, what the
 * operator should do about it. The rule behind the versions is in docs/providers.md ("Versioning").
 *
 * @module
 */
import { describeValue } from "./describe.ts";
import { PROVIDER_API_VERSION } from "./types.ts";

/**
 * Why a plugin whose `providerApiVersion` export is `declared` cannot run under a host implementing
 * `implemented`, naming both versions and the fix; `undefined` when it can (including when it declares
 * nothing).
 */
export function apiVersionProblem(declared: unknown, implemented: number = PROVIDER_API_VERSION): string | undefined {
  if (declared === undefined || declared === implemented) return undefined;
  const host = `this lb-provisioner implements provider API version ${implemented}`;
  if (typeof declared !== "number" || !Number.isInteger(declared) || declared < 1) {
    return `its providerApiVersion is ${describeValue(declared)}, and ${host}; declare the version the plugin implements as a number: \`export const providerApiVersion = ${implemented};\``;
  }
  const fix =
    declared > implemented
      ? `upgrade lb-provisioner to a release that implements version ${declared}, or install a release of the plugin built for version ${implemented}`
      : `install a release of the plugin built for version ${implemented} (docs/providers.md lists what changed), or run an lb-provisioner release that implements version ${declared}`;
  return `the plugin implements provider API version ${declared}, but ${host}; ${fix}`;
}
