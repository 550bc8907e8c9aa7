/**
 * An example third-party provider: its "cloud" is a JSON file. Load it with
 * `--provider ./examples/json-file-provider/index.ts --provider-config stateFile=/tmp/lbs.json`.
 *
 * Load balancers get an address from the documentation ranges 198.51.100.0/24 then 203.0.113.0/24, and
 * target each node's InternalIP on the Service's nodePort. Every read of the file is reported as a
 * `ReadState` call and every write as a mutating `WriteState` call; an ensure that changes nothing
 * does not write.
 *
 * @module
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// Inside this repository the package's providers entry point is imported by path; a published plugin
// writes `from "lb-provisioner/providers"` instead.
import {
  type CallOptions,
  type GetOptions,
  InvalidConfigurationError,
  type LoadBalancerProvider,
  type LoadBalancerRef,
  type LoadBalancerSpec,
  type LoadBalancerStatus,
  type NodeSpec,
  type ObservedLoadBalancer,
  type ProviderCall,
  type ProviderFactory,
  TransientError,
  type ValidationIssue,
} from "../../providers/index.ts";
import {
  readState,
  type StateDocument,
  type StoredListener,
  type StoredLoadBalancer,
  serialized,
  writeState,
} from "./state-file.ts";

/** The provider API this plugin was written against; the loader refuses to run it under another. */
export const providerApiVersion = 1;

const SETTINGS = ["stateFile"];
const ADDRESS_RANGES = ["198.51.100", "203.0.113"];

class JsonFileProvider implements LoadBalancerProvider {
  readonly name = "json-file";
  readonly #path: string;
  readonly #onCall: ((call: ProviderCall) => void) | undefined;

  constructor(path: string, onCall: ((call: ProviderCall) => void) | undefined) {
    this.#path = path;
    this.#onCall = onCall;
  }

  validate(spec: LoadBalancerSpec): readonly ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (spec.listeners.length === 0) {
      issues.push({ field: "spec.ports", message: "add at least one port", severity: "error" });
    }
    const seen = new Set<string>();
    spec.listeners.forEach((listener, index) => {
      const at = `spec.ports[${index}]`;
      if (listener.protocol !== "TCP" && listener.protocol !== "UDP") {
        issues.push({
          field: `${at}.protocol`,
          message: `${listener.protocol} is not supported; use TCP or UDP`,
          severity: "error",
        });
      }
      if (!(listener.nodePort >= 1 && listener.nodePort <= 65535)) {
        issues.push({
          field: `${at}.nodePort`,
          message: "a nodePort is required; allow nodePort allocation",
          severity: "error",
        });
      }
      const identity = `${listener.port}/${listener.protocol}`;
      if (seen.has(identity)) {
        issues.push({ field: `${at}.port`, message: `${identity} appears twice; remove one`, severity: "error" });
      }
      seen.add(identity);
    });
    return issues;
  }

  async ensureLoadBalancer(spec: LoadBalancerSpec, options: CallOptions = {}): Promise<LoadBalancerStatus> {
    options.signal?.throwIfAborted();
    const problem = this.validate(spec).find((issue) => issue.severity === "error");
    if (problem !== undefined) throw new InvalidConfigurationError(problem.field, problem.message);
    return serialized(this.#path, async () => {
      const state = await this.#read(options.signal);
      const key = keyOf(spec);
      const existing = state.loadBalancers[key];
      const wanted = desiredRecord(spec, existing?.ip ?? freeAddress(state));
      if (JSON.stringify(existing) !== JSON.stringify(wanted)) {
        await this.#write({ loadBalancers: { ...state.loadBalancers, [key]: wanted } }, options.signal);
      }
      return { ingress: [{ ip: wanted.ip }] };
    });
  }

  async getLoadBalancer(ref: LoadBalancerRef, options: GetOptions = {}): Promise<ObservedLoadBalancer | undefined> {
    options.signal?.throwIfAborted();
    const record = (await this.#read(options.signal)).loadBalancers[keyOf(ref)];
    return record === undefined ? undefined : observe(record, options.nodes ?? [], this.#path);
  }

  async ensureLoadBalancerDeleted(ref: LoadBalancerRef, options: CallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await serialized(this.#path, async () => {
      const state = await this.#read(options.signal);
      const key = keyOf(ref);
      if (state.loadBalancers[key] === undefined) return;
      const { [key]: _removed, ...rest } = state.loadBalancers;
      await this.#write({ loadBalancers: rest }, options.signal);
    });
  }

  async listLoadBalancers(clusterName: string, options: CallOptions = {}): Promise<readonly ObservedLoadBalancer[]> {
    options.signal?.throwIfAborted();
    const state = await this.#read(options.signal);
    return Object.values(state.loadBalancers)
      .filter((record) => record.clusterName === clusterName)
      .map((record) => observe(record, [], this.#path));
  }

  #read(signal: AbortSignal | undefined): Promise<StateDocument> {
    return this.#call("ReadState", false, signal, () => readState(this.#path));
  }

  #write(state: StateDocument, signal: AbortSignal | undefined): Promise<void> {
    return this.#call("WriteState", true, signal, () => writeState(this.#path, state));
  }

  async #call<T>(operation: string, mutating: boolean, signal: AbortSignal | undefined, run: () => Promise<T>) {
    signal?.throwIfAborted();
    const started = performance.now();
    try {
      const result = await run();
      this.#onCall?.({ operation, mutating, outcome: "success", durationMs: performance.now() - started });
      return result;
    } catch (error) {
      this.#onCall?.({ operation, mutating, outcome: "transient", durationMs: performance.now() - started });
      throw new TransientError(`${operation} on ${this.#path} failed`, { cause: error });
    }
  }
}

function keyOf(ref: LoadBalancerRef): string {
  return JSON.stringify([ref.clusterName, ref.service.namespace, ref.service.name]);
}

function targetIp(node: NodeSpec): string {
  return (node.addresses.find((a) => a.type === "InternalIP") ?? node.addresses[0])?.address ?? node.name;
}

function desiredRecord(spec: LoadBalancerSpec, ip: string): StoredLoadBalancer {
  const targets = spec.nodes.map(targetIp).sort();
  const check = spec.healthCheck;
  const healthCheck: StoredListener["healthCheck"] =
    check.kind === "http"
      ? { protocol: "HTTP", port: check.port, path: check.path }
      : { protocol: "TCP", port: "traffic-port" };
  return {
    clusterName: spec.clusterName,
    namespace: spec.service.namespace,
    name: spec.service.name,
    ...(spec.service.uid === undefined ? {} : { uid: spec.service.uid }),
    ip,
    sourceRanges: [...spec.sourceRanges].sort(),
    listeners: spec.listeners
      .map((l) => ({ port: l.port, protocol: l.protocol as "TCP" | "UDP", nodePort: l.nodePort, targets, healthCheck }))
      .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol)),
  };
}

function freeAddress(state: StateDocument): string {
  const used = new Set(Object.values(state.loadBalancers).map((record) => record.ip));
  for (const range of ADDRESS_RANGES) {
    for (let host = 1; host <= 254; host++) {
      const candidate = `${range}.${host}`;
      if (!used.has(candidate)) return candidate;
    }
  }
  throw new TransientError("every address is in use; delete a load balancer to free one");
}

function observe(record: StoredLoadBalancer, nodes: readonly NodeSpec[], path: string): ObservedLoadBalancer {
  const nodeByIp = new Map(nodes.map((node) => [targetIp(node), node.name]));
  return {
    ref: {
      clusterName: record.clusterName,
      service: {
        namespace: record.namespace,
        name: record.name,
        ...(record.uid === undefined ? {} : { uid: record.uid }),
      },
    },
    status: { ingress: [{ ip: record.ip }] },
    listeners: record.listeners.map((listener) => ({
      port: listener.port,
      protocol: listener.protocol,
      targetPort: listener.nodePort,
      healthCheck: { ...listener.healthCheck },
      targets: listener.targets.map((ip) => {
        const node = nodeByIp.get(ip);
        return node === undefined ? { id: ip, port: listener.nodePort } : { id: ip, port: listener.nodePort, node };
      }),
    })),
    sourceRanges: [...record.sourceRanges],
    resources: { stateFile: path },
  };
}

/** Creates the provider; `settings.stateFile` names the JSON file (default: a new temporary file). */
const createJsonFileProvider: ProviderFactory = (options) => {
  for (const key of Object.keys(options.settings)) {
    if (!SETTINGS.includes(key)) {
      throw new InvalidConfigurationError(
        `--provider-config ${key}`,
        `unknown setting; this provider accepts ${SETTINGS.join(", ")}`,
      );
    }
  }
  const path = options.settings.stateFile ?? join(mkdtempSync(join(tmpdir(), "lbp-json-provider-")), "state.json");
  options.logger.info({ provider: "json-file", stateFile: path }, "keeping load balancers in a JSON file");
  return new JsonFileProvider(path, options.onCall);
};

export default createJsonFileProvider;
