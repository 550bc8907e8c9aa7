import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/observability/logger.ts";

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const SECRET = "s3cr3t-value-that-must-not-appear";

describe("createLogger", () => {
  it("writes one JSON object per line with level, time, name and bound fields", () => {
    const out = capture();
    const logger = createLogger("info", out.stream);
    logger.child({ key: "default/web" }).info({ nodes: 3 }, "ensured load balancer");
    logger.debug("not at info");
    const [line, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: "info", name: "lb-provisioner", key: "default/web", nodes: 3 });
    expect(line?.msg).toBe("ensured load balancer");
    expect(new Date(String(line?.time)).toISOString()).toBe(line?.time);
  });

  it("gives provider lines about a Service the controller's key", () => {
    const out = capture();
    const logger = createLogger("info", out.stream);
    logger.child({ component: "provider", service: "default/web" }).info("created load balancer");
    logger.child({ component: "provider" }).info({ service: "ns/api" }, "created target group");
    logger.child({ key: "default/web" }).info({ service: "default/web" }, "bound already");
    logger.info({ service: "not-a-key" }, "no namespace");
    const keys = out.lines().map((line) => line.key);
    expect(keys).toEqual(["default/web", "ns/api", "default/web", undefined]);
    expect(JSON.stringify(out.lines()[2]).match(/"key"/g)).toHaveLength(1);
  });

  it.each([
    { token: SECRET },
    { user: { token: SECRET } },
    { authorization: `Bearer ${SECRET}` },
    { request: { headers: { authorization: `Bearer ${SECRET}` } } },
    { request: { headers: { Authorization: `Bearer ${SECRET}` } } },
    { credentials: { accessKeyId: "AKIA", secretAccessKey: SECRET } },
    { aws: { secretAccessKey: SECRET, sessionToken: SECRET } },
    { password: SECRET },
    { config: { providerSettings: { apiKey: SECRET } } },
    { settings: { token: SECRET } },
  ])("redacts %j", (fields) => {
    const out = capture();
    createLogger("trace", out.stream).info(fields, "something happened");
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain(SECRET);
    expect(text).toContain("[redacted]");
  });
});
