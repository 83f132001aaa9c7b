/**
 * A bounded load generator for the project's services: keeps `concurrency` connections in flight,
 * each running a scripted exchange (connect, send, expect, ..., then EOF from the server), checks
 * every byte, and measures connect-to-EOF latency. It always stops by itself: after `requests`
 * connections, or `duration` ms plus a hard deadline for the last ones. One event loop runs the
 * connections (load-loop.ts), or several on worker threads (load-threads.ts).
 */
import {
  DEFAULT_CLIENT_NAME,
  DEFAULT_LOAD_TIMEOUT_MS,
  DEFAULT_PROGRESS_INTERVAL_MS,
  DEFAULT_SERVER_NAME,
} from '../defaults.js';
import { InvalidArgumentError } from '../errors.js';
import { encodeLine, formatAnswer, formatClosing, formatGreeting } from '../protocol/greet.js';
import { encodeQuote } from '../protocol/qotd.js';
import { parseUnixAddress } from '../unix-address.js';
import { formatAddress, validateDuration, validateHost, validateInteger, validatePort } from '../validate.js';
import { runLoop } from './load-loop.js';
import type { ExchangeStep, LoadHooks, LoadPlan, LoadProgress, LoadResult, LoadTls } from './load-plan.js';
import { runOnThreads } from './load-threads.js';

// The shared types live below both loops (load-plan.ts); the library's names for them stay here.
export type {
  ExchangeStep,
  LoadErrorKind,
  LoadHooks,
  LoadPlan,
  LoadProgress,
  LoadResult,
  LoadTls,
  LoadTlsResult,
} from './load-plan.js';

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** The server's address (IPv4 or IPv6). Give `host` and `port`, or `path`. */
  host?: string;
  /** The server's port. */
  port?: number;
  /** The server's Unix domain socket instead: a path, or `@name` for an abstract one. */
  path?: string;
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
  /**
   * Stops the run early: connections in flight are dropped, counted in `inFlight` (not as ok or
   * failed), and the elapsed time runs to the stop.
   */
  signal?: AbortSignal;
  /**
   * Speak TLS: each connection does a handshake first, timed on its own (`result.tls`). With an
   * empty `script` the exchange is the handshake alone: the connection is closed once it is done.
   */
  tls?: LoadTls;
  /**
   * Event loops sharing the connections: 1 runs them on the calling thread, more start worker
   * threads, each with its share of `concurrency` and `requests` (never more threads than
   * connections). A Node.js client costs more than twice a C client's CPU per connection, so one
   * loop cannot load a fast server; on a machine with cores to spare, more can.
   * @default 1
   */
  threads?: number;
}

/** Most event loops a run may ask for. */
export const MAX_LOAD_THREADS = 64;

/** Runs the load and resolves with the results. Throws at once on invalid options. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const plan = planLoad(options);
  const threads = Math.min(
    validateInteger(options.threads ?? 1, 'threads', 1, MAX_LOAD_THREADS),
    plan.concurrency,
    plan.requests,
  );
  const hooks: LoadHooks = { onProgress: options.onProgress, signal: options.signal };
  return threads === 1 ? runLoop(plan, hooks) : runOnThreads(plan, threads, hooks);
}

function planLoad(options: LoadOptions): LoadPlan {
  const where = loadTarget(options);
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
  return {
    ...where,
    concurrency,
    requests,
    duration,
    timeout,
    progressInterval,
    script: options.script,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  };
}

// The server: a host and port, or a Unix socket (then host '' and port 0), and how results name it.
function loadTarget(options: LoadOptions): Pick<LoadPlan, 'host' | 'port' | 'path' | 'target'> {
  if (options.path !== undefined) {
    if (options.host !== undefined || options.port !== undefined) {
      throw new InvalidArgumentError('give a host and port, or a Unix socket path, not both');
    }
    const unix = parseUnixAddress(options.path);
    return { host: '', port: 0, path: unix.path, target: unix.display };
  }
  if (options.host === undefined || options.port === undefined) {
    throw new InvalidArgumentError('give a host and port, or a Unix socket path');
  }
  const host = validateHost(options.host);
  const port = validatePort(options.port, { allowZero: false });
  return { host, port, target: formatAddress(host, port) };
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
  /** discard: send `payload`, half-close; nothing comes back, then the server closes. */
  discard(payload: Buffer): ExchangeStep[] {
    return [{ send: payload }, { shutdown: true }];
  },
  /** qotd: the server sends `quote` (its wire form, with CR LF) and closes. */
  qotd(quote: string): ExchangeStep[] {
    return [{ expect: encodeQuote(quote) }];
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
