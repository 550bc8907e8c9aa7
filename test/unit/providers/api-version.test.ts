import { describe, expect, it } from "vitest";
import { apiVersionProblem } from "../../../providers/api-version.ts";

describe("apiVersionProblem", () => {
  it("lets a plugin run that declares the implemented version, or none", () => {
    expect(apiVersionProblem(3, 3)).toBeUndefined();
    expect(apiVersionProblem(undefined, 3)).toBeUndefined();
  });

  it("sends the operator to a newer lb-provisioner for a plugin built for a newer version", () => {
    expect(apiVersionProblem(4, 3)).toBe(
      "the plugin implements provider API version 4, but this lb-provisioner implements provider API version 3; upgrade lb-provisioner to a release that implements version 4, or install a release of the plugin built for version 3",
    );
  });

  it("sends the operator to a newer plugin for a plugin built for an older version", () => {
    expect(apiVersionProblem(2, 3)).toBe(
      "the plugin implements provider API version 2, but this lb-provisioner implements provider API version 3; install a release of the plugin built for version 3 (docs/providers.md lists what changed), or run an lb-provisioner release that implements version 2",
    );
  });

  it("asks for a number when the declaration is not one", () => {
    for (const [declared, shown] of [
      ["1", 'the string "1"'],
      [1.5, "a number"],
      [0, "a number"],
    ] as const) {
      expect(apiVersionProblem(declared, 3)).toBe(
        `its providerApiVersion is ${shown}, and this lb-provisioner implements provider API version 3; declare the version the plugin implements as a number: \`export const providerApiVersion = 3;\``,
      );
    }
  });
});
