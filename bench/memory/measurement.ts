/**
 * What the measured controller process reports to the memory scenario: one stdout line,
 * {@link MEASUREMENT_PREFIX} followed by a {@link MemoryMeasurement} as JSON.
 *
 * @module
 */

export interface MemoryMeasurement {
  readonly services: number;
  readonly loadBalancers: number;
  readonly workers: number;
  readonly convergedSeconds: number;
  /** After two full garbage collections, in bytes. */
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** Peak resident set size over the process's life, in bytes. */
  readonly maxRss: number;
  /**
   * Resident bytes by kind of mapping (Linux `/proc/self/smaps`): `file` (the node binary and other
   * files), `brk-heap` (the C allocator's main heap), `anonymous` (the V8 heap, large C allocations,
   * other allocator arenas), `stack`, `other`. Absent where smaps cannot be read.
   */
  readonly rssByMapping?: Readonly<Record<string, number>>;
}

/** Marks the measurement line on stdout. */
export const MEASUREMENT_PREFIX = "memory-measurement ";
