/**
 * What one Service needs, decided without doing anything: a pure function of the Service as cached,
 * the eligible nodes, what the controller remembers about the Service, and the provider's `validate`.
 * `reconcile.ts` acts on the decision; `plan` calls the same function, so the two cannot disagree
 * about which Services are managed, which need cleaning up, and which cannot be built.
 *
 * The decisions, in the order they are tried:
 * - `forget`: the Service is gone, or going without our finalizer (it cannot take one any more); if a
 *   load balancer was ensured for it (its finalizer was removed by hand), delete that first;
 * - `clean-up`: it holds our finalizer but no longer wants our load balancer (deleted, switched away
 *   from LoadBalancer, another class);
 * - `ignore`: not ours;
 * - `invalid`: the spec cannot be built (the controller's rules, then the provider's), or the provider
 *   already rejected exactly this input; announced as a Warning once per input;
 * - `unchanged`: the spec, the nodes and the status are what was last ensured: no cloud call;
 * - `ensure`: call the provider, with why (the Service changed, only its nodes did, or a resync that
 *   finds no drift), which also says what to announce — nothing for a load balancer a restart finds
 *   already ensured (our finalizer and an address, no failure in its condition, nothing remembered yet).
 *
 * @module
 */
import type { V1Service } from "@kubernetes/client-node";
import type {
  EnsureReason,
  LoadBalancerProvider,
  LoadBalancerRef,
  LoadBalancerSpec,
  LoadBalancerStatus,
  NodeSpec,
  ValidationIssue,
} from "../../providers/index.ts";
import { conditionOf } from "./condition.ts";
import { fingerprint } from "./fingerprint.ts";
import { buildLoadBalancerSpec, describeIssues, loadBalancerRefOf, serviceApiIssues } from "./load-balancer-spec.ts";
import {
  cleanupFinalizer,
  hasFinalizer,
  needsCleanup,
  type ServiceSelection,
  splitKey,
  wantsLoadBalancer,
} from "./service-filters.ts";
import { hasLoadBalancerStatus, loadBalancerStatusEqual } from "./status.ts";

/** The eligible nodes at one moment, shared by every Service's spec, with a digest of them. */
export interface NodeSnapshot {
  readonly nodes: readonly NodeSpec[];
  readonly fingerprint: string;
}

/** What the controller remembers about one Service between reconciles (in memory only). */
export interface ServiceMemory {
  /** The Service's UID; memory of a deleted-and-recreated Service is discarded. */
  uid: string;
  /** The last spec and nodes the provider accepted, and the status it returned. */
  ensured?: { specFingerprint: string; nodesFingerprint: string; status: LoadBalancerStatus } | undefined;
  /** Service + nodes digest last found invalid; the same input is not retried or re-warned. */
  invalidFingerprint?: string | undefined;
  /** Service digest whose provider warnings were already reported. */
  warnedFingerprint?: string | undefined;
}

/** Everything a decision depends on. Read only. */
export interface DecisionInput {
  /** `namespace/name`. */
  readonly key: string;
  /** The Service as cached; undefined when it is gone. */
  readonly service: V1Service | undefined;
  readonly selection: ServiceSelection;
  readonly clusterName: string;
  readonly nodes: NodeSnapshot;
  /** What is remembered about this Service (same UID), if anything; `plan` remembers nothing. */
  readonly memory?: Readonly<ServiceMemory> | undefined;
  /**
   * The provider's name and declared capabilities: a Service API field it does not declare is warned
   * about (see `serviceApiIssues`). Absent: no such warning.
   */
  readonly provider?: Pick<LoadBalancerProvider, "name" | "capabilities"> | undefined;
  /** The provider's `validate`, when it has one. */
  readonly validate?: ((spec: LoadBalancerSpec) => readonly ValidationIssue[]) | undefined;
  /** Call the provider even if nothing seems to have changed (periodic resync: drift repair). */
  readonly force?: boolean;
}

/** Fingerprints the act step stores in {@link ServiceMemory}. */
export interface Fingerprints {
  /** The Service's own part (uid, spec, annotations): warnings are reported once per value. */
  readonly service: string;
  /** The eligible nodes. */
  readonly nodes: string;
  /** Service and nodes: an invalid input is not retried or re-warned until this changes. */
  readonly input: string;
}

export type Decision =
  | {
      readonly kind: "forget";
      /** A load balancer ensured for the Service that vanished without our finalizer: delete it first. */
      readonly deleteLoadBalancer?: LoadBalancerRef;
    }
  | { readonly kind: "clean-up"; readonly ref: LoadBalancerRef }
  | { readonly kind: "ignore" }
  | {
      readonly kind: "invalid";
      /** `invalid configuration: <field>: <message>; ...` */
      readonly message: string;
      /** The `error` issues; empty when the provider rejected this input on an earlier ensure. */
      readonly issues: readonly ValidationIssue[];
      /** Whether this input is newly invalid: record a Warning and remember it. */
      readonly announce: boolean;
      readonly fingerprints: Fingerprints;
    }
  | {
      readonly kind: "unchanged";
      /** Warnings not reported yet for this Service's part. */
      readonly warnings: readonly ValidationIssue[];
      readonly fingerprints: Fingerprints;
    }
  | {
      readonly kind: "ensure";
      readonly spec: LoadBalancerSpec;
      /** Warnings not reported yet for this Service's part. */
      readonly warnings: readonly ValidationIssue[];
      /** Every warning, reported or not (what `plan` shows). */
      readonly allWarnings: readonly ValidationIssue[];
      /**
       * Why the controller ensures now, told to the provider and announced in Events: `changed` (the
       * Service's part changed, or nothing is known: Ensuring, then Ensured), `nodes` (only the node set
       * changed: Updated once done), `resync` (nothing to say).
       */
      readonly reason: EnsureReason;
      /**
       * Whether Events announce this ensure (Ensuring/Ensured, Updated). False for a resync, and for a
       * Service this process knows nothing of yet that already holds our finalizer and an address, with
       * no condition saying False: a restart finding its load balancer already ensured is quiet unless
       * the address changes.
       */
      readonly announce: boolean;
      /** Warn UnAvailableLoadBalancer: there is no eligible node (said when announcing, not on a resync). */
      readonly noNodes: boolean;
      /** Our finalizer is missing: add it before the first cloud call. */
      readonly addFinalizer: boolean;
      /** `validate` threw; the provider's `ensureLoadBalancer` will judge the spec instead. */
      readonly validateError?: string;
      readonly specFingerprint: string;
      readonly fingerprints: Fingerprints;
    };

/**
 * The spec without its nodes: what "the Service's part changed" is judged on. The published status is
 * left out too: it is our own output, and writing it must not count as a change to ensure again.
 */
export function specFingerprint(spec: LoadBalancerSpec): string {
  return fingerprint({ ...spec, nodes: undefined, publishedStatus: undefined });
}

/** The ref of a Service known only by key (it is gone), with the UID remembered for it. */
function refOfGone(input: DecisionInput): LoadBalancerRef {
  const { namespace, name } = splitKey(input.key);
  const uid = input.memory?.uid;
  return { clusterName: input.clusterName, service: { namespace, name, ...(uid ? { uid } : {}) } };
}

function forget(input: DecisionInput): Decision {
  return input.memory?.ensured ? { kind: "forget", deleteLoadBalancer: refOfGone(input) } : { kind: "forget" };
}

/** Decides what `input.service` needs. Pure: no I/O, no clock; `validate` must be pure too. */
export function decide(input: DecisionInput): Decision {
  const { service, selection } = input;
  if (service === undefined) return forget(input);
  if (needsCleanup(service, selection)) return { kind: "clean-up", ref: loadBalancerRefOf(service, input.clusterName) };
  // Being deleted without our finalizer: it cannot take one any more, so treat it as gone.
  if (service.metadata?.deletionTimestamp) return forget(input);
  if (!wantsLoadBalancer(service, selection)) return { kind: "ignore" };
  return decideEnsure(input, service);
}

interface Validated {
  readonly issues: readonly ValidationIssue[];
  readonly validateError?: string;
}

function validated(input: DecisionInput, spec: LoadBalancerSpec, controllerWarnings: readonly ValidationIssue[]) {
  if (input.validate === undefined) return { issues: controllerWarnings };
  try {
    return { issues: [...controllerWarnings, ...input.validate(spec)] };
  } catch (error) {
    return { issues: controllerWarnings, validateError: error instanceof Error ? error.message : String(error) };
  }
}

/** Why an ensure is needed: the spec changed since the last success, else the nodes, else it is a resync. */
function ensureReason(
  previous: { readonly specFingerprint: string; readonly nodesFingerprint: string } | undefined,
  wanted: { readonly specFingerprint: string; readonly nodesFingerprint: string },
): EnsureReason {
  if (previous?.specFingerprint !== wanted.specFingerprint) return "changed";
  return previous.nodesFingerprint !== wanted.nodesFingerprint ? "nodes" : "resync";
}

function decideEnsure(input: DecisionInput, service: V1Service): Decision {
  const memory = input.memory;
  const serviceFingerprint = fingerprint({
    uid: service.metadata?.uid,
    spec: service.spec,
    annotations: service.metadata?.annotations ?? {},
  });
  const fingerprints: Fingerprints = {
    service: serviceFingerprint,
    nodes: input.nodes.fingerprint,
    input: `${serviceFingerprint}:${input.nodes.fingerprint}`,
  };
  const built = buildLoadBalancerSpec(service, input.nodes.nodes, input.clusterName);
  const checked: Validated = built.ok
    ? validated(input, built.spec, [
        ...built.warnings,
        ...(input.provider === undefined ? [] : serviceApiIssues(built.spec, input.provider)),
      ])
    : { issues: built.issues };
  const errors = checked.issues.filter((issue) => issue.severity === "error");
  const newlyInvalid = memory?.invalidFingerprint !== fingerprints.input;
  if (!built.ok || errors.length > 0) {
    const message = `invalid configuration: ${describeIssues(errors)}`;
    return { kind: "invalid", message, issues: errors, announce: newlyInvalid, fingerprints };
  }
  // The provider already rejected exactly this input: do not ask again until something changes.
  if (!newlyInvalid) {
    return { kind: "invalid", message: "unchanged since rejected", issues: [], announce: false, fingerprints };
  }

  const spec = built.spec;
  const allWarnings = checked.issues.filter((issue) => issue.severity === "warning");
  const warnings = memory?.warnedFingerprint === serviceFingerprint ? [] : allWarnings;
  const wanted = { specFingerprint: specFingerprint(spec), nodesFingerprint: input.nodes.fingerprint };
  const previous = memory?.ensured;
  const hasOurFinalizer = hasFinalizer(service, cleanupFinalizer(input.selection));
  // A restart finding the load balancer ensured: our finalizer, an address, and no condition saying the
  // last attempt failed (a Service provisioned before the condition existed has none).
  const foundEnsured =
    memory === undefined &&
    hasOurFinalizer &&
    hasLoadBalancerStatus(service.status?.loadBalancer) &&
    conditionOf(service)?.status !== "False";
  if (
    !input.force &&
    previous?.specFingerprint === wanted.specFingerprint &&
    previous.nodesFingerprint === wanted.nodesFingerprint &&
    hasOurFinalizer &&
    loadBalancerStatusEqual(service.status?.loadBalancer, previous.status)
  ) {
    return { kind: "unchanged", warnings, fingerprints };
  }
  const reason = ensureReason(previous, wanted);
  return {
    kind: "ensure",
    spec,
    warnings,
    allWarnings,
    reason,
    // Memory exists from this process's first look at the Service on, so a retry after a failure, or a
    // change after a restart, is still announced.
    announce: reason !== "resync" && !foundEnsured,
    noNodes: reason !== "resync" && spec.nodes.length === 0,
    addFinalizer: !hasOurFinalizer,
    ...(checked.validateError === undefined ? {} : { validateError: checked.validateError }),
    specFingerprint: wanted.specFingerprint,
    fingerprints,
  };
}
