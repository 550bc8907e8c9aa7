/**
 * The command-line flags that point `lb-provisioner` at a test's control plane and AWS endpoint with
 * the aws provider, and the environment carrying the endpoint's credentials.
 *
 * @module
 */
import type { AwsEndpoint, ControlPlane } from "../harness/index.ts";
import { type ControllerProcess, startController } from "../integration/cli-process.ts";

/** `--kubeconfig ... --provider aws --aws-region ... --aws-endpoint-url ... --cluster-name ...`. */
export function awsProviderFlags(
  controlPlane: Pick<ControlPlane, "kubeconfigPath">,
  aws: Pick<AwsEndpoint, "region" | "endpoint">,
  cluster: string,
  endpoint: string = aws.endpoint,
): string[] {
  return [
    "--kubeconfig",
    controlPlane.kubeconfigPath(),
    "--provider",
    "aws",
    "--aws-region",
    aws.region,
    "--aws-endpoint-url",
    endpoint,
    "--cluster-name",
    cluster,
  ];
}

/** `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` of the endpoint. */
export function awsCredentialsEnv(aws: Pick<AwsEndpoint, "credentials">): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey };
}

/**
 * `lb-provisioner run --provider aws` as a process for `cluster`, with `args` added, once its caches
 * have synced.
 */
export async function startAwsController(
  name: string,
  controlPlane: Pick<ControlPlane, "kubeconfigPath">,
  aws: Pick<AwsEndpoint, "region" | "endpoint" | "credentials">,
  cluster: string,
  args: readonly string[] = [],
): Promise<ControllerProcess> {
  const controller = await startController({
    name,
    args: [...awsProviderFlags(controlPlane, aws, cluster), ...args],
    env: awsCredentialsEnv(aws),
  });
  await controller.waitForLog((line) => line.msg === "caches synced; starting workers", "its caches synced");
  return controller;
}
