/**
 * `lb-provisioner run` whose apiserver cannot be reached yet keeps running and retrying until it is
 * stopped, even with both endpoints disabled (nothing but the informers' retry timers pending), then
 * exits 0 on SIGTERM. It used to exit 0 on its own after the first failed list.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freeLoopbackPort } from "../../sandbox/ports.ts";
import { startController } from "./cli-process.ts";

const work = mkdtempSync(join(tmpdir(), "lbp-unreachable-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A kubeconfig naming an apiserver on a loopback port nothing listens on. */
async function unreachableKubeconfig(): Promise<string> {
  const server = `https://127.0.0.1:${await freeLoopbackPort()}`;
  const file = join(work, "kubeconfig");
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "gone", cluster: { server, "insecure-skip-tls-verify": true } }],
      users: [{ name: "user", user: { token: "unused" } }],
      contexts: [{ name: "gone", context: { cluster: "gone", user: "user" } }],
      "current-context": "gone",
    }),
  );
  return file;
}

describe("run with an unreachable apiserver", () => {
  it("keeps retrying with both endpoints disabled until SIGTERM, then exits 0", async () => {
    const controller = await startController({
      name: "unreachable-apiserver",
      args: [
        "--provider=fake",
        `--kubeconfig=${await unreachableKubeconfig()}`,
        "--leader-elect=false",
        "--metrics-bind-address=0",
        "--health-probe-bind-address=0",
      ],
    });
    try {
      // A third failure means two retry timers fired with nothing else keeping the process alive.
      await controller.waitForLog(
        (line) => line.msg === "list/watch failed; restarting" && Number(line.failures) >= 3,
        "a third failed list/watch",
      );
      expect(controller.process.exit).toBeUndefined();
    } finally {
      await controller.process.stop();
    }
    expect(controller.process.exit).toEqual({ code: 0, signal: null });
  });
});
