/**
 * The machine a benchmark ran on, recorded next to every result: CPU count and model, memory, Node.js,
 * and the load average at the start (other work on a shared machine skews every number).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, freemem, loadavg, release, totalmem } from "node:os";

export interface MachineInfo {
  /** What `nproc` prints: CPUs this process may run on. */
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryTotalMiB: number;
  readonly memoryFreeMiB: number;
  readonly node: string;
  readonly kernel: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  readonly loadAverage: readonly [number, number, number];
}

/** `model name` from /proc/cpuinfo, falling back to what Node reports. */
function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (match?.[1]) return match[1].trim();
  } catch {
    // Not Linux: use Node's view below.
  }
  return cpus()[0]?.model ?? "unknown";
}

export function describeMachine(): MachineInfo {
  const [one, five, fifteen] = loadavg();
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  return {
    nproc: availableParallelism(),
    cpuModel: cpuModel(),
    memoryTotalMiB: mib(totalmem()),
    memoryFreeMiB: mib(freemem()),
    node: process.version,
    kernel: release(),
    loadAverage: [round2(one ?? 0), round2(five ?? 0), round2(fifteen ?? 0)],
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
