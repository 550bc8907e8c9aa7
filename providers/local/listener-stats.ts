/**
 * Counters one listener keeps as plain numbers on its hot path; the metrics collector reads them when
 * `/metrics` is scraped, so proxying never calls into the metrics library.
 *
 * @module
 */
export class ListenerStats {
  /** TCP connections open, or UDP flows remembered. */
  active = 0;
  /** TCP connections accepted, or UDP flows started (after the source-range check). */
  total = 0;
  /** Bytes from clients to targets. */
  bytesIn = 0;
  /** Bytes from targets to clients. */
  bytesOut = 0;
  /** Connections closed (datagrams dropped) because the client is outside the source ranges. */
  rejectedBySourceRange = 0;
  /** Connections closed (datagrams dropped) because no target could be reached. */
  rejectedNoTarget = 0;
}
