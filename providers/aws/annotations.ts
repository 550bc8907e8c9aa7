/**
 * The Service annotations of the AWS provider: cloud-provider-aws's NLB annotations (so existing
 * manifests keep working), plus `aws-load-balancer-nlb-target-type`, `aws-load-balancer-scheme` and
 * `aws-load-balancer-ip-address-type` from the AWS Load Balancer Controller. {@link parseAnnotations} turns them into one typed
 * {@link AwsServiceConfig}, reporting every problem as a {@link ValidationIssue} that names
 * `metadata.annotations["<key>"]` and says how to fix it. An annotation this provider does not implement
 * is a `warning` (the load balancer is still built, without it), never silently ignored.
 *
 * Pure: no cloud calls. Checks that need AWS (do the subnets exist?) happen in the provider.
 *
 * @module
 */
import { isIP } from "node:net";
import { isLabelKey, isLabelValue, parseGoBool } from "../rules/index.ts";
import type { ListenerSpec, LoadBalancerSpec, ValidationIssue } from "../types.ts";
import type { HealthCheckProtocol, LoadBalancerAddressType, Scheme, TargetType } from "./state.ts";
import { isReservedTagKey } from "./tags.ts";

const P = "service.beta.kubernetes.io/";

/** Every annotation key this provider reads. */
export const ANNOTATION = {
  type: `${P}aws-load-balancer-type`,
  internal: `${P}aws-load-balancer-internal`,
  scheme: `${P}aws-load-balancer-scheme`,
  targetType: `${P}aws-load-balancer-nlb-target-type`,
  subnets: `${P}aws-load-balancer-subnets`,
  eipAllocations: `${P}aws-load-balancer-eip-allocations`,
  privateIpv4Addresses: `${P}aws-load-balancer-private-ipv4-addresses`,
  sslCert: `${P}aws-load-balancer-ssl-cert`,
  sslPorts: `${P}aws-load-balancer-ssl-ports`,
  sslNegotiationPolicy: `${P}aws-load-balancer-ssl-negotiation-policy`,
  backendProtocol: `${P}aws-load-balancer-backend-protocol`,
  additionalTags: `${P}aws-load-balancer-additional-resource-tags`,
  healthCheckProtocol: `${P}aws-load-balancer-healthcheck-protocol`,
  healthCheckPort: `${P}aws-load-balancer-healthcheck-port`,
  healthCheckPath: `${P}aws-load-balancer-healthcheck-path`,
  healthCheckInterval: `${P}aws-load-balancer-healthcheck-interval`,
  healthCheckTimeout: `${P}aws-load-balancer-healthcheck-timeout`,
  healthyThreshold: `${P}aws-load-balancer-healthcheck-healthy-threshold`,
  unhealthyThreshold: `${P}aws-load-balancer-healthcheck-unhealthy-threshold`,
  crossZone: `${P}aws-load-balancer-cross-zone-load-balancing-enabled`,
  accessLogEnabled: `${P}aws-load-balancer-access-log-enabled`,
  accessLogBucket: `${P}aws-load-balancer-access-log-s3-bucket-name`,
  accessLogPrefix: `${P}aws-load-balancer-access-log-s3-bucket-prefix`,
  targetGroupAttributes: `${P}aws-load-balancer-target-group-attributes`,
  targetNodeLabels: `${P}aws-load-balancer-target-node-labels`,
  attributes: `${P}aws-load-balancer-attributes`,
  proxyProtocol: `${P}aws-load-balancer-proxy-protocol`,
  alpnPolicy: `${P}aws-load-balancer-alpn-policy`,
  healthCheckSuccessCodes: `${P}aws-load-balancer-healthcheck-success-codes`,
  ipAddressType: `${P}aws-load-balancer-ip-address-type`,
  securityGroups: `${P}aws-load-balancer-security-groups`,
} as const;

/**
 * cloud-provider-aws annotations this provider does not implement, each with why and what to do
 * instead. Setting one yields a `warning` issue carrying this text.
 */
export const UNSUPPORTED_ANNOTATIONS: Readonly<Record<string, string>> = {
  [`${P}aws-load-balancer-connection-draining-enabled`]:
    "applies to Classic Load Balancers only; for an NLB set deregistration_delay.timeout_seconds in aws-load-balancer-target-group-attributes",
  [`${P}aws-load-balancer-connection-draining-timeout`]:
    "applies to Classic Load Balancers only; for an NLB set deregistration_delay.timeout_seconds in aws-load-balancer-target-group-attributes",
  [`${P}aws-load-balancer-connection-idle-timeout`]:
    "applies to Classic Load Balancers only; NLB idle timeouts are fixed per protocol",
  [`${P}aws-load-balancer-access-log-emit-interval`]:
    "applies to Classic Load Balancers only; NLB access logs have a fixed interval",
  [`${P}aws-load-balancer-extra-security-groups`]:
    "applies to Classic Load Balancers only; the NLB gets one security group owned by the Service, whose rules follow spec.loadBalancerSourceRanges, or the groups in aws-load-balancer-security-groups instead",
};

/** Which ports get a TLS listener: every TCP port, or those named by number or Service port name. */
export type TlsPorts =
  | { readonly all: true }
  | { readonly numbers: ReadonlySet<number>; readonly names: ReadonlySet<string> };

export interface TlsConfig {
  /** The listeners' default certificate: the first of `ssl-cert`. */
  readonly certificateArn: string;
  /** The rest of `ssl-cert`, served by SNI besides the default (possibly none). */
  readonly sniCertificateArns: readonly string[];
  readonly ports: TlsPorts;
  readonly sslPolicy?: string;
  /** `alpn-policy`: the ALPN policy of the TLS listeners; absent, whatever AWS has is accepted. */
  readonly alpnPolicy?: AlpnPolicy;
  /** `backend-protocol: ssl`: the target group speaks TLS to the nodes too. */
  readonly backendTls: boolean;
}

/** The ALPN policies of a TLS listener. */
export const ALPN_POLICIES = ["HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"] as const;
export type AlpnPolicy = (typeof ALPN_POLICIES)[number];

/** Annotation overrides of the health check; absent fields keep the Service's defaults. */
export interface HealthCheckOverrides {
  readonly protocol?: HealthCheckProtocol;
  /** `traffic-port`, a port number, or a Service port name (its nodePort). */
  readonly port?: "traffic-port" | number | { readonly portName: string };
  readonly path?: string;
  readonly intervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly healthyThreshold?: number;
  readonly unhealthyThreshold?: number;
  /** HTTP codes a healthy target answers an HTTP(S) check with: `200`, `200-399`, `200,202`. */
  readonly successCodes?: string;
}

/**
 * A label selector from `target-node-labels`: `key=value` must match; `key` or `key=` requires only
 * the key (as cloud-provider-aws).
 */
export type NodeLabelSelector = Readonly<Record<string, string | { readonly exists: true }>>;

/** Everything the annotations ask for, with defaults applied. */
export interface AwsServiceConfig {
  readonly scheme: Scheme;
  /** `ip-address-type`, when set; absent: from the Service's `ipFamilies` (see `families.ts`). */
  readonly ipAddressType?: LoadBalancerAddressType;
  /** Absent: instance targets, or ip targets when no node has an AWS providerID. */
  readonly targetType?: TargetType;
  /** Subnet IDs or `Name` tag values; absent: discovery. */
  readonly subnets?: readonly string[];
  readonly eipAllocations?: readonly string[];
  readonly privateIpv4Addresses?: readonly string[];
  readonly tls?: TlsConfig;
  readonly additionalTags: Readonly<Record<string, string>>;
  readonly healthCheck: HealthCheckOverrides;
  /**
   * The load balancer attributes enforced: cross-zone and access logs always (off unless asked for, as
   * cloud-provider-aws), the other keys of `aws-load-balancer-attributes` only when given.
   */
  readonly loadBalancerAttributes: Readonly<Record<string, string>>;
  /** Only the keys asked for. */
  readonly targetGroupAttributes: Readonly<Record<string, string>>;
  readonly targetNodeLabels: NodeLabelSelector;
  /**
   * `security-groups`: the Service's own security groups, attached instead of the managed one (which is
   * then not made, or removed). Absent: the managed group, whose rules follow the source ranges.
   */
  readonly securityGroups?: readonly string[];
}

export interface ParsedAnnotations {
  readonly config: AwsServiceConfig;
  readonly issues: readonly ValidationIssue[];
}

/** Target group attributes accepted in `target-group-attributes`, with a check of each value. */
const TARGET_GROUP_ATTRIBUTES: Readonly<Record<string, (value: string) => string | undefined>> = {
  "preserve_client_ip.enabled": expectBoolean,
  "proxy_protocol_v2.enabled": expectBoolean,
  "deregistration_delay.timeout_seconds": (v) => expectIntegerIn(v, 0, 3600),
  "deregistration_delay.connection_termination.enabled": expectBoolean,
  "stickiness.enabled": expectBoolean,
  "stickiness.type": (v) => (v === "source_ip" ? undefined : "must be source_ip on a Network Load Balancer"),
  "target_health_state.unhealthy.connection_termination.enabled": expectBoolean,
  "target_health_state.unhealthy.draining_interval_seconds": (v) => expectIntegerIn(v, 0, 360000),
};

/** Turns `spec.annotations` into a config, plus every problem found. */
export function parseAnnotations(spec: LoadBalancerSpec): ParsedAnnotations {
  const a = spec.annotations;
  const issues = new Issues();

  checkType(a, issues);
  for (const key of Object.keys(a).sort()) {
    // Own keys only: an annotation named like an Object.prototype member ("constructor") is just unknown.
    const reason = Object.hasOwn(UNSUPPORTED_ANNOTATIONS, key) ? UNSUPPORTED_ANNOTATIONS[key] : undefined;
    if (reason !== undefined) issues.warn(key, `is not supported by this provider and has no effect: ${reason}`);
    else if (key.startsWith(`${P}aws-load-balancer-`) && !KNOWN_KEYS.has(key))
      issues.warn(key, "is not an annotation this provider knows; it has no effect (see docs/aws.md for the list)");
  }

  const scheme = parseScheme(a, issues);
  const targetType = parseEnum(a, ANNOTATION.targetType, ["instance", "ip"] as const, issues);
  const ipAddressType = parseEnum(a, ANNOTATION.ipAddressType, ["ipv4", "dualstack"] as const, issues);
  const subnets = parseOptionalList(a, ANNOTATION.subnets, issues);
  const eipAllocations = parseEipAllocations(a, scheme, issues);
  const privateIpv4Addresses = parsePrivateAddresses(a, scheme, issues);
  const tls = parseTls(spec, issues);
  const additionalTags = parseAdditionalTags(a, spec.clusterName, issues);
  const healthCheck = parseHealthCheck(spec, issues);
  const loadBalancerAttributes = parseLoadBalancerAttributes(a, issues);
  const targetGroupAttributes = withProxyProtocol(a, parseTargetGroupAttributes(spec, issues), issues);
  const targetNodeLabels = parseNodeLabels(a, issues);
  const securityGroups = parseSecurityGroups(spec, issues);

  const config: AwsServiceConfig = {
    scheme,
    ...(ipAddressType !== undefined && { ipAddressType }),
    ...(targetType !== undefined && { targetType }),
    ...(subnets !== undefined && { subnets }),
    ...(eipAllocations !== undefined && { eipAllocations }),
    ...(privateIpv4Addresses !== undefined && { privateIpv4Addresses }),
    ...(tls !== undefined && { tls }),
    additionalTags,
    healthCheck,
    loadBalancerAttributes,
    targetGroupAttributes,
    targetNodeLabels,
    ...(securityGroups !== undefined && { securityGroups }),
  };
  return { config, issues: issues.list };
}

/** `metadata.annotations["<key>"]`, the field name every issue about an annotation carries. */
export function annotationField(key: string): string {
  return `metadata.annotations[${JSON.stringify(key)}]`;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.values(ANNOTATION));

class Issues {
  readonly list: ValidationIssue[] = [];
  error(key: string, message: string): void {
    this.list.push({ field: annotationField(key), message, severity: "error" });
  }
  warn(key: string, message: string): void {
    this.list.push({ field: annotationField(key), message, severity: "warning" });
  }
}

function checkType(a: Readonly<Record<string, string>>, issues: Issues): void {
  const value = a[ANNOTATION.type];
  if (value === undefined || value === "nlb") return;
  if (value === "nlb-ip" || value === "external")
    issues.error(
      ANNOTATION.type,
      `"${value}" hands the Service to the AWS Load Balancer Controller; remove the annotation or set it to "nlb" for this provider to build the load balancer`,
    );
  else
    issues.error(
      ANNOTATION.type,
      `"${value}" is not supported: this provider builds Network Load Balancers only; set it to "nlb" or remove it`,
    );
}

function parseScheme(a: Readonly<Record<string, string>>, issues: Issues): Scheme {
  // cloud-provider-aws: absent, empty or exactly "false" means internet-facing; any other value internal.
  const internal = a[ANNOTATION.internal];
  const fromInternal: Scheme | undefined =
    internal === undefined ? undefined : internal === "" || internal === "false" ? "internet-facing" : "internal";
  const fromScheme = parseEnum(a, ANNOTATION.scheme, ["internal", "internet-facing"] as const, issues);
  if (fromScheme !== undefined && fromInternal !== undefined && fromScheme !== fromInternal)
    issues.error(
      ANNOTATION.scheme,
      `says "${fromScheme}" but ${ANNOTATION.internal} says "${fromInternal}"; remove one of the two annotations`,
    );
  return fromScheme ?? fromInternal ?? "internet-facing";
}

function parseEipAllocations(
  a: Readonly<Record<string, string>>,
  scheme: Scheme,
  issues: Issues,
): readonly string[] | undefined {
  const list = parseOptionalList(a, ANNOTATION.eipAllocations, issues);
  if (list === undefined) return undefined;
  if (scheme === "internal")
    issues.error(ANNOTATION.eipAllocations, "Elastic IPs apply to internet-facing load balancers only; remove it");
  const bad = list.filter((id) => !/^eipalloc-[0-9a-f]+$/.test(id));
  if (bad.length > 0)
    issues.error(
      ANNOTATION.eipAllocations,
      `${quoteAll(bad)} are not Elastic IP allocation IDs (eipalloc-...); list one allocation ID per subnet`,
    );
  return list;
}

function parsePrivateAddresses(
  a: Readonly<Record<string, string>>,
  scheme: Scheme,
  issues: Issues,
): readonly string[] | undefined {
  const list = parseOptionalList(a, ANNOTATION.privateIpv4Addresses, issues);
  if (list === undefined) return undefined;
  if (scheme !== "internal")
    issues.error(
      ANNOTATION.privateIpv4Addresses,
      `private addresses apply to internal load balancers only; add ${ANNOTATION.internal}: "true" or remove it`,
    );
  const bad = list.filter((ip) => isIP(ip) !== 4);
  if (bad.length > 0)
    issues.error(ANNOTATION.privateIpv4Addresses, `${quoteAll(bad)} are not IPv4 addresses; list one per subnet`);
  return list;
}

function parseTls(spec: LoadBalancerSpec, issues: Issues): TlsConfig | undefined {
  const a = spec.annotations;
  const cert = a[ANNOTATION.sslCert]?.trim();
  const portsValue = a[ANNOTATION.sslPorts];
  const policy = a[ANNOTATION.sslNegotiationPolicy]?.trim();
  const backend = a[ANNOTATION.backendProtocol]?.trim().toLowerCase();

  checkBackendProtocol(backend, issues);
  const alpnPolicy = parseAlpnPolicy(a, issues);
  if (cert === undefined || cert === "") {
    for (const key of [ANNOTATION.sslPorts, ANNOTATION.sslNegotiationPolicy, ANNOTATION.alpnPolicy])
      if (a[key] !== undefined) issues.warn(key, `has no effect without ${ANNOTATION.sslCert}`);
    if (backend === "ssl") issues.warn(ANNOTATION.backendProtocol, `"ssl" has no effect without ${ANNOTATION.sslCert}`);
    return undefined;
  }
  const certificates = parseCertificates(a, cert, issues);
  if (certificates === undefined) return undefined;
  const { certificateArn, sniCertificateArns } = certificates;
  const ports = parseTlsPorts(spec, portsValue, issues);
  const selected = spec.listeners.filter((l) => tlsSelects(ports, l));
  if (selected.length > 0 && selected.every((l) => l.protocol !== "TCP"))
    issues.warn(ANNOTATION.sslCert, "selects only UDP ports, which cannot use TLS; no TLS listener is made");

  return {
    certificateArn,
    sniCertificateArns,
    ports,
    ...(policy !== undefined && policy !== "" && { sslPolicy: policy }),
    ...(alpnPolicy !== undefined && { alpnPolicy }),
    backendTls: backend === "ssl",
  };
}

/** Certificates a listener can hold besides its default (Elastic Load Balancing's quota). */
const MAX_SNI_CERTIFICATES = 25;

/** `alpn-policy`, spelled as the AWS Load Balancer Controller and ELB spell it (case as given by AWS). */
function parseAlpnPolicy(a: Readonly<Record<string, string>>, issues: Issues): AlpnPolicy | undefined {
  const raw = a[ANNOTATION.alpnPolicy];
  if (raw === undefined) return undefined;
  const policy = ALPN_POLICIES.find((p) => p.toLowerCase() === raw.trim().toLowerCase());
  if (policy === undefined) issues.error(ANNOTATION.alpnPolicy, `"${raw}" is not one of ${ALPN_POLICIES.join(", ")}`);
  return policy;
}

/** Whether the TLS configuration selects a listener's port (by number or by Service port name). */
export function tlsSelects(ports: TlsPorts, listener: Pick<ListenerSpec, "port" | "name">): boolean {
  if ("all" in ports) return true;
  return ports.numbers.has(listener.port) || (listener.name !== "" && ports.names.has(listener.name));
}

/** `backend-protocol`: `ssl` or `tcp` for an NLB; `http` and `https` only warn, as they do nothing here. */
function checkBackendProtocol(backend: string | undefined, issues: Issues): void {
  if (backend !== undefined && backend !== "" && !["ssl", "tcp", "http", "https"].includes(backend))
    issues.error(ANNOTATION.backendProtocol, `"${backend}" is not a backend protocol; use "ssl" or "tcp"`);
  else if (backend === "http" || backend === "https")
    issues.warn(
      ANNOTATION.backendProtocol,
      `"${backend}" applies to Classic Load Balancers only; an NLB forwards TCP (or TLS with "ssl"), so it has no effect`,
    );
}

/** `ssl-cert`: the default certificate, then the SNI ones, each an ACM or IAM ARN; undefined after an error. */
function parseCertificates(
  a: Readonly<Record<string, string>>,
  cert: string,
  issues: Issues,
): { readonly certificateArn: string; readonly sniCertificateArns: string[] } | undefined {
  const certificates = parseOptionalList(a, ANNOTATION.sslCert, issues) ?? [];
  const notArns = certificates.filter((arn) => !/^arn:aws[a-z-]*:(acm|iam):/.test(arn));
  if (notArns.length > 0) {
    issues.error(
      ANNOTATION.sslCert,
      `${quoteAll(notArns)} ${notArns.length === 1 ? "is not an ACM or IAM certificate ARN" : "are not ACM or IAM certificate ARNs"} (arn:aws:acm:...); list the default certificate first, then any for SNI`,
    );
    return undefined;
  }
  const [certificateArn = cert, ...sniCertificateArns] = certificates;
  if (sniCertificateArns.length > MAX_SNI_CERTIFICATES) {
    issues.error(
      ANNOTATION.sslCert,
      `lists ${certificates.length} certificates; a listener takes at most ${MAX_SNI_CERTIFICATES} besides the default`,
    );
    return undefined;
  }
  return { certificateArn, sniCertificateArns };
}

/** `ssl-ports`: `*` (the default), or port numbers and names; a name or number no port has is warned about. */
function parseTlsPorts(spec: LoadBalancerSpec, portsValue: string | undefined, issues: Issues): TlsPorts {
  const entries = portsValue === undefined ? ["*"] : splitList(portsValue);
  if (entries.length === 0)
    issues.error(
      ANNOTATION.sslPorts,
      'lists no port, so no listener would get TLS; use "*", or port numbers and names, or remove it',
    );
  if (entries.includes("*")) return { all: true };
  const numbers = new Set<number>();
  const names = new Set<string>();
  for (const entry of entries) {
    if (/^\d+$/.test(entry)) numbers.add(Number(entry));
    else names.add(entry);
    const known = spec.listeners.some((l) => String(l.port) === entry || (l.name !== "" && l.name === entry));
    if (!known) issues.warn(ANNOTATION.sslPorts, `"${entry}" names no port of this Service; it is ignored`);
  }
  return { numbers, names };
}

function parseAdditionalTags(
  a: Readonly<Record<string, string>>,
  clusterName: string,
  issues: Issues,
): Readonly<Record<string, string>> {
  const value = a[ANNOTATION.additionalTags];
  if (value === undefined) return {};
  const { entries, problems } = parseKeyValueList(value);
  for (const [key, tagValue] of entries) problems.push(...tagProblems(key, tagValue, clusterName));
  if (entries.size > 40) problems.push("more than 40 tags (AWS allows 50 per resource, 10 are reserved)");
  if (problems.length > 0) {
    issues.error(ANNOTATION.additionalTags, `${problems.join("; ")}; fix the "Key1=Value1,Key2=Value2" list`);
    return {};
  }
  return Object.fromEntries(entries);
}

/** What Elastic Load Balancing accepts in a tag key or value (EC2 accepts more, so this is the bound). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** What AWS, or this provider's ownership, refuses in one tag. */
function tagProblems(key: string, tagValue: string, clusterName: string): string[] {
  const problems: string[] = [];
  if (key.length > 128) problems.push(`key "${key.slice(0, 20)}..." is longer than 128 characters`);
  else if (!TAG_TEXT.test(key))
    problems.push(`key "${key}" has characters AWS refuses in tags (allowed: letters, digits, spaces and _.:/=+-@)`);
  if (tagValue.length > 256) problems.push(`the value of "${key}" is longer than 256 characters`);
  else if (!TAG_TEXT.test(tagValue))
    problems.push(
      `the value of "${key}" has characters AWS refuses in tags (allowed: letters, digits, spaces and _.:/=+-@)`,
    );
  if (key.toLowerCase().startsWith("aws:")) problems.push(`"${key}" uses the reserved aws: prefix`);
  if (isReservedTagKey(key, clusterName)) problems.push(`"${key}" is an ownership tag set by the provider`);
  return problems;
}

function parseHealthCheck(spec: LoadBalancerSpec, issues: Issues): HealthCheckOverrides {
  const a = spec.annotations;
  const protocol = parseHealthCheckProtocol(a[ANNOTATION.healthCheckProtocol], issues);
  const port = parseHealthCheckPort(spec, a[ANNOTATION.healthCheckPort]?.trim(), issues);
  const path = a[ANNOTATION.healthCheckPath];
  if (path !== undefined)
    checkHealthCheckPath(path, protocol ?? (spec.healthCheck.kind === "http" ? "HTTP" : "TCP"), issues);

  const successCodes = parseSuccessCodes(spec, protocol, issues);
  const intervalSeconds = parseIntegerAnnotation(a, ANNOTATION.healthCheckInterval, 5, 300, issues);
  const timeoutSeconds = parseIntegerAnnotation(a, ANNOTATION.healthCheckTimeout, 2, 120, issues);
  const healthyThreshold = parseIntegerAnnotation(a, ANNOTATION.healthyThreshold, 2, 10, issues);
  const unhealthyThreshold = parseIntegerAnnotation(a, ANNOTATION.unhealthyThreshold, 2, 10, issues);
  return {
    ...(protocol !== undefined && { protocol }),
    ...(port !== undefined && { port }),
    ...(path?.startsWith("/") && path.length <= 1024 && { path }),
    ...(intervalSeconds !== undefined && { intervalSeconds }),
    ...(timeoutSeconds !== undefined && { timeoutSeconds }),
    ...(healthyThreshold !== undefined && { healthyThreshold }),
    ...(unhealthyThreshold !== undefined && { unhealthyThreshold }),
    ...(successCodes !== undefined && { successCodes }),
  };
}

/**
 * `healthcheck-success-codes`: what a Network Load Balancer accepts — codes from 200 to 599, one, a
 * range `200-399`, or a list `200,202`.
 */
function parseSuccessCodes(
  spec: LoadBalancerSpec,
  protocol: HealthCheckProtocol | undefined,
  issues: Issues,
): string | undefined {
  const raw = spec.annotations[ANNOTATION.healthCheckSuccessCodes];
  if (raw === undefined) return undefined;
  const value = raw.replace(/\s+/g, "");
  const code = (text: string) => /^\d{3}$/.test(text) && Number(text) >= 200 && Number(text) <= 599;
  const range = /^(\d+)-(\d+)$/.exec(value);
  const valid =
    range !== null
      ? code(range[1] ?? "") && code(range[2] ?? "") && Number(range[1]) < Number(range[2])
      : value.split(",").every(code);
  if (!valid) {
    issues.error(
      ANNOTATION.healthCheckSuccessCodes,
      `"${raw}" is not a code, a range or a list of HTTP codes from 200 to 599 (e.g. "200", "200-399", "200,202")`,
    );
    return undefined;
  }
  const effective = protocol ?? (spec.healthCheck.kind === "http" ? "HTTP" : "TCP");
  if (effective === "TCP")
    issues.warn(
      ANNOTATION.healthCheckSuccessCodes,
      "has no effect with a TCP health check; set healthcheck-protocol: http or https",
    );
  return value;
}

/** Load balancer attributes accepted in `aws-load-balancer-attributes`, with a check of each value. */
const LOAD_BALANCER_ATTRIBUTES: Readonly<Record<string, (value: string) => string | undefined>> = {
  "deletion_protection.enabled": expectBoolean,
  "load_balancing.cross_zone.enabled": expectBoolean,
  "access_logs.s3.enabled": expectBoolean,
  "access_logs.s3.bucket": expectBucketName,
  "access_logs.s3.prefix": expectLogPrefix,
  "dns_record.client_routing_policy": (v) =>
    CLIENT_ROUTING_POLICIES.includes(v) ? undefined : `must be one of ${CLIENT_ROUTING_POLICIES.join(", ")}`,
};

const CLIENT_ROUTING_POLICIES = [
  "availability_zone_affinity",
  "partial_availability_zone_affinity",
  "any_availability_zone",
];

/**
 * The attributes to enforce, from `aws-load-balancer-attributes` and the cloud-provider-aws annotations
 * that set some of the same attributes (cross-zone, access logs). Each attribute has one value: given
 * by both, the two must agree.
 */
/** `healthcheck-protocol`: tcp, http or https, in any case. */
function parseHealthCheckProtocol(value: string | undefined, issues: Issues): HealthCheckProtocol | undefined {
  if (value === undefined) return undefined;
  const upper = value.trim().toUpperCase();
  if (upper === "TCP" || upper === "HTTP" || upper === "HTTPS") return upper;
  issues.error(ANNOTATION.healthCheckProtocol, `"${value}" is not one of tcp, http, https`);
  return undefined;
}

/** `healthcheck-port`: `traffic-port`, a port number, or the name of one of the Service's ports. */
function parseHealthCheckPort(
  spec: LoadBalancerSpec,
  value: string | undefined,
  issues: Issues,
): HealthCheckOverrides["port"] {
  if (value === undefined) return undefined;
  if (value === "traffic-port") return "traffic-port";
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (n >= 1 && n <= 65535) return n;
    issues.error(ANNOTATION.healthCheckPort, `${value} is not a port number (1-65535)`);
    return undefined;
  }
  if (spec.listeners.some((l) => l.name !== "" && l.name === value)) return { portName: value };
  issues.error(
    ANNOTATION.healthCheckPort,
    `"${value}" is neither "traffic-port", a port number, nor the name of a port of this Service`,
  );
  return undefined;
}

/** `healthcheck-path`: an absolute path of at most 1024 characters, of use only to an HTTP(S) check. */
function checkHealthCheckPath(path: string, effective: HealthCheckProtocol, issues: Issues): void {
  if (!path.startsWith("/") || path.length > 1024)
    issues.error(ANNOTATION.healthCheckPath, `"${path}" must start with "/" and be at most 1024 characters`);
  else if (effective === "TCP")
    issues.warn(ANNOTATION.healthCheckPath, "has no effect with a TCP health check; set healthcheck-protocol: http");
}

function parseLoadBalancerAttributes(a: Readonly<Record<string, string>>, issues: Issues): Record<string, string> {
  const given = parseAttributesAnnotation(a, issues);
  const attributes: Record<string, string> = {};
  for (const [key, value] of given)
    if (!key.startsWith("access_logs.") && key !== "load_balancing.cross_zone.enabled") attributes[key] = value;

  const legacyBoolean = (key: string) => {
    const parsed = parseBooleanAnnotation(a, key, issues);
    return parsed === undefined ? undefined : String(parsed);
  };
  const legacyText = (key: string, check: (value: string) => string | undefined) => {
    const value = a[key]?.trim();
    if (value === undefined) return undefined;
    const problem = check(value);
    if (problem !== undefined) issues.error(key, `"${value}" ${problem}`);
    return problem === undefined ? value : undefined;
  };
  /** One value from the two sources (a disagreement is an error; the value then matters no more). */
  const shared = (attribute: string, annotation: string, legacy: string | undefined) => {
    const fromAttributes = given.get(attribute);
    if (fromAttributes !== undefined && legacy !== undefined && fromAttributes !== legacy) {
      issues.error(
        ANNOTATION.attributes,
        `${attribute}=${fromAttributes} contradicts ${annotation} ("${legacy}"); give the value in one of the two annotations`,
      );
    }
    return fromAttributes ?? legacy;
  };

  attributes["load_balancing.cross_zone.enabled"] =
    shared("load_balancing.cross_zone.enabled", ANNOTATION.crossZone, legacyBoolean(ANNOTATION.crossZone)) ?? "false";

  const enabled = shared(
    "access_logs.s3.enabled",
    ANNOTATION.accessLogEnabled,
    legacyBoolean(ANNOTATION.accessLogEnabled),
  );
  const bucket = shared(
    "access_logs.s3.bucket",
    ANNOTATION.accessLogBucket,
    legacyText(ANNOTATION.accessLogBucket, expectBucketName),
  );
  const prefix = shared(
    "access_logs.s3.prefix",
    ANNOTATION.accessLogPrefix,
    legacyText(ANNOTATION.accessLogPrefix, expectLogPrefix),
  );
  return { ...attributes, ...accessLogAttributes(a, given, { enabled, bucket, prefix }, issues) };
}

/**
 * The `access_logs.s3.*` attributes from what the two annotations agreed on: on with a bucket, or off
 * (an error when on without a bucket; a warning for a bucket or prefix that has no effect).
 */
function accessLogAttributes(
  a: Readonly<Record<string, string>>,
  given: ReadonlyMap<string, string>,
  logs: {
    readonly enabled?: string | undefined;
    readonly bucket?: string | undefined;
    readonly prefix?: string | undefined;
  },
  issues: Issues,
): Record<string, string> {
  const { enabled, bucket, prefix } = logs;
  if (enabled === "true" && bucket !== undefined && bucket !== "") {
    return { "access_logs.s3.enabled": "true", "access_logs.s3.bucket": bucket, "access_logs.s3.prefix": prefix ?? "" };
  }
  if (enabled === "true") {
    const enabledBy = given.has("access_logs.s3.enabled") ? ANNOTATION.attributes : ANNOTATION.accessLogEnabled;
    issues.error(
      given.has("access_logs.s3.enabled") ? ANNOTATION.attributes : ANNOTATION.accessLogBucket,
      `a bucket is required when access logs are enabled (by ${enabledBy}); name it in ${ANNOTATION.accessLogBucket} or as access_logs.s3.bucket in ${ANNOTATION.attributes}`,
    );
    return { "access_logs.s3.enabled": "false" };
  }
  for (const key of [ANNOTATION.accessLogBucket, ANNOTATION.accessLogPrefix])
    if (a[key] !== undefined)
      issues.warn(key, `has no effect unless access logs are enabled (${ANNOTATION.accessLogEnabled}: "true")`);
  for (const key of ["access_logs.s3.bucket", "access_logs.s3.prefix"])
    if (given.has(key)) issues.warn(ANNOTATION.attributes, `${key} has no effect unless access_logs.s3.enabled=true`);
  return { "access_logs.s3.enabled": "false" };
}

/** The entries of `aws-load-balancer-attributes`, each checked; none when any is wrong. */
function parseAttributesAnnotation(a: Readonly<Record<string, string>>, issues: Issues): ReadonlyMap<string, string> {
  const value = a[ANNOTATION.attributes];
  if (value === undefined) return new Map();
  const { entries, problems } = parseKeyValueList(value);
  if (entries.size === 0 && problems.length === 0) problems.push("lists no attribute");
  for (const [key, attributeValue] of entries) {
    const check = Object.hasOwn(LOAD_BALANCER_ATTRIBUTES, key) ? LOAD_BALANCER_ATTRIBUTES[key] : undefined;
    const problem = check?.(attributeValue);
    if (check === undefined)
      problems.push(
        `"${key}" is not a load balancer attribute this provider sets (${Object.keys(LOAD_BALANCER_ATTRIBUTES).join(", ")})`,
      );
    else if (problem !== undefined) problems.push(`${key}=${attributeValue}: ${problem}`);
  }
  if (problems.length > 0) {
    issues.error(ANNOTATION.attributes, `${problems.join("; ")}; use "key1=value1,key2=value2"`);
    return new Map();
  }
  return entries;
}

function parseTargetGroupAttributes(spec: LoadBalancerSpec, issues: Issues): Readonly<Record<string, string>> {
  const value = spec.annotations[ANNOTATION.targetGroupAttributes];
  if (value === undefined) return {};
  const { entries, problems } = parseKeyValueList(value);
  const attributes = new Map<string, string>();
  for (const [key, attributeValue] of entries) {
    const check = Object.hasOwn(TARGET_GROUP_ATTRIBUTES, key) ? TARGET_GROUP_ATTRIBUTES[key] : undefined;
    if (check === undefined) {
      problems.push(
        `"${key}" is not a supported target group attribute (${Object.keys(TARGET_GROUP_ATTRIBUTES).join(", ")})`,
      );
      continue;
    }
    const problem = check(attributeValue);
    if (problem !== undefined) problems.push(`${key}=${attributeValue}: ${problem}`);
    else attributes.set(key, attributeValue);
  }
  const hasUdp = spec.listeners.some((l) => l.protocol === "UDP");
  if (attributes.get("preserve_client_ip.enabled") === "false" && hasUdp)
    problems.push("preserve_client_ip.enabled=false is not allowed with UDP ports");
  if (problems.length > 0) {
    issues.error(ANNOTATION.targetGroupAttributes, `${problems.join("; ")}; use "key1=value1,key2=value2"`);
    return {};
  }
  return Object.fromEntries(attributes);
}

/** Security groups an NLB can have (Elastic Load Balancing's quota). */
const MAX_SECURITY_GROUPS = 5;

/**
 * `security-groups`: ids of security groups to attach instead of the managed one. Names are not looked
 * up: an id says exactly which group and needs no read to resolve.
 */
function parseSecurityGroups(spec: LoadBalancerSpec, issues: Issues): readonly string[] | undefined {
  const list = parseOptionalList(spec.annotations, ANNOTATION.securityGroups, issues);
  if (list === undefined) return undefined;
  const notIds = list.filter((id) => !/^sg-[0-9a-f]{8,17}$/.test(id));
  if (notIds.length > 0) {
    issues.error(
      ANNOTATION.securityGroups,
      `${quoteAll(notIds)} ${notIds.length === 1 ? "is not a security group id" : "are not security group ids"} (sg-...); list the ids of the groups to attach`,
    );
    return undefined;
  }
  if (list.length > MAX_SECURITY_GROUPS) {
    issues.error(
      ANNOTATION.securityGroups,
      `lists ${list.length} groups; a load balancer takes at most ${MAX_SECURITY_GROUPS}`,
    );
    return undefined;
  }
  if (spec.sourceRanges.length > 0)
    issues.warn(
      ANNOTATION.securityGroups,
      `the source ranges (${spec.sourceRanges.join(", ")}) are not enforced while it is set: the security groups it lists decide who reaches the load balancer`,
    );
  return list;
}

/**
 * `proxy-protocol: "*"`, as the AWS Load Balancer Controller reads it for an NLB: proxy protocol v2 on
 * every target group, the same attribute `target-group-attributes` can set (the two must agree).
 */
function withProxyProtocol(
  a: Readonly<Record<string, string>>,
  attributes: Readonly<Record<string, string>>,
  issues: Issues,
): Readonly<Record<string, string>> {
  const raw = a[ANNOTATION.proxyProtocol];
  if (raw === undefined) return attributes;
  if (raw.trim() !== "*") {
    issues.error(
      ANNOTATION.proxyProtocol,
      `"${raw}" is not supported: "*" turns proxy protocol v2 on for every port (per port is not supported)`,
    );
    return attributes;
  }
  if (attributes["proxy_protocol_v2.enabled"] === "false") {
    issues.error(
      ANNOTATION.proxyProtocol,
      `"*" contradicts proxy_protocol_v2.enabled=false in ${ANNOTATION.targetGroupAttributes}; remove one of the two`,
    );
    return attributes;
  }
  return { ...attributes, "proxy_protocol_v2.enabled": "true" };
}

function parseNodeLabels(a: Readonly<Record<string, string>>, issues: Issues): NodeLabelSelector {
  const value = a[ANNOTATION.targetNodeLabels];
  if (value === undefined) return {};
  const { entries, problems } = parseKeyValueList(value);
  const selector = new Map<string, string | { exists: true }>();
  for (const [key, labelValue] of entries) {
    if (!isLabelKey(key)) problems.push(`"${key}" is not a label key ([prefix/]name, at most 63 characters)`);
    else if (!isLabelValue(labelValue))
      problems.push(`"${labelValue}" (for ${key}) is not a label value (at most 63 letters, digits, -_.)`);
    else selector.set(key, labelValue === "" ? { exists: true } : labelValue);
  }
  if (problems.length > 0) {
    // A selector that can never match would silently leave the load balancer without targets.
    issues.error(ANNOTATION.targetNodeLabels, `${problems.join("; ")}; use "key=value,key2"`);
    return {};
  }
  return Object.fromEntries(selector);
}

function parseEnum<T extends string>(
  a: Readonly<Record<string, string>>,
  key: string,
  values: readonly T[],
  issues: Issues,
): T | undefined {
  const raw = a[key];
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if ((values as readonly string[]).includes(value)) return value as T;
  issues.error(key, `"${raw}" is not one of ${values.join(", ")}`);
  return undefined;
}

function parseBooleanAnnotation(a: Readonly<Record<string, string>>, key: string, issues: Issues): boolean | undefined {
  const raw = a[key];
  if (raw === undefined) return undefined;
  const parsed = parseGoBool(raw.trim());
  if (parsed === undefined) issues.error(key, `"${raw}" is not a boolean; use "true" or "false"`);
  return parsed;
}

function parseIntegerAnnotation(
  a: Readonly<Record<string, string>>,
  key: string,
  min: number,
  max: number,
  issues: Issues,
): number | undefined {
  const raw = a[key];
  if (raw === undefined) return undefined;
  const problem = expectIntegerIn(raw.trim(), min, max);
  if (problem !== undefined) {
    issues.error(key, `"${raw}" ${problem}`);
    return undefined;
  }
  return Number(raw.trim());
}

function parseOptionalList(
  a: Readonly<Record<string, string>>,
  key: string,
  issues: Issues,
): readonly string[] | undefined {
  const raw = a[key];
  if (raw === undefined) return undefined;
  const list = splitList(raw);
  if (list.length === 0) {
    issues.error(key, "is empty; list comma-separated values or remove the annotation");
    return undefined;
  }
  // Some lists are matched by position (an Elastic IP per subnet): an entry left out is not a typo to skip.
  if (/,\s*,/.test(raw.trim()) || raw.trim().startsWith(",")) {
    issues.error(key, `"${raw}" has an empty entry; list the values with one comma between each`);
    return undefined;
  }
  const duplicates = list.filter((v, i) => list.indexOf(v) !== i);
  if (duplicates.length > 0) issues.error(key, `lists ${quoteAll([...new Set(duplicates)])} more than once`);
  return list;
}

/** A `key=value` list annotation, read: its entries in order, and what is wrong with it. */
export interface KeyValueList {
  readonly entries: ReadonlyMap<string, string>;
  /** An entry with no key, a key given twice: each is a problem, never silently dropped. */
  readonly problems: string[];
}

/**
 * `"K1=V1,K2=,K3"`, as every list-valued AWS annotation spells it: entries at commas, each split at
 * its first `=` (so a value may contain `=`), blanks around keys and values trimmed, `K2` and `K3`
 * given empty values, blank entries (a trailing comma) skipped. A map, so any key — even `__proto__` —
 * is just a key.
 */
export function parseKeyValueList(value: string): KeyValueList {
  const entries = new Map<string, string>();
  const problems: string[] = [];
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    const key = (eq < 0 ? entry : entry.slice(0, eq)).trim();
    const entryValue = eq < 0 ? "" : entry.slice(eq + 1).trim();
    if (key === "") problems.push(`"${entry}" has no key`);
    else if (entries.has(key)) problems.push(`"${key}" is given twice`);
    else entries.set(key, entryValue);
  }
  return { entries, problems };
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

function expectBoolean(value: string): string | undefined {
  return value === "true" || value === "false" ? undefined : 'must be "true" or "false"';
}

/** S3's bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, a letter or digit at each end. */
function expectBucketName(value: string): string | undefined {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value)
    ? undefined
    : "is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)";
}

/** Elastic Load Balancing refuses a prefix that starts with "/" or holds "AWSLogs" (it adds that itself). */
function expectLogPrefix(value: string): string | undefined {
  return value.startsWith("/") || value.includes("AWSLogs")
    ? 'is not a log prefix AWS accepts (no leading "/", no "AWSLogs")'
    : undefined;
}

function expectIntegerIn(value: string, min: number, max: number): string | undefined {
  if (!/^\d+$/.test(value)) return `is not a whole number (${min}-${max})`;
  const n = Number(value);
  return n < min || n > max ? `is out of range (${min}-${max})` : undefined;
}

function quoteAll(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(", ");
}
