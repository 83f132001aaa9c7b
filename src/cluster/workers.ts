/**
 * N worker processes serving one port, each with a listening socket of its own (SO_REUSEPORT):
 * the kernel spreads new connections (or datagrams) over the N sockets by a hash of the client's
 * address, with no hand-out process and no shared accept queue. The primary only supervises: it
 * checks that nobody holds the port yet, starts the workers, replaces one that dies (a bounded
 * number of times), stops them all, gathers their stats, and passes their trace events on to its
 * own subscribers.
 *
 * With port 0 the first worker picks the port and the others join it. Caveats, and what we do:
 * - A listening socket that closes resets the connections waiting in its own queue. A worker that
 *   is stopped accepts what is queued (TcpServer's drain) before it closes; a worker that dies
 *   loses its queue, and the kernel sends new clients to the sockets that remain.
 * - A worker that hangs (stopped, or its event loop stuck) keeps its socket, and the kernel keeps
 *   giving it its share of new clients. The primary pings each worker every second over the IPC
 *   channel; one that has answered nothing for 3 s is killed (SIGKILL) and replaced, resetting
 *   the clients in its queue. A worker whose channel closes (the primary died) exits at once.
 * - Any process of the same user that sets SO_REUSEPORT can join the port. The `probe` binds the
 *   port once without it before any worker starts: if anything listens there, that fails.
 */
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_MAX_WORKER_RESTARTS,
  DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS,
  DEFAULT_WORKER_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_WORKER_RESTART_WINDOW_MS,
} from '../defaults.js';
import { BindError, SocketStepsError } from '../errors.js';
import { publishTraceEvent, subscribeTrace, type TraceEvent } from '../trace/events.js';
import { addCounts, type ServerStats } from '../transport/stats.js';
import { validateInteger } from '../validate.js';

/** Messages a worker sends to the primary. */
type WorkerMessage =
  | { type: 'listening'; address: string; family: string; port: number }
  | { type: 'failed'; code: string; message: string }
  | { type: 'stats'; id: number; stats: ServerStats }
  | { type: 'trace'; event: TraceEvent }
  | { type: 'pong' }
  // Sent on a destroy request, before the worker drops them: how many connections it held.
  | { type: 'dropping'; open: number };
/** Messages the primary sends to a worker. */
type PrimaryMessage =
  | { type: 'stop' }
  | { type: 'destroy' }
  | { type: 'stats'; id: number }
  | { type: 'trace'; on: boolean }
  | { type: 'ping' };

// The port a worker binds, from the primary: with port 0 only the first worker picks one.
const PORT_VARIABLE = 'SOCKET_STEPS_WORKER_PORT';

/** True in a process started by a {@link WorkerSupervisor}. */
export function isWorker(): boolean {
  return cluster.isWorker && process.env[PORT_VARIABLE] !== undefined;
}

/** In a worker: the port to bind (the primary's choice); elsewhere `port` as given. */
export function workerPort(port: number): number {
  const assigned = process.env[PORT_VARIABLE];
  return isWorker() && assigned !== undefined && assigned !== '' ? Number(assigned) : port;
}

/** A worker that exited, and what the supervisor did about it. */
export interface WorkerExit {
  /** The worker's process ID. */
  pid: number;
  /** Its exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it (`SIGKILL`), or null when it exited. */
  signal: string | null;
  /** What happens now: `replaced` by a new worker, `stopping` (asked to), or `gave-up`. */
  outcome: 'replaced' | 'stopping' | 'gave-up';
  /** Set when the supervisor killed it for answering no heartbeat for this many ms. */
  hungFor?: number;
}

/** Options of a {@link WorkerSupervisor}. */
export interface WorkerSupervisorOptions {
  /** How many workers. */
  count: number;
  /** The port the workers serve; 0 lets the first worker pick one. */
  port: number;
  /**
   * Runs once before any worker starts, for a fixed port: binds it without SO_REUSEPORT and
   * releases it, rejecting if that fails (someone listens there already).
   */
  probe?: () => Promise<void>;
  /** The worker's script. @default process.argv[1], the program itself */
  exec?: string;
  /** The worker's arguments. @default process.argv.slice(2) */
  args?: readonly string[];
  /** Workers that may die and be replaced within `restartWindow` before the supervisor gives up. @default 5 */
  maxRestarts?: number;
  /** @default 10000 */
  restartWindow?: number;
  /** Pass the workers' trace events on to this process's subscribers, each with its `worker` pid. @default false */
  forwardTrace?: boolean;
  /** Called when a worker exits. */
  onWorkerExit?: (exit: WorkerExit) => void;
  /** How often (ms) each worker is asked to answer. @default 1000 */
  heartbeatInterval?: number;
  /**
   * A worker that answered nothing for this long (ms) is killed (SIGKILL, by its pid) and
   * replaced, and its exit has `hungFor` set. @default 3000
   */
  heartbeatTimeout?: number;
}

/** In the primary: starts, supervises and stops N workers. */
export class WorkerSupervisor {
  readonly #count: number;
  readonly #options: WorkerSupervisorOptions;
  readonly #workers = new Set<Worker>();
  readonly #listening = new Set<Worker>();
  readonly #restarts: number[] = [];
  /** When each listening worker last sent anything (performance.now()). */
  readonly #lastHeard = new Map<Worker, number>();
  /** Workers killed for silence, with how long they had been silent. */
  readonly #hung = new Map<Worker, number>();
  readonly #heartbeatInterval: number;
  readonly #heartbeatTimeout: number;
  #heartbeat: NodeJS.Timeout | undefined;
  #dropped = 0;
  readonly #statsRequests = new Map<
    number,
    { stats: ServerStats[]; waiting: number; resolve(s: ServerStats[]): void }
  >();
  #port: number | undefined;
  #address: AddressInfo | undefined;
  #stopMessage: PrimaryMessage | undefined;
  #failed = false;
  #started: Promise<AddressInfo> | undefined;
  #resolveStarted!: (address: AddressInfo) => void;
  #rejectStarted!: (error: Error) => void;
  #resolveClosed!: () => void;
  #nextStatsId = 1;
  /** Resolves once every worker has exited (after stop(), destroy(), a failed start or giving up). */
  readonly closed: Promise<void>;

  constructor(options: WorkerSupervisorOptions) {
    this.#count = validateInteger(options.count, 'workers', 1, 1024);
    this.#options = options;
    this.#port = options.port === 0 ? undefined : options.port;
    this.#heartbeatInterval = validateInteger(
      options.heartbeatInterval ?? DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS,
      'heartbeatInterval',
      1,
      3_600_000,
    );
    this.#heartbeatTimeout = validateInteger(
      options.heartbeatTimeout ?? DEFAULT_WORKER_HEARTBEAT_TIMEOUT_MS,
      'heartbeatTimeout',
      1,
      3_600_000,
    );
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = () => {
        if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
        resolve();
      };
    });
  }

  /** True once a worker failed to start, a worker exited with an error while stopping, or the supervisor gave up. */
  get failed(): boolean {
    return this.#failed;
  }

  /** The PIDs of the workers running now. */
  get pids(): number[] {
    return [...this.#workers].map((w) => w.process.pid ?? 0);
  }

  /**
   * Probes the port, starts the workers and resolves with the address once all of them listen.
   * Rejects with the probe's or the first failing worker's error ({@link BindError}); the others
   * are then destroyed. Calling it again returns the same promise.
   */
  start(): Promise<AddressInfo> {
    this.#started ??= new Promise<AddressInfo>((resolve, reject) => {
      this.#resolveStarted = resolve;
      this.#rejectStarted = reject;
      void this.#start();
    });
    return this.#started;
  }

  async #start(): Promise<void> {
    if (this.#port !== undefined && this.#options.probe !== undefined) {
      try {
        await this.#options.probe();
      } catch (error) {
        this.#failed = true;
        this.#rejectStarted(error instanceof Error ? error : new Error(String(error)));
        this.#resolveClosed();
        return;
      }
    }
    if (this.#stopMessage !== undefined) {
      // Stopped while probing: nothing was started.
      this.#rejectStarted(new SocketStepsError('stopped before the workers started'));
      this.#resolveClosed();
      return;
    }
    cluster.setupPrimary({
      ...(this.#options.exec === undefined ? {} : { exec: this.#options.exec }),
      ...(this.#options.args === undefined ? {} : { args: [...this.#options.args] }),
    });
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    this.#heartbeat = setInterval(() => this.#checkHeartbeats(), this.#heartbeatInterval);
    this.#heartbeat.unref();
    this.#fork();
    if (this.#port !== undefined) for (let i = 1; i < this.#count; i++) this.#fork();
  }

  /** Stops every worker gracefully (each closes as a lone server would); resolves once all exited. */
  stop(): Promise<void> {
    this.#send({ type: 'stop' });
    return this.#settleIfEmpty();
  }

  /** Connections the workers held when destroy() dropped them, as they reported it. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Destroys every worker's connections now; resolves once all exited. */
  destroy(): Promise<void> {
    this.#send({ type: 'destroy' });
    return this.#settleIfEmpty();
  }

  /**
   * Every worker's stats snapshot, with its pid in `worker`, by pid (workers that do not answer
   * within `timeout` ms are left out).
   */
  stats(timeout = 2000): Promise<ServerStats[]> {
    const workers = [...this.#listening].filter((w) => w.isConnected());
    if (workers.length === 0) return Promise.resolve([]);
    const id = this.#nextStatsId++;
    return new Promise((resolve) => {
      const request = {
        stats: [] as ServerStats[],
        waiting: workers.length,
        resolve: (_: ServerStats[]) => {},
      };
      this.#statsRequests.set(id, request);
      const timer = setTimeout(() => {
        this.#statsRequests.delete(id);
        request.resolve(request.stats);
      }, timeout);
      request.resolve = (stats: ServerStats[]) => {
        stats.sort((a, b) => (a.worker ?? 0) - (b.worker ?? 0));
        clearTimeout(timer);
        resolve(stats);
      };
      for (const worker of workers) tell(worker, { type: 'stats', id });
    });
  }

  #settleIfEmpty(): Promise<void> {
    // Before start() or while probing, no worker runs and none will: closed now.
    if (this.#workers.size === 0) this.#resolveClosed();
    return this.closed;
  }

  #send(message: PrimaryMessage): void {
    this.#stopMessage ??= message;
    if (message.type === 'destroy') this.#stopMessage = message;
    for (const worker of this.#workers) tell(worker, message);
  }

  #fork(): void {
    const worker = cluster.fork({ [PORT_VARIABLE]: this.#port === undefined ? '' : String(this.#port) });
    this.#workers.add(worker);
    worker.on('message', (message: WorkerMessage) => this.#onMessage(worker, message));
    worker.on('exit', (code, signal) => this.#onExit(worker, code, signal));
    // A worker's channel that breaks (EPIPE as it exits) is an error of the Worker: its 'exit'
    // event says the rest, so the error must not end the supervisor as an unhandled one.
    worker.on('error', () => {});
  }

  // Asks every listening worker to answer, and kills the ones that have been silent too long: a
  // stopped (SIGSTOP) or stuck worker keeps its listening socket, so the kernel goes on giving it
  // its share of new clients, and none of them is served until it is gone.
  #checkHeartbeats(): void {
    const now = performance.now();
    for (const [worker, heard] of this.#lastHeard) {
      const silent = now - heard;
      if (silent > this.#heartbeatTimeout && !this.#hung.has(worker)) {
        this.#hung.set(worker, Math.round(silent));
        const pid = worker.process.pid;
        // By pid, with SIGKILL: a stopped process cannot run a handler, and the IPC channel is
        // what it no longer answers.
        if (pid !== undefined) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // exited already: its 'exit' event is on its way
          }
        }
      } else {
        tell(worker, { type: 'ping' });
      }
    }
  }

  #onMessage(worker: Worker, message: WorkerMessage): void {
    if (this.#lastHeard.has(worker)) this.#lastHeard.set(worker, performance.now());
    switch (message.type) {
      case 'pong':
        return;
      case 'dropping':
        this.#dropped += message.open;
        return;
      case 'listening': {
        this.#listening.add(worker);
        this.#lastHeard.set(worker, performance.now());
        if (this.#options.forwardTrace) tell(worker, { type: 'trace', on: true });
        // A worker still starting when the stop was sent may have missed it.
        if (this.#stopMessage !== undefined) {
          tell(worker, this.#stopMessage);
          return;
        }
        if (this.#port === undefined) {
          // The first worker picked the port: the others join it.
          this.#port = message.port;
          for (let i = 1; i < this.#count; i++) this.#fork();
        }
        if (this.#listening.size === this.#count && this.#address === undefined) {
          this.#address = { address: message.address, family: message.family, port: message.port };
          this.#resolveStarted(this.#address);
        }
        return;
      }
      case 'failed':
        if (!this.#failed) {
          this.#failed = true;
          this.#rejectStarted(new BindError(message.message, { call: 'bind' }));
          this.destroy();
        }
        return;
      case 'stats': {
        const request = this.#statsRequests.get(message.id);
        if (request === undefined) return;
        request.stats.push({ ...message.stats, worker: worker.process.pid ?? 0 });
        if (--request.waiting === 0) {
          this.#statsRequests.delete(message.id);
          request.resolve(request.stats);
        }
        return;
      }
      case 'trace':
        publishTraceEvent({ ...message.event, worker: worker.process.pid ?? 0 });
        return;
    }
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    this.#workers.delete(worker);
    this.#listening.delete(worker);
    this.#lastHeard.delete(worker);
    const hungFor = this.#hung.get(worker);
    this.#hung.delete(worker);
    const hung = hungFor === undefined ? {} : { hungFor };
    const pid = worker.process.pid ?? 0;
    if (this.#stopMessage === undefined) {
      const now = Date.now();
      const window = this.#options.restartWindow ?? DEFAULT_WORKER_RESTART_WINDOW_MS;
      while (this.#restarts.length > 0 && (this.#restarts[0] ?? 0) < now - window) this.#restarts.shift();
      if (this.#restarts.length < (this.#options.maxRestarts ?? DEFAULT_MAX_WORKER_RESTARTS)) {
        this.#restarts.push(now);
        this.#options.onWorkerExit?.({ pid, code, signal, outcome: 'replaced', ...hung });
        this.#fork();
        return;
      }
      this.#failed = true;
      this.#options.onWorkerExit?.({ pid, code, signal, outcome: 'gave-up', ...hung });
      this.#rejectStarted(new SocketStepsError('workers keep exiting'));
      this.destroy();
    } else {
      if (code !== 0) this.#failed = true;
      this.#options.onWorkerExit?.({ pid, code, signal, outcome: 'stopping', ...hung });
    }
    if (this.#workers.size === 0) this.#resolveClosed();
  }
}

/**
 * Sends `message` to `worker` if its channel is open. A channel can close between that check and
 * the write (the worker exiting as a stop and a second signal cross): the write then fails with
 * EPIPE, which a callback takes instead of an unhandled 'error'; the worker's 'exit' follows.
 */
function tell(worker: Worker, message: PrimaryMessage): void {
  if (!worker.isConnected()) return;
  worker.send(message, (error: Error | null) => {
    void error;
  });
}

/** What a worker's server offers the supervisor. */
export interface SupervisedServer {
  /** Stops accepting and lets open connections finish; resolves once all are closed. */
  close(): Promise<void>;
  /** Closes everything now, open connections included. */
  destroy(): Promise<void>;
  /** The server's stats so far, for the supervisor to add up. */
  snapshot(): ServerStats;
}

/** A worker's line to its supervisor (see {@link connectToSupervisor}). */
export interface SupervisorLink {
  /** Tells the primary that the server listens. */
  listening(address: AddressInfo): void;
  /** Tells the primary that the server could not start (it stops the others). */
  failed(error: unknown): void;
  /** Stops answering the primary and lets the worker exit. */
  detach(): void;
}

/**
 * In a worker: answers the supervisor for `server`. A stop request closes it gracefully, a
 * destroy request destroys it, a stats request gets its snapshot, and while the primary asks for
 * them its trace events go to the primary.
 */
export function connectToSupervisor(server: SupervisedServer): SupervisorLink {
  let stopForwarding: (() => void) | undefined;
  // The channel can close between the check and the write (the primary exiting): the callback
  // takes that EPIPE, which would otherwise be an unhandled 'error' ending the worker with 1.
  const send = (message: WorkerMessage) => {
    if (process.connected) process.send?.(message, undefined, undefined, (error: Error | null) => void error);
  };
  const onMessage = (message: PrimaryMessage) => {
    switch (message.type) {
      case 'stop':
        void server.close();
        return;
      case 'destroy':
        send({ type: 'dropping', open: server.snapshot().open });
        void server.destroy();
        return;
      case 'stats':
        send({ type: 'stats', id: message.id, stats: server.snapshot() });
        return;
      case 'trace':
        stopForwarding?.();
        stopForwarding = message.on ? subscribeTrace((event) => send({ type: 'trace', event })) : undefined;
        return;
      case 'ping':
        send({ type: 'pong' });
        return;
    }
  };
  // A channel that closes without a stop (the primary died) needs nothing here: Node's cluster
  // exits the worker at once on an unexpected disconnect, so no worker outlives its primary.
  process.on('message', onMessage);
  return {
    listening: (address) =>
      send({ type: 'listening', address: address.address, family: address.family, port: address.port }),
    failed: (error) =>
      send({
        type: 'failed',
        code: error instanceof SocketStepsError ? error.code : 'ERR_BIND',
        message: error instanceof Error ? error.message : String(error),
      }),
    detach: () => {
      stopForwarding?.();
      process.off('message', onMessage);
      // Let the worker exit: the IPC channel would otherwise keep it alive.
      cluster.worker?.disconnect();
    },
  };
}

/** Adds up the snapshots of several workers into one (errors and outcomes by name). */
export function mergeStats(all: readonly ServerStats[]): ServerStats | undefined {
  const [first, ...rest] = all;
  if (first === undefined) return undefined;
  const sum: ServerStats = {
    ...first,
    errors: { ...first.errors },
    outcomes: { ...first.outcomes },
    stages: Object.fromEntries(Object.entries(first.stages).map(([name, counts]) => [name, { ...counts }])),
  };
  delete sum.worker;
  for (const s of rest) {
    sum.accepted += s.accepted;
    sum.refused += s.refused;
    sum.open += s.open;
    sum.bytesIn += s.bytesIn;
    sum.bytesOut += s.bytesOut;
    sum.healthChecks += s.healthChecks;
    if (s.logLinesDropped !== undefined) sum.logLinesDropped = (sum.logLinesDropped ?? 0) + s.logLinesDropped;
    addCounts(sum.errors, s.errors);
    addCounts(sum.outcomes, s.outcomes);
    for (const [name, counts] of Object.entries(s.stages)) {
      sum.stages[name] = { ...sum.stages[name] };
      addCounts(sum.stages[name], counts);
    }
  }
  return sum;
}
