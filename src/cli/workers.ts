/**
 * `--workers N`: N server processes sharing one listening socket through `node:cluster`.
 *
 * The cluster module's default on Linux is round-robin, where the primary accepts every
 * connection and hands it to a worker over IPC: the primary becomes the bottleneck (about 0.3x of
 * one process, see README). We set SCHED_NONE instead: the primary only creates the listening
 * socket, every worker polls and accept()s on the same descriptor, and the kernel spreads the
 * connections. The primary supervises: it reports the address once every worker listens, passes
 * on stop requests, and replaces a worker that dies unexpectedly (a bounded number of times).
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

/** True in a process started by {@link superviseWorkers}. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/**
 * In the primary: forks `count` workers (each runs the same command line) and supervises them until
 * they have all exited. Resolves with the exit code for the primary.
 */
export function superviseWorkers(program: string, count: number): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  return new Promise((resolve) => {
    const workers = new Set<Worker>();
    const listening = new Set<Worker>();
    const restarts: number[] = [];
    let stopping = false;
    let failed = false;
    let signals = 0;
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
    const onSignal = () => {
      signals++;
      stop(signals === 1 ? { type: 'stop' } : { type: 'destroy' });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const fork = () => {
      const worker = cluster.fork();
      workers.add(worker);
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'listening') {
          listening.add(worker);
          // A worker still starting when the stop was sent may have missed it.
          if (stopMessage !== undefined) worker.send(stopMessage);
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
        if (workers.size === 0) {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(failed ? ExitCode.Failure : ExitCode.Ok);
        }
      });
    };
    for (let i = 0; i < count; i++) fork();
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
