import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ProviderCall } from "../../providers/index.ts";

/**
 * Every Prometheus metric the controller exports, on one registry per process (not the global one, so
 * tests and the demo can run several controllers side by side). Names follow `lbp_<thing>_<unit>`.
 */
export class ControllerMetrics {
  readonly registry = new Registry();

  readonly reconcileDuration = new Histogram({
    name: "lbp_reconcile_duration_seconds",
    help: "Time to reconcile one Service, by result.",
    labelNames: ["result"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly reconcileTotal = new Counter({
    name: "lbp_reconcile_total",
    help: "Reconciles of one Service, by result (success, error, invalid, retry_after, deleted, skipped).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: "lbp_workqueue_depth",
    help: "Keys waiting in the work queue (not counting ones waiting out a backoff).",
    registers: [this.registry],
  });

  readonly queueRetries = new Counter({
    name: "lbp_workqueue_retries_total",
    help: "Keys requeued after a failure, by kind (backoff, retry_after).",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly managedLoadBalancers = new Gauge({
    name: "lbp_managed_load_balancers",
    help: "Services whose load balancer this controller currently manages.",
    registers: [this.registry],
  });

  readonly unsyncedServices = new Gauge({
    name: "lbp_unsynced_services",
    help: "Services whose last reconcile did not succeed (failed, invalid, or waiting to retry): without their load balancer, or stuck in cleanup.",
    registers: [this.registry],
  });

  readonly events = new Counter({
    name: "lbp_events_total",
    help: "Events recorded on Services, by outcome: written, aggregated (folded into one still waiting for the write rate), dropped-spam (per-Service filter), dropped-rate (write queue full), failed.",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  readonly providerCalls = new Counter({
    name: "lbp_provider_calls_total",
    help: "Cloud API calls made by the provider, by operation and outcome.",
    labelNames: ["provider", "operation", "outcome", "mutating"] as const,
    registers: [this.registry],
  });

  readonly providerCallDuration = new Histogram({
    name: "lbp_provider_call_duration_seconds",
    help: "Latency of cloud API calls made by the provider, by operation.",
    labelNames: ["provider", "operation"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly isLeader = new Gauge({
    name: "lbp_leader",
    help: "1 while this process holds the leader Lease (or runs without leader election), else 0.",
    registers: [this.registry],
  });

  readonly buildInfo = new Gauge({
    name: "lbp_build_info",
    help: "Always 1; the labels say which version runs on which Node.js.",
    labelNames: ["version", "node"] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "lbp_process_" });
  }

  /** The {@link ProviderOptions.onCall} hook for a provider named `provider`. */
  providerCallObserver(provider: string): (call: ProviderCall) => void {
    return (call) => {
      this.providerCalls.inc({
        provider,
        operation: call.operation,
        outcome: call.outcome,
        mutating: String(call.mutating),
      });
      this.providerCallDuration.observe({ provider, operation: call.operation }, call.durationMs / 1000);
    };
  }
}
