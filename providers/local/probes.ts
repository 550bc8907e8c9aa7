/**
 * One health probe against one node: a TCP connect (`externalTrafficPolicy: Cluster`), or an HTTP GET
 * that passes on 200-399 (`Local`: kube-proxy answers 200 on `healthCheckNodePort` only on nodes with a
 * local endpoint). A probe never throws: anything but success within the timeout is a failure.
 *
 * @module
 */
import { request } from "node:http";
import { connect } from "node:net";
import type { ProbeSpec } from "./targets.ts";

/** Whether `probe` passes within `timeoutMs`; aborting `signal` ends it as failed. */
export function runProbe(probe: ProbeSpec, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return probe.kind === "tcp" ? probeTcp(probe, timeoutMs, signal) : probeHttp(probe, timeoutMs, signal);
}

function probeTcp(probe: ProbeSpec, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const socket = connect({ host: probe.address, port: probe.port });
    const finish = (passed: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(passed);
    };
    const onAbort = (): void => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

function probeHttp(probe: ProbeSpec & { kind: "http" }, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const req = request({
      host: probe.address,
      port: probe.port,
      path: probe.path,
      method: "GET",
      agent: false,
      headers: { "user-agent": "lb-provisioner-local-health-check", connection: "close" },
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    req.once("response", (response) => {
      const status = response.statusCode ?? 0;
      response.on("error", () => {});
      response.resume();
      req.destroy();
      resolve(status >= 200 && status < 400);
    });
    req.once("error", () => resolve(false));
    req.end();
  });
}
