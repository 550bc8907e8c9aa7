/**
 * Seeds an AWS endpoint with the seed scenario's network (VPC, one subnet in each of two zones, three
 * instances standing for the nodes) through `seedAwsNetwork`, the one function every tier seeds with,
 * and prints what it made as JSON (instance ids and the providerIDs to give the Nodes).
 *
 * Run by LocalStack's ready hook (`init/ready.d/10-seed-network.sh`), or by hand against any endpoint:
 *   AWS_ENDPOINT_URL=http://localhost:4566 node localstack/seed-network.ts
 *
 * Environment: AWS_ENDPOINT_URL (required), AWS_REGION (default us-east-1), LBP_CLUSTER_NAME (default
 * kubernetes), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (default `test`, what emulators accept).
 *
 * @module
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { seedAwsNetwork } from "../sandbox/aws-seed.ts";

const endpoint = process.env.AWS_ENDPOINT_URL;
if (!endpoint) {
  process.stderr.write("seed-network: set AWS_ENDPOINT_URL to the emulator, e.g. http://localhost:4566\n");
  process.exit(2);
}
const region = process.env.AWS_REGION || "us-east-1";
const clusterName = process.env.LBP_CLUSTER_NAME || "kubernetes";
const ec2 = new EC2Client({
  endpoint,
  region,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || "test",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "test",
  },
});
try {
  const seeded = await seedAwsNetwork(ec2, { clusterName });
  process.stdout.write(`${JSON.stringify({ clusterName, region, ...seeded }, null, 2)}\n`);
} catch (error) {
  process.stderr.write(`seed-network: seeding ${endpoint} failed: ${error instanceof Error ? error.message : error}\n`);
  process.exitCode = 1;
} finally {
  ec2.destroy();
}
