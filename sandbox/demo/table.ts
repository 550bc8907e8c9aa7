/**
 * The demo's view of a load balancer: one row per target, laid out by the operator commands' table
 * renderer so the demo reads like `lb-provisioner status`.
 *
 * @module
 */
import type { NodeSpec, ObservedLoadBalancer, ObservedTarget } from "../../providers/index.ts";
import { formatIngress } from "../../src/plan/diff.ts";
import { renderTable } from "../../src/plan/table.ts";

export const LOAD_BALANCER_HEADERS = ["SERVICE", "ADDRESS", "LISTENER", "TARGET GROUP", "TARGET", "HEALTH"] as const;

/**
 * One row per target: Service, address, listener -> target group -> node:nodePort. A cell equal to the one
 * above it is left blank, so the table reads as a tree. `nodes` lets a target the provider
 * knows by node name or instance id be shown with the node's InternalIP.
 */
export function loadBalancerRows(observed: ObservedLoadBalancer, nodes: readonly NodeSpec[]): string[][] {
  const service = `${observed.ref.service.namespace}/${observed.ref.service.name}`;
  const address = formatIngress(observed.status.ingress) || "(none)";
  const rows: string[][] = [];
  for (const listener of observed.listeners) {
    const listenerCell = `${listener.port}/${listener.protocol} ->`;
    const targetGroupCell = `${listener.protocol}:${listener.targetPort} ->`;
    if (listener.targets.length === 0) rows.push([service, address, listenerCell, targetGroupCell, "(no targets)", ""]);
    for (const target of listener.targets) {
      rows.push([service, address, listenerCell, targetGroupCell, describeTarget(target, nodes), target.health ?? ""]);
    }
  }
  if (rows.length === 0) rows.push([service, address, "(no listeners)", "", "", ""]);
  return blankRepeats(rows, 4);
}

/** Blanks a cell that repeats the one above it, for the first `columns` columns, so rows read as a tree. */
function blankRepeats(rows: readonly string[][], columns: number): string[][] {
  return rows.map((row, index) => {
    const previous = rows[index - 1];
    if (previous === undefined) return row;
    let sameSoFar = true;
    return row.map((cell, column) => {
      sameSoFar = sameSoFar && column < columns && cell === previous[column];
      return sameSoFar ? "" : cell;
    });
  });
}

/** The load balancer as a table; the HEALTH column only when the provider reports health. */
export function renderLoadBalancerTable(observed: ObservedLoadBalancer, nodes: readonly NodeSpec[]): string {
  const rows = loadBalancerRows(observed, nodes);
  const withHealth = rows.some((row) => (row[5] ?? "") !== "");
  return withHealth
    ? renderTable(LOAD_BALANCER_HEADERS, rows)
    : renderTable(
        LOAD_BALANCER_HEADERS.slice(0, 5),
        rows.map((row) => row.slice(0, 5)),
      );
}

/** `node-1 192.168.1.2:30008`: the node's name and the address:port traffic goes to. */
export function describeTarget(target: ObservedTarget, nodes: readonly NodeSpec[]): string {
  const node = nodes.find(
    (candidate) =>
      candidate.name === (target.node ?? target.id) ||
      candidate.providerID?.split("/").at(-1) === target.id ||
      candidate.addresses.some((address) => address.address === target.id),
  );
  const ip = node?.addresses.find((address) => address.type === "InternalIP")?.address;
  if (node === undefined) return `${target.id}:${target.port}`;
  return ip === undefined ? `${node.name}:${target.port}` : `${node.name} ${ip}:${target.port}`;
}
