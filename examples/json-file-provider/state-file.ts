/**
 * The JSON file the example provider keeps its "cloud" in: read whole, written whole and atomically
 * (temporary file + rename), one update at a time per file within this process.
 *
 * Not safe for two processes sharing one file; a real cloud's API is what makes that safe.
 *
 * @module
 */
import { readFile, rename, writeFile } from "node:fs/promises";

/** One stored load balancer. Plain JSON; compared by serialization to detect "no change". */
export interface StoredLoadBalancer {
  readonly clusterName: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly ip: string;
  readonly sourceRanges: readonly string[];
  readonly listeners: readonly StoredListener[];
}

export interface StoredListener {
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
  readonly nodePort: number;
  /** Target IPs (each node's InternalIP), sorted. */
  readonly targets: readonly string[];
  readonly healthCheck: {
    readonly protocol: "TCP" | "HTTP";
    readonly port: number | "traffic-port";
    readonly path?: string;
  };
}

export interface StateDocument {
  readonly loadBalancers: Record<string, StoredLoadBalancer>;
}

const queues = new Map<string, Promise<unknown>>();

/** Runs `task` after every earlier task on the same file has finished. */
export function serialized<T>(path: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(path, settled);
  void settled.then(() => {
    if (queues.get(path) === settled) queues.delete(path);
  });
  return next;
}

/** The document in `path`; an absent file is an empty cloud. */
export async function readState(path: string): Promise<StateDocument> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { loadBalancers: {} };
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<StateDocument>;
  return { loadBalancers: parsed.loadBalancers ?? {} };
}

export async function writeState(path: string, state: StateDocument): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, path);
}
