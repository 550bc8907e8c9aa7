/**
 * How `plan` reports: a short text per Service for people, a stable JSON document for CI, and the exit
 * code CI keys on. Pure functions of the {@link ServicePlan}s.
 *
 * @module
 */
import { EXIT_CHANGES_PENDING, EXIT_OK } from "../exit-codes.ts";
import type { PlannedChange, ServicePlan } from "./types.ts";

/** `-o, --output` of the operator commands. */
export type OutputFormat = "text" | "json";

/** The process exit code for a set of plans: 0 when nothing would change, 2 when something would (or cannot be built). */
export function planExitCode(plans: readonly ServicePlan[]): number {
  return plans.some((plan) => plan.action !== "none") ? EXIT_CHANGES_PENDING : EXIT_OK;
}

const SYMBOL: Record<PlannedChange["action"], string> = { create: "+", update: "~", delete: "-", adopt: ">" };

/** One line per change, grouped by Service, then a one-line summary. */
export function renderPlanText(plans: readonly ServicePlan[]): string {
  const lines: string[] = [];
  for (const plan of plans) {
    lines.push(`${plan.service}: ${plan.note ?? describeAction(plan)}`);
    for (const issue of plan.issues) lines.push(`  ! ${issue.severity} ${issue.field}: ${issue.message}`);
    for (const change of plan.changes) lines.push(`  ${renderChange(change)}`);
  }
  lines.push(summarize(plans));
  return `${lines.join("\n")}\n`;
}

function describeAction(plan: ServicePlan): string {
  switch (plan.action) {
    case "none":
      return "up to date";
    case "invalid":
      return "invalid (the controller reports a Warning event and changes nothing)";
    case "create":
      return "create load balancer";
    case "delete":
      return "clean up load balancer";
    case "update":
      return "update load balancer";
    case "adopt":
      return "adopt load balancer";
  }
}

export function renderChange(change: PlannedChange): string {
  const values =
    change.from !== undefined && change.to !== undefined
      ? `${change.from} -> ${change.to}`
      : (change.to ?? change.from ?? "");
  return `${SYMBOL[change.action]} ${change.subject} ${change.name}${values === "" ? "" : `  ${values}`}`;
}

function summarize(plans: readonly ServicePlan[]): string {
  if (plans.length === 0) return "No Services to plan for.";
  const count = (action: ServicePlan["action"]) => plans.filter((plan) => plan.action === action).length;
  const pending = plans.length - count("none");
  if (pending === 0) return `No changes: ${plans.length} Service${plans.length === 1 ? "" : "s"} up to date.`;
  const adopting = count("adopt") > 0 ? `${count("adopt")} to adopt, ` : "";
  return (
    `Plan: ${count("create")} to create, ${adopting}${count("update")} to update, ${count("delete")} to clean up, ` +
    `${count("invalid")} invalid, ${count("none")} up to date.`
  );
}

/** The JSON document `plan --output json` prints: stable field names, for scripts. */
export function renderPlanJson(plans: readonly ServicePlan[]): string {
  const changed = plans.filter((plan) => plan.action !== "none").length;
  return `${JSON.stringify({ changed: changed > 0, services: plans }, null, 2)}\n`;
}
