import { describe, expect, it } from "vitest";
import { parseGoBool } from "../../../../providers/rules/go-bool.ts";

describe("parseGoBool: Go's strconv.ParseBool", () => {
  it.each(["1", "t", "T", "TRUE", "true", "True"])("%j is true", (value) => {
    expect(parseGoBool(value)).toBe(true);
  });
  it.each(["0", "f", "F", "FALSE", "false", "False"])("%j is false", (value) => {
    expect(parseGoBool(value)).toBe(false);
  });
  it.each(["", "yes", "no", "tRUE", " true", "2"])("%j is neither", (value) => {
    expect(parseGoBool(value)).toBeUndefined();
  });
});
