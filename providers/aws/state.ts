/**
 * The shapes the AWS provider reasons with: the desired state built from a spec (`model.ts`), the
 * actual state read from AWS (`observe.ts`), and the ordered actions that turn one into the other
 * (`diff.ts`, executed by `apply.ts`). Plain data, no SDK types, so the model and the diff stay pure and
 * are tested without a network.
 *
 * @module
 */

export type TargetGroupProtocol = "TCP" | "UDP" | "TCP_UDP" | "TLS";
export type ListenerProtocol = "TCP" | "UDP" | "TCP_UDP" | "TLS";
export type TargetType = "instance" | "ip";
export type HealthCheckProtocol = "TCP" | "HTTP" | "HTTPS";
export type Scheme = "internet-facing" | "internal";
/** Who can reach the load balancer: IPv4 clients, or IPv4 and IPv6 clients (`IpAddressType`). */
export type LoadBalancerAddressType = "ipv4" | "dualstack";
/** The family of the addresses a target group sends traffic to (`IpAddressType` of a target group). */
export type TargetGroupAddressType = "ipv4" | "ipv6";
export type Tags = Readonly<Record<string, string>>;

/** How a target group probes its targets. */
export interface HealthCheck {
  readonly protocol: HealthCheckProtocol;
  /** `traffic-port` probes each target on the port it receives traffic on. */
  readonly port: "traffic-port" | number;
  /** HTTP(S) only. */
  readonly path?: string;
  readonly intervalSeconds: number;
  /** Sent only when asked for by annotation; AWS picks a default otherwise. */
  readonly timeoutSeconds?: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** HTTP(S) only, and only when asked for by annotation (AWS's default is `200-399`). */
  readonly successCodes?: string;
}

/** One registration: an instance id (instance targets) or an address of the target group's family (ip targets), and a port. */
export interface Target {
  readonly id: string;
  readonly port: number;
}

export interface DesiredTargetGroup {
  /** Deterministic; encodes every immutable field (see `names.ts`). */
  readonly name: string;
  /** The listener port this target group serves. */
  readonly servicePort: number;
  readonly protocol: TargetGroupProtocol;
  /** The nodePort. */
  readonly port: number;
  readonly targetType: TargetType;
  /** `ipv6` only for ip targets of a Service whose primary family is IPv6; immutable, so part of the name. */
  readonly ipAddressType: TargetGroupAddressType;
  readonly healthCheck: HealthCheck;
  /** Only the keys the Service asks for; others are left as they are. */
  readonly attributes: Tags;
  /** Sorted by id. */
  readonly targets: readonly Target[];
  readonly tags: Tags;
}

export interface DesiredListener {
  readonly port: number;
  readonly protocol: ListenerProtocol;
  readonly targetGroupName: string;
  /** TLS only: the default certificate. */
  readonly certificateArn?: string;
  /** TLS only: the certificates served by SNI besides the default, sorted. */
  readonly sniCertificateArns?: readonly string[];
  /** TLS only; when absent, whatever AWS chose is accepted. */
  readonly sslPolicy?: string;
  /** TLS only; when absent, whatever AWS has is accepted. */
  readonly alpnPolicy?: string;
  readonly tags: Tags;
}

/** One ingress rule of the load balancer's security group: one port, one protocol, one CIDR. */
export interface IngressRule {
  readonly protocol: "tcp" | "udp";
  readonly fromPort: number;
  readonly toPort: number;
  /** IPv4 or IPv6 CIDR. */
  readonly cidr: string;
}

export interface DesiredState {
  readonly loadBalancer: {
    readonly name: string;
    readonly scheme: Scheme;
    readonly ipAddressType: LoadBalancerAddressType;
    /**
     * A dualstack NLB with UDP listeners takes an IPv6 source-NAT prefix in each subnet, which AWS needs
     * to send IPv6 clients' UDP to the targets. Set when it is created only.
     */
    readonly ipv6SourceNat: boolean;
    readonly tags: Tags;
    /** Attributes this provider enforces (cross-zone, access logs, and those `aws-load-balancer-attributes` gives). */
    readonly attributes: Tags;
    /** The Service's own security groups, attached instead of the managed one; absent: the managed one. */
    readonly securityGroups?: readonly string[];
  };
  readonly securityGroup: {
    readonly name: string;
    readonly description: string;
    readonly tags: Tags;
    /** Sorted by {@link ingressRuleKey}. */
    readonly ingress: readonly IngressRule[];
  };
  /** In listener order. */
  readonly targetGroups: readonly DesiredTargetGroup[];
  /** Sorted by port. */
  readonly listeners: readonly DesiredListener[];
}

/** A subnet the load balancer is placed in, as `CreateLoadBalancer` takes it. */
export interface SubnetMapping {
  readonly subnetId: string;
  readonly allocationId?: string;
  readonly privateIPv4Address?: string;
}

export interface ActualLoadBalancer {
  readonly arn: string;
  readonly name: string;
  readonly dnsName: string;
  readonly scheme: Scheme;
  /** Absent where it was not read (a record made before the field existed): taken as `ipv4`. */
  readonly ipAddressType?: LoadBalancerAddressType;
  /** The subnets it is placed in, where known. */
  readonly subnetIds?: readonly string[];
  readonly vpcId: string;
  readonly securityGroups: readonly string[];
  readonly tags: Tags;
  readonly attributes: Tags;
}

export interface ActualListener {
  readonly arn: string;
  readonly port: number;
  readonly protocol: string;
  /** The target group of the default forward action, when it has exactly one. */
  readonly targetGroupArn?: string;
  readonly certificateArn?: string;
  /** Certificates besides the default, sorted; read only for TLS listeners the Service wants TLS on. */
  readonly sniCertificateArns?: readonly string[];
  readonly sslPolicy?: string;
  readonly alpnPolicy?: string;
}

/** Health check as AWS reports it; absent numbers mean AWS did not say. */
export interface ActualHealthCheck {
  readonly protocol: string;
  readonly port: string;
  readonly path?: string;
  readonly intervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly healthyThreshold?: number;
  readonly unhealthyThreshold?: number;
  readonly successCodes?: string;
}

/** A target group this Service owns (proven by tags). Target groups of others never appear here. */
export interface ActualTargetGroup {
  readonly arn: string;
  readonly name: string;
  readonly protocol: string;
  readonly port: number;
  readonly targetType: string;
  readonly healthCheck: ActualHealthCheck;
  readonly tags: Tags;
  /** Read only when the desired state sets attributes on this target group. */
  readonly attributes?: Tags;
  /** Registered targets, without those already draining. Sorted by id. */
  readonly targets: readonly Target[];
}

export interface ActualSecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly tags: Tags;
  /** CIDR rules only; rules referencing other groups or prefix lists are left alone. */
  readonly ingress: readonly IngressRule[];
}

/** What exists in AWS for one Service, restricted to what it owns (plus its listeners). */
export interface ActualState {
  readonly loadBalancer?: ActualLoadBalancer;
  /** Listeners of the load balancer (empty without one). */
  readonly listeners: readonly ActualListener[];
  readonly targetGroups: readonly ActualTargetGroup[];
  readonly securityGroup?: ActualSecurityGroup;
  /**
   * The load balancer is the one the legacy cloud provider built for this Service, not adopted yet:
   * the plan starts by adopting it (`adopt.ts`).
   */
  readonly adopt?: true;
}

/** A target group is named in actions by name; `apply.ts` resolves names to ARNs as they appear. */
export type Action =
  | { readonly kind: "createSecurityGroup" }
  | { readonly kind: "authorizeIngress"; readonly rules: readonly IngressRule[] }
  | { readonly kind: "revokeIngress"; readonly rules: readonly IngressRule[] }
  | { readonly kind: "deleteListener"; readonly arn: string; readonly port: number }
  | { readonly kind: "deleteLoadBalancer"; readonly arn: string; readonly reason: string }
  | { readonly kind: "createLoadBalancer" }
  /** Adds this provider's tags to the legacy cloud provider's load balancer: from then on it is ours. */
  | { readonly kind: "adoptLoadBalancer"; readonly arn: string; readonly name: string; readonly tags: Tags }
  | {
      readonly kind: "setSecurityGroups";
      /** `owned`: the managed group beside those attached; a list: exactly those groups. */
      readonly securityGroups: "owned" | readonly string[];
    }
  | { readonly kind: "deleteSecurityGroup"; readonly id: string }
  | { readonly kind: "setIpAddressType"; readonly ipAddressType: LoadBalancerAddressType }
  | { readonly kind: "modifyLoadBalancerAttributes"; readonly attributes: Tags }
  | { readonly kind: "tagLoadBalancer"; readonly tags: Tags }
  | { readonly kind: "createTargetGroup"; readonly name: string }
  | { readonly kind: "tagTargetGroup"; readonly name: string; readonly tags: Tags }
  | { readonly kind: "modifyTargetGroup"; readonly name: string }
  | { readonly kind: "modifyTargetGroupAttributes"; readonly name: string; readonly attributes: Tags }
  | { readonly kind: "deregisterTargets"; readonly name: string; readonly targets: readonly Target[] }
  | { readonly kind: "registerTargets"; readonly name: string; readonly targets: readonly Target[] }
  | { readonly kind: "createListener"; readonly port: number }
  | { readonly kind: "addListenerCertificates"; readonly port: number; readonly certificateArns: readonly string[] }
  | {
      readonly kind: "removeListenerCertificates";
      readonly port: number;
      readonly certificateArns: readonly string[];
    }
  | {
      readonly kind: "modifyListener";
      readonly arn: string;
      readonly port: number;
      readonly changes: readonly ListenerChange[];
    }
  | { readonly kind: "deleteTargetGroup"; readonly arn: string; readonly name: string };

export type ActionKind = Action["kind"];

/** What about a listener differs from the desired state. */
export type ListenerChange = "protocol" | "targetGroup" | "certificate" | "sslPolicy" | "alpnPolicy";

/** Stable identity of an ingress rule, for sorting and set comparison. */
export function ingressRuleKey(rule: IngressRule): string {
  return `${rule.protocol}/${rule.fromPort}-${rule.toPort}/${rule.cidr}`;
}
