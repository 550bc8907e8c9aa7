/**
 * The local provider's data plane on loopback: connections per second and throughput through the proxy,
 * against the same load sent straight to the node stand-in, as ratios measured in one run.
 *
 * Three processes, so no two share an event loop: the node stand-in (`data-plane-child.ts target`), the
 * proxy (`data-plane-child.ts proxy`: a LocalProvider with one load balancer) and this one, the load
 * generator. After an untimed warm-up of each, rounds alternate direct and proxied, so the machine's load
 * falls on both alike; the medians are reported.
 *
 * - connections/s: `--concurrency` clients, each in a loop of connect, send one byte, read the one-byte
 *   answer, close, for `--seconds`;
 * - throughput: `--streams` connections uploading `--megabytes` each at once, until the stand-in's `ok`.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import type { ResultRow, ScenarioResult } from "../lib/report.ts";
import { intOption, type Scenario } from "../lib/scenario.ts";
import { round } from "../lib/stats.ts";

const CHILD = fileURLToPath(new URL("../lib/data-plane-child.ts", import.meta.url));
const NODE_ADDRESS = "127.0.120.2";
const POOL = "127.120.0.1";
const PING_PORT = 31001;
const SINK_PORT = 31002;
const PROXY_PING_PORT = 10001;
const PROXY_SINK_PORT = 10002;

async function startChild(args: readonly string[]): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const address = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /^ready (\S+)$/m.exec(output);
      if (ready) resolve(ready[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`${args[0]} exited (${code}) before it was ready`)));
  });
  return { child, address };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** One connect, one byte each way, close. */
function pingOnce(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    socket.once("connect", () => socket.write("."));
    socket.once("data", () => socket.end());
    socket.once("close", (hadError) => (hadError ? reject(new Error("ping failed")) : resolve()));
    socket.once("error", reject);
  });
}

async function connectionsPerSecond(host: string, port: number, concurrency: number, seconds: number) {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        try {
          await pingOnce(host, port);
          done++;
        } catch {
          failed++;
        }
      }
    }),
  );
  return { perSecond: done / ((performance.now() - started) / 1000), failed };
}

function upload(host: string, port: number, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true });
    const chunk = Buffer.alloc(256 * 1024, 1);
    let left = bytes;
    const pump = (): void => {
      while (left > 0) {
        left -= chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      socket.end();
    };
    socket.once("connect", pump);
    let answer = "";
    socket.on("data", (data: Buffer) => {
      answer += data.toString();
    });
    socket.once("end", () => (answer === "ok" ? resolve() : reject(new Error(`sink answered ${answer}`))));
    socket.once("error", reject);
  });
}

async function throughput(host: string, port: number, streams: number, megabytes: number): Promise<number> {
  const bytes = megabytes * 1024 * 1024;
  const started = performance.now();
  await Promise.all(Array.from({ length: streams }, () => upload(host, port, bytes)));
  return (streams * megabytes) / ((performance.now() - started) / 1000);
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

export const localDataPlane: Scenario = {
  name: "local-data-plane",
  title: "local provider data plane on loopback: connections/s and throughput, proxied vs direct",
  optionHelp: {
    concurrency: "clients opening connections at once (default 32)",
    seconds: "length of each connections/s round (default 3)",
    streams: "parallel uploads in a throughput round (default 4)",
    megabytes: "MiB each upload sends (default 128)",
    rounds: "rounds of each kind, alternating direct and proxied (default 3)",
  },
  async run(context): Promise<ScenarioResult> {
    const concurrency = intOption(context, "concurrency", 32);
    const seconds = intOption(context, "seconds", 3);
    const streams = intOption(context, "streams", 4);
    const megabytes = intOption(context, "megabytes", 128);
    const rounds = intOption(context, "rounds", 3);

    const target = await startChild(["target", NODE_ADDRESS, String(PING_PORT), String(SINK_PORT)]);
    let proxy: Awaited<ReturnType<typeof startChild>> | undefined;
    try {
      proxy = await startChild([
        "proxy",
        POOL,
        NODE_ADDRESS,
        `${PROXY_PING_PORT}:${PING_PORT}`,
        `${PROXY_SINK_PORT}:${SINK_PORT}`,
      ]);
      const lb = proxy.address;
      const samples = {
        direct: { cps: [] as number[], mibs: [] as number[] },
        proxied: { cps: [] as number[], mibs: [] as number[] },
      };
      let failures = 0;
      // A short untimed round of each first, so neither side is measured while its code is still cold.
      for (const [host, pingPort, sinkPort] of [
        [NODE_ADDRESS, PING_PORT, SINK_PORT],
        [lb, PROXY_PING_PORT, PROXY_SINK_PORT],
      ] as const) {
        await connectionsPerSecond(host, pingPort, concurrency, 1);
        await throughput(host, sinkPort, streams, 8);
      }
      for (let round_ = 1; round_ <= rounds; round_++) {
        for (const [kind, host, pingPort, sinkPort] of [
          ["direct", NODE_ADDRESS, PING_PORT, SINK_PORT],
          ["proxied", lb, PROXY_PING_PORT, PROXY_SINK_PORT],
        ] as const) {
          const cps = await connectionsPerSecond(host, pingPort, concurrency, seconds);
          failures += cps.failed;
          const mibs = await throughput(host, sinkPort, streams, megabytes);
          samples[kind].cps.push(cps.perSecond);
          samples[kind].mibs.push(mibs);
          context.log(`round ${round_} ${kind}: ${round(cps.perSecond, 0)} connections/s, ${round(mibs, 0)} MiB/s`);
        }
      }
      const cps = { direct: median(samples.direct.cps), proxied: median(samples.proxied.cps) };
      const mibs = { direct: median(samples.direct.mibs), proxied: median(samples.proxied.mibs) };
      const rows: ResultRow[] = [
        { metric: "connections/s direct (median)", value: round(cps.direct, 0) },
        { metric: "connections/s through the proxy (median)", value: round(cps.proxied, 0) },
        { metric: "connections/s ratio proxied/direct", value: round(cps.proxied / cps.direct, 2) },
        { metric: "throughput direct (median)", value: round(mibs.direct, 0), unit: "MiB/s" },
        { metric: "throughput through the proxy (median)", value: round(mibs.proxied, 0), unit: "MiB/s" },
        { metric: "throughput ratio proxied/direct", value: round(mibs.proxied / mibs.direct, 2) },
        { metric: "failed connections (all rounds)", value: failures },
      ];
      return {
        target: "none (measured): the proxy's cost relative to connecting directly",
        verdict: "informational",
        summary: `through the proxy: ${round(cps.proxied / cps.direct, 2)}x the connections/s and ${round(mibs.proxied / mibs.direct, 2)}x the throughput of direct connections`,
        rows,
        details: { concurrency, seconds, streams, megabytes, rounds, samples, failures },
      };
    } finally {
      if (proxy !== undefined) await stopChild(proxy.child);
      await stopChild(target.child);
    }
  },
};
