/**
 * A bounded load generator for the project's services: keeps `concurrency` connections in flight,
 * each running a scripted exchange (connect, send, expect, ..., then EOF from the server), checks
 * every byte, and measures connect-to-EOF latency. It always stops by itself: after `requests`
 * connections, or `duration` ms plus a hard deadline for the last ones.
 */
import { connect, type Socket } from 'node:net';
import {
  DEFAULT_CLIENT_NAME,
  DEFAULT_LOAD_TIMEOUT_MS,
  DEFAULT_PROGRESS_INTERVAL_MS,
  DEFAULT_SERVER_NAME,
} from '../defaults.js';
import { InvalidArgumentError, systemCodeOf } from '../errors.js';
import { encodeLine, formatAnswer, formatClosing, formatGreeting } from '../protocol/greet.js';
import { formatAddress, validateDuration, validateHost, validateInteger, validatePort } from '../validate.js';
import { LatencyHistogram } from './histogram.js';

/** One step of an exchange: bytes to send, bytes to expect, or a half-close of our side. */
export type ExchangeStep = { send: Buffer } | { expect: Buffer } | { shutdown: true };

/** Options of {@link runLoad}. */
export interface LoadOptions {
  host: string;
  port: number;
  /** Connections kept in flight. */
  concurrency: number;
  /** Stop after starting this many connections. At least one of `requests` and `duration` is needed. */
  requests?: number;
  /** Stop starting connections after this many ms. */
  duration?: number;
  /**
   * Per-connection bound on the whole exchange, in ms.
   * @default 5000
   */
  timeout?: number;
  /** The exchange each connection runs; after the last step the server must close. */
  script: readonly ExchangeStep[];
  /** Called about every `progressInterval` ms with the results so far. */
  onProgress?: (progress: LoadProgress) => void;
  /** @default 250 */
  progressInterval?: number;
  /** Stops the run early (connections in flight are dropped and not counted). */
  signal?: AbortSignal;
}

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
  /** Connections started. */
  started: number;
  /** Exchanges completed with every byte as expected. */
  ok: number;
  /** Exchanges that failed, all kinds together. */
  failed: number;
  /** Failures by kind. */
  errors: Partial<Record<LoadErrorKind, number>>;
  /** From the first connect to the last completion, in ms. */
  elapsedMs: number;
  /** Completed exchanges per second over `elapsedMs`. */
  perSecond: number;
  /** Connect-to-EOF latency of the ok exchanges, in microseconds. */
  latency: LatencyHistogram;
}

interface Flight {
  socket: Socket;
  started: number;
  step: number;
  /** Bytes received for the current expect step. */
  received: Buffer[];
  receivedLength: number;
  done: boolean;
}

/** Runs the load and resolves with the results. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const host = validateHost(options.host);
  const port = validatePort(options.port, { allowZero: false });
  const concurrency = validateInteger(options.concurrency, 'concurrency', 1, 100_000);
  const requests =
    options.requests === undefined
      ? Number.POSITIVE_INFINITY
      : validateInteger(options.requests, 'requests', 1, 2 ** 40);
  const duration =
    options.duration === undefined ? undefined : validateDuration(options.duration, 'duration');
  if (options.requests === undefined && duration === undefined) {
    throw new InvalidArgumentError('runLoad needs requests or duration so that it stops by itself');
  }
  const timeout = validateDuration(options.timeout ?? DEFAULT_LOAD_TIMEOUT_MS, 'timeout');
  const progressInterval = validateDuration(
    options.progressInterval ?? DEFAULT_PROGRESS_INTERVAL_MS,
    'progress interval',
  );
  const script = options.script;
  const target = formatAddress(host, port);

  return new Promise((resolve) => {
    const latency = new LatencyHistogram();
    const errors: Partial<Record<LoadErrorKind, number>> = {};
    const flights = new Set<Flight>();
    const begin = performance.now();
    let lastCompletion = begin;
    let started = 0;
    let ok = 0;
    let failed = 0;
    let stopping = false;

    const canStart = () =>
      !stopping && started < requests && (duration === undefined || performance.now() - begin < duration);

    const finishFlight = (flight: Flight, kind: LoadErrorKind | undefined) => {
      if (flight.done) return;
      flight.done = true;
      flights.delete(flight);
      flight.socket.destroy();
      const now = performance.now();
      if (kind === undefined) {
        ok++;
        latency.record((now - flight.started) * 1000);
      } else {
        failed++;
        errors[kind] = (errors[kind] ?? 0) + 1;
      }
      lastCompletion = now;
      if (canStart()) start();
      else if (flights.size === 0) end();
    };

    // Runs the steps that need no input (send, shutdown) up to the next expect.
    const advance = (flight: Flight) => {
      for (;;) {
        const step = script[flight.step];
        if (step === undefined || 'expect' in step) return;
        if ('send' in step) flight.socket.write(step.send);
        else flight.socket.end();
        flight.step++;
      }
    };

    const onData = (flight: Flight, chunk: Buffer) => {
      let data = chunk;
      while (data.length > 0) {
        const step = script[flight.step];
        if (step === undefined || !('expect' in step)) {
          finishFlight(flight, 'bad-payload'); // bytes the script does not expect
          return;
        }
        const need = step.expect.length - flight.receivedLength;
        const part = data.subarray(0, need);
        flight.received.push(part);
        flight.receivedLength += part.length;
        data = data.subarray(part.length);
        if (flight.receivedLength === step.expect.length) {
          const got =
            flight.received.length === 1 ? (flight.received[0] as Buffer) : Buffer.concat(flight.received);
          if (!got.equals(step.expect)) {
            finishFlight(flight, 'bad-payload');
            return;
          }
          flight.received = [];
          flight.receivedLength = 0;
          flight.step++;
          advance(flight);
        }
      }
    };

    const start = () => {
      started++;
      const socket = connect({ host, port });
      const flight: Flight = {
        socket,
        started: performance.now(),
        step: 0,
        received: [],
        receivedLength: 0,
        done: false,
      };
      flights.add(flight);
      socket.on('connect', () => advance(flight));
      socket.on('data', (chunk: Buffer) => onData(flight, chunk));
      socket.on('end', () => finishFlight(flight, flight.step >= script.length ? undefined : 'closed-early'));
      socket.on('error', (error: Error) => finishFlight(flight, kindOf(error)));
    };

    // One sweep for all timeouts instead of a timer per connection.
    const sweep = setInterval(
      () => {
        const now = performance.now();
        for (const flight of flights) if (now - flight.started > timeout) finishFlight(flight, 'timeout');
        options.onProgress?.({ started, ok, failed, elapsedMs: now - begin });
        if (!canStart() && flights.size === 0) end();
      },
      Math.min(progressInterval, timeout),
    );

    const onAbort = () => {
      stopping = true;
      for (const flight of [...flights]) {
        flight.done = true;
        flight.socket.destroy();
        flights.delete(flight);
        started--;
      }
      end();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    let ended = false;
    function end() {
      if (ended) return;
      ended = true;
      clearInterval(sweep);
      options.signal?.removeEventListener('abort', onAbort);
      const elapsedMs = Math.max(lastCompletion - begin, 0.001);
      resolve({
        target,
        concurrency,
        started,
        ok,
        failed,
        errors,
        elapsedMs,
        perSecond: (ok / elapsedMs) * 1000,
        latency,
      });
    }

    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    for (let i = 0; i < concurrency && canStart(); i++) start();
  });
}

function kindOf(error: Error): LoadErrorKind {
  switch (systemCodeOf(error)) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EADDRNOTAVAIL':
      return 'address-unavailable';
    default:
      return 'other';
  }
}

/** The exchange scripts of the project's services. */
export const scripts = {
  /** hello: the server sends `message` (plus NUL) and closes. */
  hello(message: Buffer): ExchangeStep[] {
    return [{ expect: message }];
  },
  /** echo: send `payload`, half-close, expect it back, then the server closes. */
  echo(payload: Buffer): ExchangeStep[] {
    return [{ send: payload }, { shutdown: true }, { expect: payload }];
  },
  /** greet: the lecture's dialogue with the default names. */
  greet(client = DEFAULT_CLIENT_NAME, server = DEFAULT_SERVER_NAME): ExchangeStep[] {
    return [
      { send: encodeLine(formatGreeting(client)) },
      { expect: encodeLine(formatAnswer(client, server)) },
      { send: encodeLine(formatClosing(server)) },
    ];
  },
} as const;
