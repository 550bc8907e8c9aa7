/**
 * Vitest global setup for the integration and aws projects: provisions once per run what their test
 * files need (kube-apiserver + etcd binaries; for integration helm; for aws one shared AWS endpoint), so
 * the first file does not spend its hook timeout on a build. Teardown fails the run if any
 * kube-apiserver, etcd or moto_server started during this run is still alive, and kills it.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { TestProject } from "vitest/node";
import { type AwsEndpoint, startAwsEndpoint } from "../../sandbox/aws-endpoint.ts";
import { ensureControlPlaneAssets } from "../../sandbox/control-plane.ts";
import {
  findLiveProcesses,
  killRecordedProcess,
  RUN_ID_ENV,
  reapOrphanedProcesses,
} from "../../sandbox/process-registry.ts";
import { ensureHelm } from "./helm.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Test workers are forked after global setup and inherit this, so every child they start is
  // recorded as belonging to this run.
  process.env[RUN_ID_ENV] ??= randomUUID();
  const runId = process.env[RUN_ID_ENV];
  reapOrphanedProcesses();

  await ensureControlPlaneAssets();
  // The chart's tests (integration) lint and render with a helm built like kube-apiserver, cached.
  if (project.name === "integration") project.provide("helm", await ensureHelm());
  let aws: AwsEndpoint | undefined;
  if (project.name === "aws") {
    aws = await startAwsEndpoint();
    const { endpoint, region, credentials, emulator } = aws;
    project.provide("awsEndpoint", { endpoint, region, credentials: { ...credentials }, emulator });
  }

  return async () => {
    await aws?.stop();
    // Children of this process (the shared endpoint of another project) are stopped by their own teardown.
    const leftovers = findLiveProcesses(runId, process.pid);
    for (const record of leftovers) killRecordedProcess(record);
    if (leftovers.length > 0) {
      const list = leftovers.map((r) => `${r.name} (pid ${r.pid}, started by pid ${r.ownerPid})`).join(", ");
      throw new Error(
        `processes started by test files were still running after the ${project.name} tests and have been killed: ${list}; a test file does not stop what it starts (use withControlPlane/withAwsEndpoint or call stop() in afterAll)`,
      );
    }
  };
}
