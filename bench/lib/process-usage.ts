/**
 * CPU time and resident memory of another process, read from Linux's `/proc/<pid>/stat` and
 * `/proc/<pid>/status`: how the benchmarks measure each controller process from outside, the same way
 * for a Go binary and for Node.js.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface ProcessUsage {
  /** User plus system CPU time since the process started. */
  readonly cpuSeconds: number;
  /** Resident set size now (`VmRSS`). */
  readonly rssBytes: number;
  /** Peak resident set size over the process's life (`VmHWM`). */
  readonly peakRssBytes: number;
}

/**
 * User plus system CPU time, in clock ticks, from the text of `/proc/<pid>/stat`. The command name
 * (field 2) is in parentheses and may hold spaces or parentheses itself, so fields are counted from
 * the last `)`: utime and stime are fields 14 and 15.
 */
export function parseCpuTicks(statText: string): number {
  const close = statText.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${statText.slice(0, 80)}`);
  const fields = statText
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`no utime/stime in /proc/<pid>/stat: ${statText.slice(0, 80)}`);
  }
  return utime + stime;
}

/** `VmRSS` and `VmHWM` in bytes from the text of `/proc/<pid>/status` (which states them in kB). */
export function parseResidentBytes(statusText: string): { readonly rssBytes: number; readonly peakRssBytes: number } {
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(statusText);
    if (!match) throw new Error(`no ${field} in /proc/<pid>/status (has the process exited?)`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib("VmRSS"), peakRssBytes: kib("VmHWM") };
}

let clockTicksPerSecond: number | undefined;

/** `getconf CLK_TCK`: the unit of the CPU fields in `/proc/<pid>/stat` (100 on every common Linux). */
function clockTicks(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** The usage of `pid` now. Throws when the process is gone or this is not Linux. */
export function readProcessUsage(pid: number): ProcessUsage {
  const ticks = parseCpuTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
  return {
    cpuSeconds: ticks / clockTicks(),
    ...parseResidentBytes(readFileSync(`/proc/${pid}/status`, "utf8")),
  };
}
