import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgress } from "../../../../sandbox/demo/progress.ts";

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  const out = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    { isTTY },
  );
  return { out, text: () => chunks.join("") };
}

function clock(stepMs: number) {
  let t = 0;
  return () => {
    t += stepMs;
    return t;
  };
}

describe("createProgress", () => {
  it("prints one plain line per finished step when not a TTY", async () => {
    const { out, text } = capture(false);
    const progress = createProgress(out, { now: clock(250) });
    const result = await progress.step(
      "Created nodes",
      async () => 3,
      (n) => `${n} nodes`,
    );
    await progress.step("Quiet step", async () => undefined);
    progress.line("heading");
    expect(result).toBe(3);
    expect(text()).toBe("✔ Created nodes: 3 nodes (0.3s)\n✔ Quiet step (0.3s)\nheading\n");
  });

  it("prints the failure and rethrows it", async () => {
    const { out, text } = capture(false);
    const progress = createProgress(out, { now: clock(100) });
    await expect(
      progress.step("Start", async () => {
        throw new Error("go not found");
      }),
    ).rejects.toThrow("go not found");
    expect(text()).toBe("✖ Start: go not found\n");
  });

  it("draws a spinner and clears it on a TTY", async () => {
    const { out, text } = capture(true);
    const progress = createProgress(out, { now: clock(100), color: false });
    await progress.step("Working", async () => "x");
    progress.close();
    expect(text()).toBe("\r\u001b[K⠋ Working 0.1s\r\u001b[K✔ Working (0.2s)\n");
  });

  it("prints notes as indented lines, except transient ones, when not a TTY", async () => {
    const { out, text } = capture(false);
    const progress = createProgress(out, { now: clock(100) });
    await progress.step("Build", async () => {
      progress.note("building, several minutes");
      progress.note("etcd pid 42", { transient: true });
    });
    expect(text()).toBe("  building, several minutes\n✔ Build (0.1s)\n");
  });

  it("shows notes next to the spinner on a TTY", async () => {
    const { out, text } = capture(true);
    const progress = createProgress(out, { now: clock(100), color: false });
    let release: () => void = () => {};
    const step = progress.step(
      "Build",
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    progress.note("etcd pid 42", { transient: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await step;
    expect(text()).toContain("⠙ Build 0.");
    expect(text()).toMatch(/Build \d\.\ds etcd pid 42/);
  });

  it("keeps the spinner line within the terminal width", async () => {
    const { out, text } = capture(true);
    Object.assign(out, { columns: 30 });
    const progress = createProgress(out, { now: clock(100), color: false });
    let release: () => void = () => {};
    const step = progress.step(
      "Build",
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    progress.note("a very long remark that would wrap the terminal line", { transient: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await step;
    const lines = text()
      .split("\r\u001b[K")
      .filter((line) => line.includes("remark") || line.includes("…"));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect([...line].length).toBeLessThan(30);
  });

  it("colours only when asked and interactive", async () => {
    const { out, text } = capture(true);
    await createProgress(out, { now: clock(100), color: true }).step("Working", async () => "x");
    expect(text()).toContain("\u001b[32m✔\u001b[0m Working");
  });
});
