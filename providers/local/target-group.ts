/**
 * The registered targets of one listener at run time: round-robin choice among the eligible ones, and
 * draining. A deregistered target takes no new connection; its open connections may finish for up to
 * the deregistration delay, then are cut; it is forgotten once it has none left.
 *
 * @module
 */
import type { ClientAffinity } from "./client-affinity.ts";
import type { HealthStatus } from "./health-state.ts";
import { eligibleTargets, rotate, type TargetSpec } from "./targets.ts";

/** Something a target carries that can be cut: a proxied TCP connection or a UDP flow. */
export interface Connection {
  destroy(): void;
}

export interface RegisteredTarget {
  spec: TargetSpec;
  draining: boolean;
  readonly connections: Set<Connection>;
  drainTimer?: ReturnType<typeof setTimeout> | undefined;
}

export interface TargetGroupOptions {
  readonly healthOf: (probeKey: string) => HealthStatus;
  readonly deregistrationDelayMs: number;
}

export class TargetGroup {
  readonly #options: TargetGroupOptions;
  readonly #targets = new Map<string, RegisteredTarget>();
  #cursor = 0;
  /** Where each client went, with `sessionAffinity: ClientIP`; `undefined` for round robin only. */
  affinity: ClientAffinity | undefined;

  constructor(options: TargetGroupOptions) {
    this.#options = options;
  }

  /** Registered targets that are not draining, by id. */
  active(): Map<string, TargetSpec> {
    const active = new Map<string, TargetSpec>();
    for (const [id, target] of this.#targets) if (!target.draining) active.set(id, target.spec);
    return active;
  }

  /** Targets draining, with their open connection counts. */
  draining(): { spec: TargetSpec; connections: number }[] {
    return [...this.#targets.values()]
      .filter((t) => t.draining)
      .map((t) => ({ spec: t.spec, connections: t.connections.size }));
  }

  /** Registers (or updates, or takes back from draining) each target. */
  register(targets: readonly TargetSpec[]): void {
    for (const spec of targets) {
      const existing = this.#targets.get(spec.id);
      if (existing === undefined) {
        this.#targets.set(spec.id, { spec, draining: false, connections: new Set() });
        continue;
      }
      existing.spec = spec;
      existing.draining = false;
      clearTimeout(existing.drainTimer);
      existing.drainTimer = undefined;
    }
  }

  /** Starts draining each target; one without connections is forgotten at once. */
  deregister(ids: readonly string[]): void {
    for (const id of ids) {
      const target = this.#targets.get(id);
      if (target === undefined || target.draining) continue;
      target.draining = true;
      if (target.connections.size === 0) {
        this.#targets.delete(id);
        continue;
      }
      target.drainTimer = setTimeout(() => {
        for (const connection of [...target.connections]) connection.destroy();
        this.#forgetIfDrained(target);
      }, this.#options.deregistrationDelayMs);
      target.drainTimer.unref();
    }
  }

  /**
   * The targets to try for a new connection from `client`, in order: the target the client is pinned
   * to when it is still eligible (with affinity), else the round-robin pick among the eligible ones;
   * then the other eligible ones (tried when connecting to the first fails).
   */
  candidates(client?: string): RegisteredTarget[] {
    const active = [...this.#targets.values()].filter((t) => !t.draining);
    const eligible = eligibleTargets(
      active.map((t) => ({ target: t, probe: t.spec.probe })),
      this.#options.healthOf,
    );
    const ordered = rotate(eligible, this.#cursor++).map((e) => e.target);
    const pinned = client === undefined ? undefined : this.affinity?.pinned(client);
    const at = pinned === undefined ? -1 : ordered.findIndex((t) => t.spec.id === pinned);
    return at <= 0 ? ordered : [ordered[at] as RegisteredTarget, ...ordered.slice(0, at), ...ordered.slice(at + 1)];
  }

  /** `client`'s connection reached `target`: with affinity, its next ones go there too. */
  served(client: string | undefined, target: RegisteredTarget): void {
    if (client !== undefined) this.affinity?.remember(client, target.spec.id);
  }

  /** Records `connection` on `target` until the returned function is called. */
  attach(target: RegisteredTarget, connection: Connection): () => void {
    target.connections.add(connection);
    return () => {
      target.connections.delete(connection);
      this.#forgetIfDrained(target);
    };
  }

  /** Cuts every connection and forgets every target. */
  close(): void {
    for (const target of this.#targets.values()) {
      clearTimeout(target.drainTimer);
      for (const connection of [...target.connections]) connection.destroy();
    }
    this.#targets.clear();
  }

  #forgetIfDrained(target: RegisteredTarget): void {
    if (!target.draining || target.connections.size > 0) return;
    clearTimeout(target.drainTimer);
    if (this.#targets.get(target.spec.id) === target) this.#targets.delete(target.spec.id);
  }
}
