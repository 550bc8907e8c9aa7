/**
 * The provider-neutral seam between the controller and a cloud.
 *
 * The controller knows Kubernetes and nothing of any cloud; a provider knows one cloud and nothing of
 * Kubernetes beyond the plain data in {@link LoadBalancerSpec}. Plugin authors implement
 * {@link LoadBalancerProvider} and export a {@link ProviderFactory} as their module's default export.
 *
 * @module
 */
import type { Registry } from "prom-client";

/** Interface version, bumped on any incompatible change to the types in this file (see docs/providers.md). */
export const PROVIDER_API_VERSION = 1;

/** The Service a load balancer belongs to. */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
  /**
   * The Service's `metadata.uid`. Always set in specs built by the controller; may be absent on refs
   * that a provider reconstructs from cloud-side tags in {@link LoadBalancerProvider.listLoadBalancers}.
   */
  readonly uid?: string;
}

/** Names one load balancer: a Service in a cluster. Identity never depends on anything else. */
export interface LoadBalancerRef {
  /** The `--cluster-name` this controller runs with; providers scope ownership to it. */
  readonly clusterName: string;
  readonly service: ServiceRef;
}

/** Transport protocols of a Service port. Providers reject the ones they cannot serve. */
export type Protocol = "TCP" | "UDP" | "SCTP";

/** One Service port, as the load balancer must expose it. */
export interface ListenerSpec {
  /** The Service port's name ("" for a single unnamed port). */
  readonly name: string;
  /** Port the load balancer listens on (`spec.ports[].port`). */
  readonly port: number;
  readonly protocol: Protocol;
  /** Port every eligible node serves this Service port on (`spec.ports[].nodePort`). */
  readonly nodePort: number;
}

/** A Node address as Kubernetes reports it (`status.addresses[]`). */
export interface NodeAddress {
  /** `InternalIP`, `ExternalIP`, `Hostname`, `InternalDNS` or `ExternalDNS`. */
  readonly type: string;
  readonly address: string;
}

/** A node the load balancer should send traffic to. Only eligible nodes ever appear in a spec. */
export interface NodeSpec {
  readonly name: string;
  /** `spec.providerID`, e.g. `aws:///us-east-1a/i-0123456789abcdef0`; absent when the node has none. */
  readonly providerID?: string;
  readonly addresses: readonly NodeAddress[];
  /** `topology.kubernetes.io/zone`, when labelled. */
  readonly zone?: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * How the load balancer decides a node is healthy.
 * - `traffic-port`: a TCP connect to each listener's own nodePort (`externalTrafficPolicy: Cluster`).
 * - `http`: an HTTP GET on the Service's `healthCheckNodePort` (`externalTrafficPolicy: Local`), which
 *   kube-proxy answers 200 only on nodes that have a local endpoint.
 */
export type HealthCheckSpec =
  | { readonly kind: "traffic-port"; readonly protocol: "TCP" }
  | { readonly kind: "http"; readonly protocol: "HTTP"; readonly port: number; readonly path: string };

/** An IP family, as Kubernetes spells it in `spec.ipFamilies`. */
export type IPFamily = "IPv4" | "IPv6";

/** `spec.ipFamilyPolicy`: how strictly the Service wants the families it lists. */
export type IPFamilyPolicy = "SingleStack" | "PreferDualStack" | "RequireDualStack";

/**
 * `spec.sessionAffinity: ClientIP`: every connection from one client address goes to the same node
 * for `timeoutSeconds` after its last one (`spec.sessionAffinityConfig.clientIP.timeoutSeconds`).
 */
export interface SessionAffinitySpec {
  readonly type: "ClientIP";
  readonly timeoutSeconds: number;
}

/** Everything a provider needs to build one Service's load balancer. Inputs are read-only. */
export interface LoadBalancerSpec extends LoadBalancerRef {
  /** One entry per Service port, in the Service's order. Never empty in a valid spec. */
  readonly listeners: readonly ListenerSpec[];
  /** Eligible nodes, sorted by name. May be empty (the load balancer then has no targets). */
  readonly nodes: readonly NodeSpec[];
  readonly healthCheck: HealthCheckSpec;
  readonly externalTrafficPolicy: "Cluster" | "Local";
  /**
   * Who may connect, as the controller decided it for every provider: `spec.loadBalancerSourceRanges`,
   * else the `service.beta.kubernetes.io/load-balancer-source-ranges` annotation; canonical CIDRs
   * (`parseCidr` in the rules). Empty means "allow all". Read this, not the annotation.
   */
  readonly sourceRanges: readonly string[];
  /** The Service's annotations, for the provider to parse its own (e.g. `service.beta.kubernetes.io/aws-*`). */
  readonly annotations: Readonly<Record<string, string>>;
  /**
   * What the Service publishes now in `status.loadBalancer`, when it publishes anything. A hint, never
   * identity: a provider whose load balancers do not outlive its process (`local`) uses it to hand back
   * the same address after a restart; a cloud provider ignores it. Changes to it alone are not a reason
   * to re-ensure.
   */
  readonly publishedStatus?: LoadBalancerStatus;
  /**
   * `spec.ipFamilies`: the families clients reach the Service on, the primary (first) one being the
   * family of the node addresses traffic is sent to. Absent means `["IPv4"]`. A provider that declares
   * {@link ProviderCapabilities.ipFamilies} builds for these or refuses them (see the rule
   * `ipFamilyIssues`); one that does not is treated as IPv4-only, and the controller warns.
   */
  readonly ipFamilies?: readonly IPFamily[];
  /** `spec.ipFamilyPolicy`; absent means `SingleStack`. */
  readonly ipFamilyPolicy?: IPFamilyPolicy;
  /**
   * `spec.sessionAffinity: ClientIP` with its timeout; absent for `None`. Read by a provider that
   * declares {@link ProviderCapabilities.sessionAffinity}.
   */
  readonly sessionAffinity?: SessionAffinitySpec;
  /**
   * `spec.loadBalancerIP` (deprecated by Kubernetes, still set by many manifests): the address the
   * Service asks for. Absent when empty. Read by a provider that declares
   * {@link ProviderCapabilities.loadBalancerIP}.
   */
  readonly loadBalancerIP?: string;
}

/**
 * How traffic to an ingress `ip` reaches the nodes (`status.loadBalancer.ingress[].ipMode`):
 * - `VIP`: packets arrive with the load balancer's address as destination, so kube-proxy may route the
 *   address inside the cluster itself (the default for an `ip`);
 * - `Proxy`: the load balancer is a proxy that opens its own connections to the nodes; in-cluster
 *   clients must go through it, so kube-proxy leaves the address alone.
 */
export type LoadBalancerIPMode = "VIP" | "Proxy";

/** One entry of `status.loadBalancer.ingress`. A provider sets `hostname`, `ip`, or both. */
export interface LoadBalancerIngress {
  readonly hostname?: string;
  /** An IP address (either family), written canonically. */
  readonly ip?: string;
  /** Only with an `ip`; absent means `VIP`. A hostname-only entry has none (the API server refuses it). */
  readonly ipMode?: LoadBalancerIPMode;
}

/** What the controller writes to the Service's `status.loadBalancer`. */
export interface LoadBalancerStatus {
  readonly ingress: readonly LoadBalancerIngress[];
}

/** A target as the cloud has it. */
export interface ObservedTarget {
  /** The provider's identity of the target: an instance id, an IP, or (fake) a node name. */
  readonly id: string;
  /** The port traffic is sent to on the target: the listener's nodePort. */
  readonly port: number;
  /** The Node this target is, when the provider could map it back (see {@link GetOptions.nodes}). */
  readonly node?: string;
  /** Health as the cloud last reported it, when it reports one. */
  readonly health?: "healthy" | "unhealthy" | "initial" | "draining" | "unknown";
}

/** Health check as the cloud has it. */
export interface ObservedHealthCheck {
  readonly protocol: "TCP" | "HTTP" | "HTTPS";
  /** A port number, or `traffic-port` when the cloud probes each target on its own port. */
  readonly port: number | "traffic-port";
  readonly path?: string;
}

/** One listener and the targets it forwards to. */
export interface ObservedListener {
  readonly port: number;
  /** Protocol of the listener; a provider may report a cloud protocol such as `TCP_UDP` or `TLS`. */
  readonly protocol: string;
  /** The nodePort the listener forwards to. */
  readonly targetPort: number;
  readonly targets: readonly ObservedTarget[];
  readonly healthCheck?: ObservedHealthCheck;
}

/** A load balancer as it exists, in neutral terms: what `plan` compares and what tests check. */
export interface ObservedLoadBalancer {
  readonly ref: LoadBalancerRef;
  readonly status: LoadBalancerStatus;
  /** Listeners sorted by port then protocol. */
  readonly listeners: readonly ObservedListener[];
  readonly scheme?: "internet-facing" | "internal";
  readonly sourceRanges?: readonly string[];
  /** The families clients can reach it on, where the cloud reports them (e.g. an NLB's `IpAddressType`). */
  readonly ipFamilies?: readonly IPFamily[];
  /** Client-IP stickiness, when the load balancer has it. */
  readonly sessionAffinity?: SessionAffinitySpec;
  /**
   * The cloud refuses to delete it until an operator switches this off (an NLB's deletion protection):
   * deleting its Service waits, with a Warning, until then.
   */
  readonly deletionProtection?: boolean;
  /** Provider identifiers worth showing an operator (e.g. ARNs), keyed by a short label. */
  readonly resources?: Readonly<Record<string, string>>;
  /**
   * Set when this load balancer was built for the Service by another controller (named here, e.g. the
   * legacy AWS cloud provider) and the next ensure takes it over in place, keeping its address.
   */
  readonly adoptFrom?: string;
  /**
   * Resources the provider owns for this Service that the load balancer does not use — e.g. a target
   * group no listener forwards to, left by a change or delete that failed half-way — and that the next
   * ensure removes (or takes into use, when the spec needs it again) and a delete removes.
   */
  readonly leftovers?: readonly ObservedLeftover[];
}

/** A resource owned for a Service and not in use by its load balancer (see {@link ObservedLoadBalancer.leftovers}). */
export interface ObservedLeftover {
  /** What it is, in the provider's words, e.g. `target-group` or `security-group`. */
  readonly kind: string;
  /** The provider's identifier (e.g. an ARN or a group id). */
  readonly id: string;
  /** For a target group: the port it sends traffic to (the nodePort it was made for), and its protocol. */
  readonly targetPort?: number;
  readonly protocol?: string;
}

/** Options common to every provider call. */
export interface CallOptions {
  /**
   * Aborted when the controller shuts down or gives up. A provider stops issuing cloud calls soon after
   * and rejects with the signal's reason; whatever it created so far stays owned and tagged, so the next
   * ensure or delete converges from there.
   */
  readonly signal?: AbortSignal;
}

/**
 * Why the controller ensures now. A provider may use it to read less, never to converge less:
 * - `changed`: the Service's part of the spec differs from the last ensure that succeeded in this
 *   process, or there was none (the first since the process started, or the last one failed);
 * - `nodes`: only `spec.nodes` differs from the last ensure that succeeded in this process;
 * - `resync`: nothing differs; the periodic check for changes made behind the controller's back.
 */
export type EnsureReason = "changed" | "nodes" | "resync";

export interface EnsureOptions extends CallOptions {
  /** Absent means `changed`. */
  readonly reason?: EnsureReason;
}

export interface GetOptions extends CallOptions {
  /** Nodes the controller knows; lets a provider fill {@link ObservedTarget.node}. */
  readonly nodes?: readonly NodeSpec[];
}

/** A problem with a spec, naming the field and how to fix it. */
export interface ValidationIssue {
  /** The Service field or annotation at fault, e.g. `spec.ports[1].protocol` or `metadata.annotations[...]`. */
  readonly field: string;
  /** What is wrong and what to do about it, in one sentence. */
  readonly message: string;
  /** `error` makes the spec invalid; `warning` is reported and the load balancer is still built. */
  readonly severity: "error" | "warning";
}

/**
 * How a provider treats a spec field added within version 1 that changes what must be built:
 * - `honoured`: it builds what the field asks;
 * - `answered`: it does not build it, and its `validate` (and `ensureLoadBalancer`, for an `error`)
 *   answers every spec that sets the field with an issue naming the field and what to do instead.
 * A provider that declares neither is treated as before the field existed, and the controller warns
 * about every Service that sets it.
 */
export type FieldSupport = "honoured" | "answered";

/** What a provider declares it does with the spec fields added within version 1 (docs/providers.md). */
export interface ProviderCapabilities {
  /**
   * The families its load balancers can serve clients on. It builds a spec whose
   * {@link LoadBalancerSpec.ipFamilies} it serves, and answers the others as the rule `ipFamilyIssues`
   * does (an error, or a warning for `PreferDualStack` when a family it serves is listed). Absent:
   * IPv4 only, and the controller warns about Services that list IPv6.
   */
  readonly ipFamilies?: readonly IPFamily[];
  /** What it does with {@link LoadBalancerSpec.sessionAffinity}. */
  readonly sessionAffinity?: FieldSupport;
  /** What it does with {@link LoadBalancerSpec.loadBalancerIP}. */
  readonly loadBalancerIP?: FieldSupport;
}

/**
 * A cloud's load balancers.
 *
 * Contract for every method:
 * - Inputs are read-only; a provider never mutates a spec, ref or node it is given.
 * - Identity is the {@link LoadBalancerRef}: the same ref always addresses the same load balancer, across
 *   process restarts, with no state kept outside the cloud.
 * - A provider modifies or deletes only resources it can prove it created for that ref in that cluster
 *   (e.g. by tags). Anything else in the way is a {@link ConflictError}.
 * - Errors are the classes in `errors.ts`; anything else is treated by the controller as transient.
 *
 * What the controller does with each error:
 * - {@link RetryAfterError}: requeues after exactly `retryAfterMs`; no Warning event.
 * - {@link InvalidConfigurationError}: Warning event naming the field; no retry until the Service or
 *   the node set changes.
 * - {@link ConflictError}: Warning event; retried on the slow backoff, in case the conflict is removed.
 * - {@link TransientError} (incl. {@link ThrottledError}) and unknown errors: Warning event; per-key
 *   exponential backoff (5 s doubling to 300 s).
 */
export interface LoadBalancerProvider {
  /** Short name for logs and metrics, e.g. `aws` or `fake`. */
  readonly name: string;

  /**
   * The spec fields added within version 1 that this provider reads, and how. Optional: a provider
   * without it builds as before those fields existed, and the controller warns about Services that
   * set them. Constant for the provider's life.
   */
  readonly capabilities?: ProviderCapabilities;

  /**
   * Creates the load balancer for `spec.service` or converges an existing one to `spec`, and returns the
   * address to publish.
   *
   * Idempotent: a second call with an equal spec makes no mutating cloud call. Converges by diff — a
   * changed node set costs one register/deregister per target group, not a rebuild. Recreates anything
   * deleted out of band. On an invalid spec it throws {@link InvalidConfigurationError} before creating
   * anything.
   *
   * Without {@link EnsureOptions.reason} (or with `changed`) it reads the cloud as it is now. With
   * `nodes` or `resync` it may compare with what it read or did earlier in this process instead, as
   * long as a change made behind its back is still found within a bound it documents (the AWS
   * provider's is in docs/aws.md); a restarted process knows nothing earlier, so it reads.
   */
  ensureLoadBalancer(spec: LoadBalancerSpec, options?: EnsureOptions): Promise<LoadBalancerStatus>;

  /**
   * Reads the load balancer for `ref`. Resolves `undefined` when none exists (including when a resource
   * with its name exists but belongs to someone else). Never mutates.
   */
  getLoadBalancer(ref: LoadBalancerRef, options?: GetOptions): Promise<ObservedLoadBalancer | undefined>;

  /**
   * Removes everything this provider created for `ref`: listeners, load balancer, target groups,
   * security groups. Resolves when nothing is left, including when nothing ever existed; a second call
   * is a no-op (no mutating cloud call). Resources not owned by `ref` are never touched.
   */
  ensureLoadBalancerDeleted(ref: LoadBalancerRef, options?: CallOptions): Promise<void>;

  /**
   * Lists every load balancer this provider owns in `clusterName`, whatever Service it was made for,
   * and every Service's leftovers where no load balancer is left: an entry with an empty status, no
   * listeners and the resources in {@link ObservedLoadBalancer.leftovers}. Used by `gc` to find what no
   * Service accounts for. Optional.
   */
  listLoadBalancers?(clusterName: string, options?: CallOptions): Promise<readonly ObservedLoadBalancer[]>;

  /**
   * Checks a spec without any cloud call: pure and synchronous. Returns every issue found (empty when
   * valid). `ensureLoadBalancer` must reject a spec that has an `error` issue with
   * {@link InvalidConfigurationError}. Optional; used by `plan` and for early Warning events.
   */
  validate?(spec: LoadBalancerSpec): readonly ValidationIssue[];

  /** Releases clients, timers and sockets. Called once, at shutdown. Optional. */
  close?(): Promise<void>;
}

/** One cloud call, reported for the controller's metrics. */
export interface ProviderCall {
  /** The cloud operation, e.g. `CreateLoadBalancer`. */
  readonly operation: string;
  /** Whether the operation changes the cloud (create, modify, register, delete...). */
  readonly mutating: boolean;
  /** `success`, or the neutral error class name (`throttled`, `not_found`, `invalid`, `conflict`, `transient`). */
  readonly outcome: "success" | "throttled" | "not_found" | "invalid" | "conflict" | "transient";
  readonly durationMs: number;
}

/** The subset of a structured logger a provider may use (pino's shape). */
export interface ProviderLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the controller hands a provider factory. */
export interface ProviderOptions {
  readonly clusterName: string;
  readonly logger: ProviderLogger;
  /** Called after every cloud call; feeds `lbp_provider_calls_total`. */
  readonly onCall?: (call: ProviderCall) => void;
  /**
   * Provider-specific settings, from `--provider-config key=value` flags and the environment (e.g. the
   * AWS provider reads `region` and `endpoint`). Unknown keys are the provider's to reject.
   */
  readonly settings: Readonly<Record<string, string>>;
  /**
   * The controller's Prometheus registry (served on `/metrics`), for a provider with metrics of its own
   * beyond `onCall` (the `local` provider's data plane). Names start `lbp_<provider>_`. Absent when the
   * caller exports no metrics (tests, `plan`).
   */
  readonly metricsRegistry?: Registry;
}

/** A plugin module's default export. May be async (e.g. to read credentials). */
export type ProviderFactory = (options: ProviderOptions) => LoadBalancerProvider | Promise<LoadBalancerProvider>;
