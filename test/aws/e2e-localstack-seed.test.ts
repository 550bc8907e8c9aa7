/**
 * LocalStack's ready hook (`localstack/init/ready.d/10-seed-network.sh`) run as LocalStack would run
 * it, but against this tier's endpoint (moto by default): it must seed the seed scenario's network —
 * a cluster-tagged VPC, subnets in two zones, three instances at 192.168.1.2-.4 — through the shared
 * seed code. Keeps the hook working where LocalStack itself cannot run.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DescribeInstancesCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import type { SeededAwsNetwork } from "../harness/index.ts";
import { SEED_NODE_IPS, withAwsEndpoint } from "../harness/index.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const HOOK = join(REPO, "localstack/init/ready.d/10-seed-network.sh");
const CLUSTER = "localstack-hook";

function runHook(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      [HOOK],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe("localstack ready hook", () => {
  const aws = withAwsEndpoint();

  it("seeds the seed scenario's network through the shared seed code", async () => {
    const output = join(mkdtempSync(join(tmpdir(), "lbp-hook-")), "seed.json");
    const result = await runHook({
      LBP_REPO_DIR: REPO,
      LBP_NODE: process.execPath,
      LBP_SEED_ENDPOINT: aws.endpoint,
      LBP_SEED_OUTPUT: output,
      LBP_CLUSTER_NAME: CLUSTER,
      AWS_REGION: aws.region,
      AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const seeded = JSON.parse(readFileSync(output, "utf8")) as SeededAwsNetwork & { clusterName: string };
    expect(seeded.clusterName).toBe(CLUSTER);

    const ec2 = new EC2Client({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
    try {
      const vpc = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [seeded.vpcId] }))).Vpcs?.[0];
      expect(vpc?.Tags).toContainEqual({ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: "owned" });
      const subnets = (
        await ec2.send(new DescribeSubnetsCommand({ SubnetIds: seeded.subnets.map((subnet) => subnet.subnetId) }))
      ).Subnets;
      expect(new Set(subnets?.map((subnet) => subnet.AvailabilityZone)).size).toBe(2);
      const reservations = await ec2.send(
        new DescribeInstancesCommand({ InstanceIds: seeded.instances.map((instance) => instance.instanceId) }),
      );
      const ips = (reservations.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.PrivateIpAddress);
      expect(ips.sort()).toEqual([...SEED_NODE_IPS]);
      expect(seeded.instances.map((instance) => instance.providerID)).toEqual(
        seeded.instances.map((instance) => `aws:///${instance.zone}/${instance.instanceId}`),
      );
    } finally {
      ec2.destroy();
    }
  });

  it("explains what is missing when it has no Node.js", async () => {
    const result = await runHook({
      LBP_REPO_DIR: REPO,
      LBP_NODE: "/nonexistent/node",
      LBP_SEED_ENDPOINT: aws.endpoint,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no Node.js at /nonexistent/node");
  });
});
