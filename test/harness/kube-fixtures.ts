/**
 * The seed scenario's Kubernetes objects, for code that wants them without the rest of the harness
 * (benchmarks, unit tests). The builders live in `sandbox/seed-objects.ts` so the demo shares them.
 *
 * @module
 */
export * from "../../sandbox/seed-objects.ts";
