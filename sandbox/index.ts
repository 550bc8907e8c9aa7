/**
 * Embedded real dependencies for tests and the `demo` command: a kube-apiserver + etcd control plane,
 * an AWS endpoint (moto or `AWS_ENDPOINT_URL`), the seed scenario's AWS network and its Kubernetes objects.
 * Everything they start is recorded and killed with its owner (see `process-registry.ts`).
 *
 * @module
 */
export {
  type AwsEndpoint,
  type AwsEndpointInfo,
  attachAwsEndpoint,
  ensureMoto,
  type StartAwsEndpointOptions,
  startAwsEndpoint,
} from "./aws-endpoint.ts";
export {
  SEED_VPC_CIDR,
  type SeedAwsNetworkOptions,
  type SeededAwsNetwork,
  type SeededInstance,
  type SeededSubnet,
  seedAwsNetwork,
} from "./aws-seed.ts";
export {
  BUILT_IN_IDENTITIES,
  type ControlPlane,
  DUAL_STACK_SERVICE_RANGES,
  ensureControlPlaneAssets,
  type Identity,
  SERVICE_NODE_PORT_RANGE,
  type StartControlPlaneOptions,
  startControlPlane,
} from "./control-plane.ts";
export { EmbeddedSetupError } from "./errors.ts";
export {
  findLiveProcesses,
  killRecordedProcess,
  type ProcessRecord,
  RUN_ID_ENV,
  reapOrphanedProcesses,
} from "./process-registry.ts";
export {
  createNodes,
  newNode,
  SEED_NAMESPACE,
  SEED_NODE_IPS,
  SEED_NODE_PORT,
  SEED_NODE_SOURCES,
  SEED_SELECTOR,
  SEED_SERVICE_NAME,
  SEED_SERVICE_PORT,
  type SeedNodeSource,
  type SeedServiceOptions,
  seedNodeSource,
  seedNodes,
  seedService,
} from "./seed-objects.ts";
