import { describe, expect, it } from "vitest";
import { KeyedSerializer } from "../../../../providers/internal/keyed-serializer.ts";

/** A task that records its start and end and finishes when `release` is called. */
function gate(log: string[], name: string) {
  let release = (): void => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const task = async () => {
    log.push(`start ${name}`);
    await released;
    log.push(`end ${name}`);
    return name;
  };
  return { task, release };
}

describe("KeyedSerializer", () => {
  it("runs tasks for one key one after another, in call order, even when one fails", async () => {
    const serial = new KeyedSerializer();
    const log: string[] = [];
    const a = gate(log, "a");
    const first = serial.run("k", a.task);
    const failing = serial.run("k", async () => {
      log.push("fail");
      throw new Error("boom");
    });
    const third = serial.run("k", async () => {
      log.push("third");
      return 3;
    });
    await Promise.resolve();
    expect(log).toEqual(["start a"]);
    a.release();
    await expect(first).resolves.toBe("a");
    await expect(failing).rejects.toThrow("boom");
    await expect(third).resolves.toBe(3);
    expect(log).toEqual(["start a", "end a", "fail", "third"]);
    expect(serial.activeKeys).toBe(0);
  });

  it("runs tasks for different keys at the same time", async () => {
    const serial = new KeyedSerializer();
    const log: string[] = [];
    const a = gate(log, "a");
    const b = gate(log, "b");
    const both = Promise.all([serial.run("x", a.task), serial.run("y", b.task)]);
    await Promise.resolve();
    expect(log).toEqual(["start a", "start b"]);
    expect(serial.activeKeys).toBe(2);
    b.release();
    a.release();
    await both;
    expect(serial.activeKeys).toBe(0);
  });
});
