/**
 * One stats snapshot for every server, TCP or UDP, whatever the service: what metrics and a live
 * page read, at any time, without subscribing to the trace.
 */

/** A server's counters at one moment. Every count runs from the server's creation. */
export interface ServerStats {
  /** The server's transport. */
  transport: 'tcp' | 'udp';
  /** The service: `hello`, `greet`, `echo`, or what a library user named it. */
  service: string;
  /** TCP: connections accepted. UDP: datagrams received. */
  accepted: number;
  /** TCP: connections refused past `maxConnections`. UDP: replies not sent, over the rate limit. */
  refused: number;
  /** TCP: connections open now. UDP: replies handed to the kernel and not yet sent. */
  open: number;
  /**
   * Connections (TCP) or replies (UDP) that ended in an error, by its code: `ECONNRESET`,
   * `ERR_IDLE_TIMEOUT`, `ERR_PROTOCOL`, `ERR_CLOSE_TIMEOUT`, ...
   */
  errors: Record<string, number>;
  /** Bytes received from clients (TCP: of connections that have closed, plus what hello sent). */
  bytesIn: number;
  /** Bytes sent to clients. */
  bytesOut: number;
  /** The service's own outcomes: greet's `completed` or `malformed-greeting`, echo's `pauses`, ... */
  outcomes: Record<string, number>;
  /**
   * TCP, with the PROXY protocol: a proxy's health checks, never in `accepted` nor in `errors`.
   * They are connections with a LOCAL header, or a v1 header naming the proxy's own connection,
   * and connections that sent nothing, or were reset before they could be accepted (what
   * HAProxy's checks look like on a fast link). UDP: 0.
   */
  healthChecks: number;
  /** The pipeline stages' own counters, by stage name (`proxy-protocol`: `v1`, `refused:untrusted`, ...). */
  stages: Record<string, Record<string, number>>;
  /**
   * Log lines the program could not write to its stderr (a closed pipe, a full disk) and dropped
   * while it kept serving. Set by the program around the server, not by the transport.
   */
  logLinesDropped?: number;
  /**
   * Where a server on a Unix domain socket listens: the socket's path (`@name` for an abstract
   * one). Not set on a port (the address is the program's "listening on" line).
   */
  listener?: string;
  /** The worker process (its pid) the snapshot came from, in a supervisor's list (`--workers`). */
  worker?: number;
}

/**
 * An outcome that is a high-water mark (`peak-buffered-bytes`), not a count: workers' values are
 * merged by their maximum, and the metrics give it as a gauge.
 */
export function isPeakOutcome(name: string): boolean {
  return name.startsWith('peak-');
}

/** Adds `from`'s counts into `into`, name by name (a peak takes the larger of the two). */
export function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [name, n] of Object.entries(from)) {
    into[name] = isPeakOutcome(name) ? Math.max(into[name] ?? 0, n) : (into[name] ?? 0) + n;
  }
}

/** Counts by name, cheap to bump, copied out for a snapshot. */
export class Tally {
  readonly #counts = new Map<string, number>();

  /** Adds `n` to `name`. */
  add(name: string, n = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + n);
  }

  /** The counts as a plain object, sorted by name. */
  toRecord(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
