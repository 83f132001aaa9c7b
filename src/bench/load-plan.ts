/**
 * The types a load run shares between its front (load.ts) and its loops (load-loop.ts on one
 * event loop, load-threads.ts on several): kept below all three, so that none imports another in
 * a circle.
 */
import type { LatencyHistogram } from './histogram.js';

/** One step of an exchange: bytes to send, bytes to expect, or a half-close of our side. */
export type ExchangeStep =
  | {
      /** Bytes to write. */
      send: Buffer;
    }
  | {
      /** Bytes the server must send next, exactly. */
      expect: Buffer;
    }
  | {
      /** Close our side for writing (FIN) and go on reading. */
      shutdown: true;
    };

/** Failure kinds, counted separately. */
export type LoadErrorKind =
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'bad-payload'
  | 'closed-early'
  | 'address-unavailable'
  | 'tls'
  | 'other';

/** Results so far, for progress reports. */
export interface LoadProgress {
  /** Connections started so far. */
  started: number;
  /** Exchanges completed as expected so far. */
  ok: number;
  /** Exchanges failed so far. */
  failed: number;
  /** Time since the run started, in ms. */
  elapsedMs: number;
}

/** The outcome of a run. */
export interface LoadResult {
  /** The server, as `ADDRESS:PORT` (`[::1]:9190` for IPv6), or its Unix socket's path. */
  target: string;
  /** Connections kept in flight. */
  concurrency: number;
  /** Event loops that ran the connections. */
  threads: number;
  /** Connections started: `ok + failed + inFlight`. */
  started: number;
  /** True when the run was stopped early (`signal`). */
  interrupted: boolean;
  /** Connections still in flight when the run was stopped early, dropped unfinished (0 otherwise). */
  inFlight: number;
  /**
   * Connections that got not one byte from the server while they waited for it: those that timed
   * out, and those in flight at an early stop. A server that accepts and never answers shows here.
   */
  noAnswer: {
    /** Timed out before the server's first byte. */
    timedOut: number;
    /** In flight, without a byte yet, when the run was stopped early. */
    inFlight: number;
  };
  /** Exchanges completed with every byte as expected. */
  ok: number;
  /** Exchanges that failed, all kinds together. */
  failed: number;
  /** Failures by kind. */
  errors: Partial<Record<LoadErrorKind, number>>;
  /** From the first connect to the last completion, or to the stop when interrupted, in ms. */
  elapsedMs: number;
  /** Completed exchanges per second over `elapsedMs`. */
  perSecond: number;
  /** Connect-to-EOF latency of the ok exchanges, in microseconds. */
  latency: LatencyHistogram;
  /** With TLS: the handshakes, counted and timed on their own. */
  tls?: LoadTlsResult;
}

/** TLS for a load run: every connection does a handshake before its script. */
export interface LoadTls {
  /** SNI and the name verified. @default the host, when it is a name; localhost over a Unix socket */
  servername?: string | undefined;
  /** CA certificates (PEM) to trust instead of Node's. */
  ca?: readonly string[] | undefined;
  /** Do not verify the server's certificate. @default false */
  insecure?: boolean | undefined;
  /**
   * Offer each new connection the session ticket of the last handshake on its event loop, so that
   * the server can resume it (no certificate, no key exchange of its own). @default false
   */
  resume?: boolean | undefined;
}

/** What the handshakes of a TLS run did. */
export interface LoadTlsResult {
  /** Handshakes completed. */
  handshakes: number;
  /** Of them, resumed sessions. */
  resumed: number;
  /** Completed handshakes per second over the run's `elapsedMs`. */
  perSecond: number;
  /** Connect-to-handshake-done latency, in microseconds. */
  latency: LatencyHistogram;
}

/** The TLS part of a result: `{ tls }` for a run with TLS (`tls` defined), else `{}`. */
export function tlsResultOf(
  tls: LoadTls | undefined,
  handshakes: number,
  resumed: number,
  elapsedMs: number,
  latency: LatencyHistogram,
): { tls?: LoadTlsResult } {
  if (tls === undefined) return {};
  return { tls: { handshakes, resumed, perSecond: (handshakes / elapsedMs) * 1000, latency } };
}

/** The options of a run once checked: what one event loop needs. */
export interface LoadPlan {
  /** The server's address and port (empty and 0 with `path`). */
  host: string;
  port: number;
  /** The server's Unix socket, as Node takes it (a leading NUL for an abstract name), instead of host and port. */
  path?: string | undefined;
  /** How results name the server: `ADDRESS:PORT`, or the Unix socket's path (`@name`). */
  target: string;
  concurrency: number;
  /** `Infinity` when only the duration bounds the run. */
  requests: number;
  duration: number | undefined;
  timeout: number;
  progressInterval: number;
  script: readonly ExchangeStep[];
  /** Speak TLS: a handshake first, measured on its own. */
  tls?: LoadTls | undefined;
}

/** What a run reports to while it runs. */
export interface LoadHooks {
  onProgress?: ((progress: LoadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}
