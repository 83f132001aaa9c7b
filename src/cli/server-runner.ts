/**
 * How hserver and userver run a server, alone or as `--workers N` (src/cluster/workers.ts): listen,
 * print the address (or tell the supervisor), and run until --count is reached or a signal asks to
 * stop. The first SIGINT/SIGTERM closes gracefully; a second one destroys what is left and exits 1.
 */
import type { AddressInfo } from 'node:net';
import {
  connectToSupervisor,
  isWorker,
  mergeStats,
  WorkerSupervisor,
  workerPort,
} from '../cluster/workers.js';
import { MAX_WORKERS } from '../defaults.js';
import { BindError, ResolveError } from '../errors.js';
import type { ServerStats } from '../transport/stats.js';
import { formatAddress } from '../validate.js';
import { parseCount } from './arguments.js';
import { CliError, ExitCode, errorLine } from './program.js';
import { onSignals } from './signals.js';
import { buildView, startView, type ViewRequest } from './view-option.js';

/** What both TcpServer and UdpServer offer. */
export interface RunnableServer {
  listen(): Promise<AddressInfo>;
  close(): Promise<void>;
  destroy(): Promise<void>;
  snapshot(): ServerStats;
  readonly closed: Promise<void>;
}

/** How to run one server. */
export interface RunOptions {
  /** Work still in flight (open connections): a forced stop with some says so and exits 1. */
  inFlight?(): number;
  /** Serve the live view too (`--view`): it starts once the server listens and closes with it. */
  view?: ViewRequest;
}

/** Listens, reports the address, and runs until the server closes. Resolves with the exit code. */
export async function runServer(
  program: string,
  server: RunnableServer,
  { inFlight = () => 0, view: viewRequest }: RunOptions = {},
): Promise<number> {
  // Handlers go in before listen() so that a signal right after the "listening" line is ours.
  let forced = false;
  onSignals(
    () => void server.close(),
    () => {
      forced = inFlight() > 0;
      void server.destroy();
    },
  );
  // SIGUSR1 prints the stats snapshot (bin/preflight.cjs keeps Node's debugger from taking it).
  process.on('SIGUSR1', () => {
    process.stderr.write(`${program}: stats ${JSON.stringify(server.snapshot())}\n`);
  });
  const supervisor = isWorker() ? connectToSupervisor(server) : undefined;
  // Built before listen() so that it sees the server's socket(), bind() and listen().
  let bound: AddressInfo | undefined;
  const view =
    viewRequest === undefined || supervisor !== undefined
      ? undefined
      : buildView(program, viewRequest, { target: () => bound, stats: () => server.snapshot() });
  try {
    let address: AddressInfo;
    try {
      address = await server.listen();
    } catch (error) {
      await view?.close();
      if (supervisor === undefined) throw new CliError(errorLine('bind() error', error));
      supervisor.failed(error);
      return ExitCode.Failure;
    }
    bound = address;
    if (supervisor !== undefined) supervisor.listening(address);
    else process.stderr.write(`${program}: listening on ${formatAddress(address.address, address.port)}\n`);
    if (view !== undefined) {
      try {
        await startView(program, view);
      } catch (error) {
        await server.destroy();
        throw error;
      }
    }
    await server.closed;
  } finally {
    await view?.close();
    supervisor?.detach();
  }
  if (forced) {
    process.stderr.write(`${program}: stopped at once, clients in flight were dropped\n`);
    return ExitCode.Failure;
  }
  return ExitCode.Ok;
}

/**
 * `--workers N` in the primary: checks the port with `probe` (a server like the workers' but
 * without SO_REUSEPORT: listen, then destroy), then supervises N workers until they have exited.
 */
export async function runWorkers(
  program: string,
  count: number,
  port: number,
  probe: () => RunnableServer,
  viewRequest?: ViewRequest,
): Promise<number> {
  const supervisor = new WorkerSupervisor({
    count,
    port,
    // The view in the primary draws every worker's connections from their trace events.
    forwardTrace: viewRequest !== undefined,
    probe: async () => {
      const server = probe();
      try {
        await server.listen();
      } finally {
        await server.destroy();
      }
    },
    onWorkerExit: ({ pid, code, signal, outcome }) => {
      if (outcome === 'replaced') {
        process.stderr.write(`${program}: worker ${pid} exited (${signal ?? code}); starting another\n`);
      } else if (outcome === 'gave-up') {
        process.stderr.write(`${program}: workers keep exiting; stopping\n`);
      }
    },
  });
  onSignals(
    () => void supervisor.stop(),
    () => void supervisor.destroy(),
  );
  // SIGUSR1 prints the workers' stats, added up (bin/preflight.cjs keeps Node's debugger off it).
  process.on('SIGUSR1', () => {
    void supervisor.stats().then((all) => {
      const total = mergeStats(all);
      if (total !== undefined)
        process.stderr.write(`${program}: stats ${JSON.stringify({ ...total, workers: all.length })}\n`);
    });
  });
  let bound: AddressInfo | undefined;
  const view =
    viewRequest === undefined
      ? undefined
      : buildView(program, viewRequest, {
          target: () => bound,
          stats: async () => mergeStats(await supervisor.stats()),
        });
  let viewFailed = false;
  try {
    const address = await supervisor.start();
    bound = address;
    process.stderr.write(`${program}: listening on ${formatAddress(address.address, address.port)}\n`);
    if (view !== undefined) {
      try {
        await startView(program, view);
      } catch (error) {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
        viewFailed = true;
        await supervisor.destroy();
      }
    }
  } catch (error) {
    // A failed bind is printed once, here; a supervisor that gave up has said so already.
    if (error instanceof BindError || error instanceof ResolveError) {
      process.stderr.write(`${errorLine('bind() error', error)}\n`);
    }
  }
  await supervisor.closed;
  await view?.close();
  return supervisor.failed || viewFailed ? ExitCode.Failure : ExitCode.Ok;
}

/**
 * `--workers`: the number of worker processes (1 without the option). `--count` cannot go with
 * it, since each worker would count alone.
 */
export function parseWorkers(text: string | undefined, count: number | undefined, program: string): number {
  const workers = text === undefined ? 1 : parseCount(text, '--workers', program, 1, MAX_WORKERS);
  if (workers > 1 && count !== undefined) {
    throw new CliError(
      `${program}: --count cannot be combined with --workers (each worker would count alone)`,
    );
  }
  return workers;
}

/** What a server program hands {@link serve}. */
export interface ServeOptions<S extends RunnableServer> {
  program: string;
  workers: number;
  /** The port from the command line. */
  port: number;
  /** Builds the server; with `reusePort` (in a worker) on the port the supervisor gives. */
  build(options: { port: number; reusePort: boolean }): S;
  /** Prints the trace while the server runs (`--trace`); returns how to stop. */
  trace?: () => () => void;
  /** `--view`: the live page, served by the primary (or the lone server). */
  view?: ViewRequest;
  inFlight?(server: S): number;
}

/**
 * Runs a server program: alone, as the supervisor of `workers` workers (the options are checked
 * once, in the primary, before any worker starts), or as one of those workers.
 */
export async function serve<S extends RunnableServer>(options: ServeOptions<S>): Promise<number> {
  const { program, workers, port, build } = options;
  if (workers > 1 && !isWorker()) {
    build({ port, reusePort: false });
    return runWorkers(program, workers, port, () => build({ port, reusePort: false }), options.view);
  }
  const stopTrace = options.trace?.();
  try {
    const reusePort = workers > 1;
    const server = build({ port: reusePort ? workerPort(port) : port, reusePort });
    const inFlight = options.inFlight;
    return await runServer(program, server, {
      ...(inFlight === undefined ? {} : { inFlight: () => inFlight(server) }),
      // Workers never serve the view: their primary does.
      ...(options.view === undefined || workers > 1 ? {} : { view: options.view }),
    });
  } finally {
    stopTrace?.();
  }
}
