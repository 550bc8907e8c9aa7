/**
 * Pure parts of the embedded control plane: identities, the token auth file, the command lines of etcd
 * and kube-apiserver (envtest's conventions plus RBAC and the NodePort range), and kubeconfig documents.
 * Kept apart from the process handling so each can be checked without starting anything.
 *
 * @module
 */
import { EmbeddedSetupError } from "./errors.ts";

/** A user the apiserver authenticates by bearer token; `name` selects it in `kubeConfig(name)`. */
export interface Identity {
  readonly name: string;
  readonly user: string;
  readonly groups: readonly string[];
}

/** The identities every embedded control plane has: a cluster admin, and one with no permissions at all. */
export const BUILT_IN_IDENTITIES: readonly Identity[] = Object.freeze([
  Object.freeze({ name: "admin", user: "lbp-admin", groups: Object.freeze(["system:masters"]) }),
  Object.freeze({ name: "unprivileged", user: "lbp-unprivileged", groups: Object.freeze([]) }),
]);

/** The NodePort range the apiserver allocates from (Kubernetes' default, stated so it cannot drift). */
export const SERVICE_NODE_PORT_RANGE = "30000-32767";
/** ClusterIPs come from here. */
export const SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24";

/** The apiserver's Service ranges; benchmarks with thousands of LoadBalancer Services widen both. */
export interface ServiceRanges {
  /** `--service-node-port-range`, e.g. `30000-32767`. */
  readonly nodePorts: string;
  /** `--service-cluster-ip-range`, e.g. `10.0.0.0/24`. */
  readonly clusterIPs: string;
}

export const DEFAULT_SERVICE_RANGES: ServiceRanges = Object.freeze({
  nodePorts: SERVICE_NODE_PORT_RANGE,
  clusterIPs: SERVICE_CLUSTER_IP_RANGE,
});

/** ClusterIPs of the second family of a dual-stack control plane (a unique local /108). */
export const SERVICE_CLUSTER_IPV6_RANGE = "fd00:10::/108";

/**
 * A dual-stack cluster's Service ranges: IPv4 first (the default family), then IPv6, so a Service may
 * ask for either family or both. Starts as fast as the default; opt in where a test needs IPv6.
 */
export const DUAL_STACK_SERVICE_RANGES: ServiceRanges = Object.freeze({
  nodePorts: SERVICE_NODE_PORT_RANGE,
  clusterIPs: `${SERVICE_CLUSTER_IP_RANGE},${SERVICE_CLUSTER_IPV6_RANGE}`,
});

const IDENTITY_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
// The token file is CSV with the groups in one quoted field: these characters cannot be represented.
const CSV_UNSAFE = /[",\r\n]/;

/**
 * The built-in identities followed by `extra`, validated. Throws an {@link EmbeddedSetupError} naming
 * the offending field: a name that is not a DNS label (it becomes a file name), a name used twice, or
 * a user or group the token file cannot hold.
 */
export function resolveIdentities(extra: readonly Identity[] = []): readonly Identity[] {
  const all = [...BUILT_IN_IDENTITIES, ...extra];
  const seen = new Set<string>();
  all.forEach((identity, index) => {
    const field = `identities[${index - BUILT_IN_IDENTITIES.length}]`;
    if (!IDENTITY_NAME.test(identity.name)) {
      throw new EmbeddedSetupError(
        `${field}.name "${identity.name}" must be lower-case letters, digits and dashes (it names a kubeconfig file)`,
      );
    }
    if (seen.has(identity.name)) {
      throw new EmbeddedSetupError(
        `${field}.name "${identity.name}" is already taken (built in: ${BUILT_IN_IDENTITIES.map((i) => i.name).join(", ")}); choose another name`,
      );
    }
    seen.add(identity.name);
    if (!identity.user || CSV_UNSAFE.test(identity.user)) {
      throw new EmbeddedSetupError(`${field}.user must be non-empty and contain no comma, quote or newline`);
    }
    identity.groups.forEach((group, groupIndex) => {
      if (!group || CSV_UNSAFE.test(group)) {
        throw new EmbeddedSetupError(
          `${field}.groups[${groupIndex}] must be non-empty and contain no comma, quote or newline`,
        );
      }
    });
  });
  return all;
}

/** An identity with the bearer token the apiserver will accept for it. */
export interface TokenIdentity extends Identity {
  readonly token: string;
}

/** The `--token-auth-file` document: `token,user,uid[,"group1,group2"]` per line. */
export function tokenAuthFile(identities: readonly TokenIdentity[]): string {
  return identities
    .map((identity) => {
      const columns = [identity.token, identity.user, identity.user];
      if (identity.groups.length > 0) columns.push(`"${identity.groups.join(",")}"`);
      return columns.join(",");
    })
    .join("\n")
    .concat("\n");
}

/** Loopback ports for one start attempt. */
export interface ControlPlanePorts {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
}

/** etcd as envtest runs it: one member, loopback only, no fsync (the data dies with the test). */
export function etcdArgs(ports: ControlPlanePorts, dataDir: string): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    "--name=default",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

/** Files the apiserver reads, all inside the control plane's data dir. */
export interface ApiserverFiles {
  readonly certDir: string;
  readonly tokenAuthFile: string;
  readonly serviceAccountPublicKey: string;
  readonly serviceAccountSigningKey: string;
}

/**
 * kube-apiserver with envtest's flags (no ServiceAccount admission: there is no token controller),
 * real RBAC, token authentication, and a self-signed serving certificate written to `certDir`.
 */
export function apiserverArgs(
  ports: ControlPlanePorts,
  files: ApiserverFiles,
  ranges: ServiceRanges = DEFAULT_SERVICE_RANGES,
): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    // A loopback advertise address is refused by the endpoint reconciler; nothing here needs the
    // `kubernetes` Service's endpoints (there is no in-cluster client).
    "--endpoint-reconciler-type=none",
    `--secure-port=${ports.apiserver}`,
    `--cert-dir=${files.certDir}`,
    `--service-cluster-ip-range=${ranges.clusterIPs}`,
    `--service-node-port-range=${ranges.nodePorts}`,
    "--allow-privileged=true",
    "--disable-admission-plugins=ServiceAccount",
    "--authorization-mode=RBAC",
    `--token-auth-file=${files.tokenAuthFile}`,
    `--service-account-issuer=https://127.0.0.1:${ports.apiserver}/`,
    `--service-account-key-file=${files.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${files.serviceAccountSigningKey}`,
    "--profiling=false",
  ];
}

/** Names used inside every kubeconfig the control plane writes. */
export const KUBECONFIG_CLUSTER_NAME = "lb-provisioner-embedded";

/** A kubeconfig document (JSON, which every YAML reader accepts) for one identity. */
export function kubeconfigDocument(server: string, caPem: string, identity: TokenIdentity): string {
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: KUBECONFIG_CLUSTER_NAME,
        cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: [{ name: identity.name, user: { token: identity.token } }],
    contexts: [{ name: identity.name, context: { cluster: KUBECONFIG_CLUSTER_NAME, user: identity.name } }],
    "current-context": identity.name,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
