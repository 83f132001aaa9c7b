/**
 * `--workers N`: N server processes, each with a listening socket of its own on the same port
 * (SO_REUSEPORT, Node's `reusePort`). The kernel spreads new connections (or datagrams) over the N
 * sockets by a hash of the client's address: there is no hand-out process and no shared accept
 * queue. The primary only supervises: it checks that nobody holds the port yet, starts the
 * workers, reports the address once all of them listen, passes on stop requests, and replaces a
 * worker that dies (a bounded number of times).
 *
 * With port 0 the first worker picks the port and the others join it. Caveats, and what we do:
 * - A listening socket that closes resets the connections waiting in its own queue. A worker
 *   that is stopped first accepts what is queued (TcpServer's drain), then closes; a worker that
 *   dies loses its queue, and the kernel sends new clients to the sockets that remain.
 * - Any process of the same user that sets SO_REUSEPORT can join the port. Before starting the
 *   workers, the primary binds the port once without it: if anything listens there, that fails
 *   with the usual bind() error, so two servers never share a port by mistake.
 */
import cluster, { type Worker } from 'node:cluster';
import { formatAddress } from '../validate.js';
import { ExitCode } from './common.js';

/** Messages a worker sends to the primary. */
type WorkerMessage = { type: 'listening'; address: string; port: number } | { type: 'failed'; line: string };
/** Messages the primary sends to a worker. */
type PrimaryMessage = { type: 'stop' } | { type: 'destroy' };

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 10_000;
// The port a worker binds, from the primary: with port 0 only the first worker picks one.
const PORT_VARIABLE = 'SOCKET_STEPS_WORKER_PORT';

/** True in a process started by {@link superviseWorkers}. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: the port to bind (the primary's choice), else `port` as given. */
export function workerPort(port: number): number {
  const assigned = process.env[PORT_VARIABLE];
  return isWorker() && assigned !== undefined ? Number(assigned) : port;
}

/** What {@link superviseWorkers} needs to know of the server. */
export interface WorkerPlan {
  /** The port from the command line (0: the first worker picks one). */
  port: number;
  /**
   * Binds the address once without SO_REUSEPORT and releases it. Resolves with an error line
   * (`bind() error: ...`) if that fails, else with undefined.
   */
  probe(): Promise<string | undefined>;
}

/**
 * In the primary: starts `count` workers (each runs the same command line) and supervises them
 * until they have all exited. Resolves with the exit code for the primary.
 */
export async function superviseWorkers(program: string, count: number, plan: WorkerPlan): Promise<number> {
  // Signals that arrive while probing are not lost: handlers go in first.
  let signals = 0;
  let onSignal = () => {
    signals++;
  };
  const handle = () => onSignal();
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  const busy = plan.port === 0 ? undefined : await plan.probe();
  if (busy !== undefined || signals > 0) {
    if (busy !== undefined) process.stderr.write(`${busy}\n`);
    return busy === undefined ? ExitCode.Ok : ExitCode.Failure;
  }
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  return new Promise((resolve) => {
    const workers = new Set<Worker>();
    const listening = new Set<Worker>();
    const restarts: number[] = [];
    let port = plan.port === 0 ? undefined : plan.port;
    let stopping = false;
    let failed = false;
    let announced = false;

    const send = (message: PrimaryMessage) => {
      for (const worker of workers) if (worker.isConnected()) worker.send(message);
    };
    let stopMessage: PrimaryMessage | undefined;
    const stop = (message: PrimaryMessage) => {
      stopping = true;
      stopMessage = message;
      send(message);
    };
    onSignal = () => {
      signals++;
      stop(signals === 1 ? { type: 'stop' } : { type: 'destroy' });
    };

    const fork = () => {
      const worker = cluster.fork(port === undefined ? {} : { [PORT_VARIABLE]: String(port) });
      workers.add(worker);
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'listening') {
          listening.add(worker);
          // A worker still starting when the stop was sent may have missed it.
          if (stopMessage !== undefined) worker.send(stopMessage);
          if (port === undefined) {
            // The first worker picked the port: the others join it.
            port = message.port;
            for (let i = 1; i < count && !stopping; i++) fork();
          }
          if (listening.size === count && !stopping && !announced) {
            announced = true;
            process.stderr.write(
              `${program}: listening on ${formatAddress(message.address, message.port)}\n`,
            );
          }
        } else if (message.type === 'failed' && !failed) {
          failed = true;
          process.stderr.write(`${message.line}\n`);
          stop({ type: 'destroy' });
        }
      });
      worker.on('exit', (code, signal) => {
        workers.delete(worker);
        listening.delete(worker);
        if (!stopping) {
          const now = Date.now();
          while (restarts.length > 0 && (restarts[0] ?? 0) < now - RESTART_WINDOW_MS) restarts.shift();
          if (restarts.length < MAX_RESTARTS) {
            restarts.push(now);
            process.stderr.write(
              `${program}: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`,
            );
            fork();
            return;
          }
          process.stderr.write(`${program}: workers keep exiting; stopping\n`);
          failed = true;
          stop({ type: 'destroy' });
        } else if (code !== 0) {
          failed = true;
        }
        // The signal handlers stay: a late signal while the primary exits must not kill it.
        if (workers.size === 0) resolve(failed ? ExitCode.Failure : ExitCode.Ok);
      });
    };
    fork();
    if (port !== undefined) for (let i = 1; i < count; i++) fork();
  });
}

/** In a worker: tells the primary the server listens. */
export function reportListening(address: string, port: number): void {
  process.send?.({ type: 'listening', address, port } satisfies WorkerMessage);
}

/** In a worker: tells the primary that starting failed, with the line to print. */
export function reportFailure(line: string): void {
  process.send?.({ type: 'failed', line } satisfies WorkerMessage);
}

/** In a worker: calls `onStop`/`onDestroy` when the primary asks; returns a function to stop listening. */
export function onPrimaryRequest(handlers: { onStop(): void; onDestroy(): void }): () => void {
  const listener = (message: PrimaryMessage) => {
    if (message.type === 'stop') handlers.onStop();
    else if (message.type === 'destroy') handlers.onDestroy();
  };
  process.on('message', listener);
  return () => {
    process.off('message', listener);
    // Let the worker exit: the IPC channel would otherwise keep it alive.
    cluster.worker?.disconnect();
  };
}
