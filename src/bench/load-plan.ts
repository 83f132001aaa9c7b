/**
 * The types a load run shares between its front (load.ts) and its loops (load-loop.ts on one
 * event loop, load-threads.ts on several): kept below all three, so that none imports another in
 * a circle.
 */
import type { LatencyHistogram } from './histogram.js';

/** One step of an exchange: bytes to send, bytes to expect, or a half-close of our side. */
export type ExchangeStep = { send: Buffer } | { expect: Buffer } | { shutdown: true };

/** Failure kinds, counted separately. */
export type LoadErrorKind =
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'bad-payload'
  | 'closed-early'
  | 'address-unavailable'
  | 'other';

/** Results so far, for progress reports. */
export interface LoadProgress {
  started: number;
  ok: number;
  failed: number;
  elapsedMs: number;
}

/** The outcome of a run. */
export interface LoadResult {
  target: string;
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
  noAnswer: { timedOut: number; inFlight: number };
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
}

/** The options of a run once checked: what one event loop needs. */
export interface LoadPlan {
  host: string;
  port: number;
  concurrency: number;
  /** `Infinity` when only the duration bounds the run. */
  requests: number;
  duration: number | undefined;
  timeout: number;
  progressInterval: number;
  script: readonly ExchangeStep[];
}

/** What a run reports to while it runs. */
export interface LoadHooks {
  onProgress?: ((progress: LoadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}
