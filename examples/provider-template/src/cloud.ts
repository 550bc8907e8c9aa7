/**
 * A stand-in for your cloud's API, so the template runs as it is: replace this module with your cloud's
 * SDK client. It has the shape that matters to a provider: named load balancers carrying tags, an
 * address the cloud assigns, asynchronous calls, and errors with a code. Its load balancers live in this
 * process's memory, shared by every provider in the process like one cloud account.
 *
 * @module
 */

export interface CloudHealthCheck {
  readonly protocol: "TCP" | "HTTP";
  /** A port, or `traffic-port`: each target is probed on the port it receives traffic on. */
  readonly port: number | "traffic-port";
  readonly path?: string;
}

export interface CloudListener {
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
  /** The port traffic is sent to on every target. */
  readonly targetPort: number;
  /** Target IP addresses. */
  readonly targets: readonly string[];
  readonly healthCheck: CloudHealthCheck;
}

/** A load balancer as the provider asks for it. */
export interface CloudLoadBalancerInput {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly listeners: readonly CloudListener[];
  /** CIDRs allowed to connect; empty allows everyone. */
  readonly allowedSourceRanges: readonly string[];
}

/**
 * A load balancer as the cloud has it: what was asked for, the address the cloud gave it, and the IP
 * families it serves clients on (this stand-in's load balancers are IPv4 only).
 */
export interface CloudLoadBalancer extends CloudLoadBalancerInput {
  readonly address: string;
  readonly ipFamilies: readonly ("IPv4" | "IPv6")[];
}

export type CloudErrorCode = "NotFound" | "AlreadyExists" | "Throttled" | "Unavailable";

/** Every error the cloud returns: a stable `code` to classify by, never the message. */
export class CloudApiError extends Error {
  override readonly name = "CloudApiError";
  readonly code: CloudErrorCode;
  constructor(code: CloudErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export class ExampleCloud {
  readonly #loadBalancers = new Map<string, CloudLoadBalancer>();

  async describe(name: string): Promise<CloudLoadBalancer | undefined> {
    const found = this.#loadBalancers.get(name);
    return found === undefined ? undefined : structuredClone(found);
  }

  async list(): Promise<CloudLoadBalancer[]> {
    return structuredClone([...this.#loadBalancers.values()]);
  }

  async create(input: CloudLoadBalancerInput): Promise<CloudLoadBalancer> {
    if (this.#loadBalancers.has(input.name)) throw new CloudApiError("AlreadyExists", `${input.name} exists`);
    const created = {
      ...structuredClone(input),
      address: `${input.name}.lb.example.invalid`,
      ipFamilies: ["IPv4" as const],
    };
    this.#loadBalancers.set(input.name, created);
    return structuredClone(created);
  }

  /** Replaces listeners, targets, source ranges and tags; the address stays. */
  async update(input: CloudLoadBalancerInput): Promise<CloudLoadBalancer> {
    const current = this.#loadBalancers.get(input.name);
    if (current === undefined) throw new CloudApiError("NotFound", `${input.name} does not exist`);
    const updated = { ...structuredClone(input), address: current.address, ipFamilies: current.ipFamilies };
    this.#loadBalancers.set(input.name, updated);
    return structuredClone(updated);
  }

  async delete(name: string): Promise<void> {
    if (!this.#loadBalancers.delete(name)) throw new CloudApiError("NotFound", `${name} does not exist`);
  }
}

/** The cloud account of this process. */
export const exampleCloud = new ExampleCloud();
