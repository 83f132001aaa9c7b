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
import { DEFAULT_CLOSE_TIMEOUT_MS, MAX_WORKERS } from '../defaults.js';
import { BindError, ResolveError } from '../errors.js';
import { MetricsServer, serveMetrics } from '../metrics/metrics-server.js';
import { formatMetrics } from '../metrics/prometheus.js';
import type { TraceLanguage } from '../trace/schema.js';
import { descriptorLimit } from '../transport/descriptors.js';
import type { ServerStats } from '../transport/stats.js';
import { UNIX_FAMILY } from '../unix-address.js';
import { formatAddress } from '../validate.js';
import { VERSION } from '../version.js';
import { parseCount } from './arguments.js';
import type { ListenSource } from './listen-source.js';
import { droppedLogLines, writeStderr } from './output.js';
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
  /** The socket systemd passed, for the "listening" line. */
  fd?: number;
  /** The port the socket must have (a port given with a socket from systemd); exits 1 otherwise. */
  expectPort?: number;
  /** Serve `GET /metrics` here while the server runs (`--metrics`). */
  metrics?: HostPort;
  /** Serve the live view too (`--view`): it starts once the server listens and closes with it. */
  view?: ViewRequest;
  /** How long `close()` lets connections finish, in ms, for the line a first signal prints. */
  closeTimeout?: number;
  /** The language of that line (`--lang`). */
  lang?: TraceLanguage;
}

/**
 * The line a first SIGINT/SIGTERM prints while connections are open: what the server now waits
 * for, for how long at most, and that a second signal drops them. Without it, a server with an
 * idle client looks hung for the whole close timeout.
 */
export function closingLine(
  program: string,
  open: number,
  closeTimeoutMs: number,
  lang: TraceLanguage,
): string {
  const seconds = `${closeTimeoutMs / 1000}`;
  if (lang === 'ko') {
    return `${program}: 종료하는 중: 새 연결은 받지 않고, 열린 연결 ${open}개가 끝나기를 최대 ${seconds}초 기다립니다 (Ctrl-C를 한 번 더 누르면 바로 끊습니다)\n`;
  }
  const connections = open === 1 ? '1 open connection' : `${open} open connections`;
  return `${program}: stopping: no new connections; waiting up to ${seconds} s for ${connections} to finish (Ctrl-C again drops ${open === 1 ? 'it' : 'them'})\n`;
}

/** A host and port to bind, and the names its HTTP listener answers besides its own. */
export interface HostPort {
  host: string;
  port: number;
  allowedHosts?: readonly string[];
}

/** The exposition of a lone server's snapshot, or of a supervisor's workers (their sum, and each). */
function metricsOf(
  program: string,
  figures: () => ServerStats | Promise<{ total: ServerStats; workers: ServerStats[] }>,
): () => Promise<string> {
  const startTime = performance.timeOrigin / 1000;
  return async () => {
    const got = await figures();
    const input = 'total' in got ? got : { total: got };
    return formatMetrics({ program, version: VERSION, startTime, ...input });
  };
}

/** The view's extra routes: `/metrics` on the view's port too. */
function viewRoutes(collect: () => Promise<string>) {
  return { '/metrics': serveMetrics.bind(undefined, collect) };
}

/**
 * Says on stderr when the server refuses connections for lack of file descriptors (its `EMFILE`
 * errors), at most once a second, and once when it accepts again. Stops when `until` settles.
 */
export function watchDescriptorRefusals(
  program: string,
  server: RunnableServer,
  until: Promise<unknown>,
): void {
  const first = server.snapshot();
  // Only a TCP server holds a descriptor per client.
  if (first.transport !== 'tcp') return;
  watchRefusals(program, () => server.snapshot().errors.EMFILE ?? 0, until);
}

/**
 * The same for an HTTP listener (`--view`, `--metrics`, named in the line): its connections
 * refused because they would have taken the descriptors the process keeps in reserve.
 */
export function watchHttpDescriptorRefusals(
  program: string,
  option: string,
  listener: { readonly refusals: { descriptorRefusals: number } },
  until: Promise<unknown>,
): void {
  watchRefusals(`${program}: ${option}`, () => listener.refusals.descriptorRefusals, until);
}

// `prefix` begins each line: `hserver`, or `hserver: --view`.
function watchRefusals(prefix: string, count: () => number, until: Promise<unknown>): void {
  let last = count();
  let refusing = false;
  const timer = setInterval(() => {
    const now = count();
    if (now > last) {
      const limit = descriptorLimit();
      writeStderr(
        `${prefix}: accept() error: too many open files (EMFILE); ${now - last} connection${now - last === 1 ? '' : 's'} refused in the last second${limit === undefined ? '' : ` (descriptor limit ${limit}: raise it with ulimit -n, or LimitNOFILE= under systemd)`}\n`,
      );
      refusing = true;
    } else if (refusing) {
      writeStderr(
        `${prefix}: accepting connections again: none refused for lack of descriptors in the last second\n`,
      );
      refusing = false;
    }
    last = now;
  }, 1000);
  timer.unref();
  void until.finally(() => clearInterval(timer));
}

/**
 * Starts the metrics server of `--metrics`, printing where it listens; stops it once `until`
 * settles. A port that cannot be bound is a {@link CliError} (exit 1).
 */
async function startMetrics(
  program: string,
  where: HostPort,
  collect: () => Promise<string>,
  until: Promise<unknown>,
): Promise<MetricsServer> {
  const metrics = new MetricsServer({ ...where, collect });
  try {
    const address = await metrics.listen();
    writeStderr(`${program}: metrics on http://${formatAddress(address.address, address.port)}/metrics\n`);
  } catch (error) {
    throw new CliError(errorLine(`${program}: --metrics: bind() error`, error));
  }
  watchHttpDescriptorRefusals(program, '--metrics', metrics, until);
  void until.finally(() => metrics.close());
  return metrics;
}

/** Listens, reports the address, and runs until the server closes. Resolves with the exit code. */
export async function runServer(
  program: string,
  server: RunnableServer,
  {
    inFlight = () => 0,
    fd,
    expectPort,
    metrics,
    view: viewRequest,
    closeTimeout = DEFAULT_CLOSE_TIMEOUT_MS,
    lang = 'en',
  }: RunOptions = {},
): Promise<number> {
  // Handlers go in before listen() so that a signal right after the "listening" line is ours.
  let forced = false;
  const signals = onSignals(
    () => {
      // Said at once, by the process the user talks to (a worker's supervisor speaks for it).
      const open = inFlight();
      if (open > 0 && !isWorker()) writeStderr(closingLine(program, open, closeTimeout, lang));
      void server.close();
    },
    () => {
      forced = inFlight() > 0;
      void server.destroy();
    },
  );
  // The server's figures, with the log lines this process had to drop.
  const snapshot = (): ServerStats => ({ ...server.snapshot(), logLinesDropped: droppedLogLines() });
  // SIGUSR1 prints the stats snapshot (bin/preflight.cjs keeps Node's debugger from taking it).
  process.on('SIGUSR1', () => {
    writeStderr(`${program}: stats ${JSON.stringify(snapshot())}\n`);
  });
  const supervisor = isWorker()
    ? connectToSupervisor({ close: () => server.close(), destroy: () => server.destroy(), snapshot })
    : undefined;
  const collect = metricsOf(program, snapshot);
  // Built before listen() so that it sees the server's socket(), bind() and listen().
  let bound: AddressInfo | undefined;
  const view =
    viewRequest === undefined || supervisor !== undefined
      ? undefined
      : buildView(program, viewRequest, {
          target: () => bound,
          stats: snapshot,
          routes: viewRoutes(collect),
        });
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
    const where = describeListening(address);
    if (expectPort !== undefined && address.family === UNIX_FAMILY) {
      await server.destroy();
      throw new CliError(
        `${program}: the socket systemd passed is the Unix socket ${where}, not port ${expectPort}: leave <port> out`,
      );
    }
    if (expectPort !== undefined && address.port !== expectPort) {
      await server.destroy();
      throw new CliError(
        `${program}: the socket systemd passed is bound to ${where}, not port ${expectPort}`,
      );
    }
    if (metrics !== undefined && supervisor === undefined) {
      try {
        await startMetrics(program, metrics, collect, server.closed);
      } catch (error) {
        await server.destroy();
        throw error;
      }
    }
    bound = address;
    // The metrics and the view are up before the "listening" line: a script that waits for it
    // finds them up too, and never sees that line from a server that then fails to start them.
    if (view !== undefined) {
      try {
        await startView(program, view);
      } catch (error) {
        await server.destroy();
        throw error;
      }
      watchHttpDescriptorRefusals(program, '--view', view, server.closed);
    }
    watchDescriptorRefusals(program, server, server.closed);
    if (supervisor !== undefined) supervisor.listening(address);
    else if (fd === undefined) writeStderr(`${program}: listening on ${where}\n`);
    else writeStderr(`${program}: listening on ${where} (socket from systemd, descriptor ${fd})\n`);
    await server.closed;
  } finally {
    await view?.close();
    supervisor?.detach();
  }
  if (forced) {
    writeStderr(`${program}: stopped at once, clients in flight were dropped\n`);
    return ExitCode.Failure;
  }
  // A worker answers to its supervisor, which says how the whole stopped.
  return (supervisor === undefined ? signals.exitCode() : undefined) ?? ExitCode.Ok;
}

/** How the "listening on" line names an address: `127.0.0.1:9190`, `[::1]:9190`, or a Unix socket's path. */
export function describeListening(address: AddressInfo): string {
  return address.family === UNIX_FAMILY ? address.address : formatAddress(address.address, address.port);
}

// The workers' sum, with the log lines the primary itself dropped added in.
function withPrimaryDrops(total: ServerStats | undefined): ServerStats | undefined {
  if (total === undefined) return undefined;
  return { ...total, logLinesDropped: (total.logLinesDropped ?? 0) + droppedLogLines() };
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
  { metrics, view: viewRequest }: Pick<RunOptions, 'metrics' | 'view'> = {},
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
    onWorkerExit: ({ pid, code, signal, outcome, hungFor }) => {
      if (outcome === 'replaced' && hungFor !== undefined) {
        writeStderr(
          `${program}: worker ${pid} answered nothing for ${(hungFor / 1000).toFixed(1)} s; killed it (SIGKILL), starting another\n`,
        );
      } else if (outcome === 'replaced') {
        writeStderr(`${program}: worker ${pid} exited (${signal ?? code}); starting another\n`);
      } else if (outcome === 'gave-up') {
        writeStderr(`${program}: workers keep exiting; stopping\n`);
      }
    },
  });
  // A second signal drops what the workers still hold: said once, and exit 1, as a lone server
  // does when it had clients in flight (the workers report how many they held).
  const signals = onSignals(
    () => void supervisor.stop(),
    () => void supervisor.destroy(),
  );
  // SIGUSR1 prints the workers' stats, added up (bin/preflight.cjs keeps Node's debugger off it).
  process.on('SIGUSR1', () => {
    void supervisor.stats().then((all) => {
      const total = withPrimaryDrops(mergeStats(all));
      if (total !== undefined)
        writeStderr(`${program}: stats ${JSON.stringify({ ...total, workers: all.length })}\n`);
    });
  });
  // The primary answers for every worker: their sum, and a few figures per worker.
  const collect = metricsOf(program, async () => {
    const workers = await supervisor.stats();
    const total = withPrimaryDrops(mergeStats(workers));
    if (total === undefined) throw new Error('no worker answered');
    return { total, workers };
  });
  let bound: AddressInfo | undefined;
  const view =
    viewRequest === undefined
      ? undefined
      : buildView(program, viewRequest, {
          target: () => bound,
          stats: async () => withPrimaryDrops(mergeStats(await supervisor.stats())),
          routes: viewRoutes(collect),
        });
  // A metrics or view port that cannot be bound stops the workers: exit 1.
  let sideFailed = false;
  try {
    const address = await supervisor.start();
    bound = address;
    if (metrics !== undefined) {
      try {
        await startMetrics(program, metrics, collect, supervisor.closed);
      } catch (error) {
        writeStderr(`${error instanceof Error ? error.message : String(error)}\n`);
        sideFailed = true;
        await supervisor.destroy();
      }
    }
    if (view !== undefined && !sideFailed) {
      try {
        await startView(program, view);
        watchHttpDescriptorRefusals(program, '--view', view, supervisor.closed);
      } catch (error) {
        writeStderr(`${error instanceof Error ? error.message : String(error)}\n`);
        sideFailed = true;
        await supervisor.destroy();
      }
    }
    if (!sideFailed) {
      writeStderr(`${program}: listening on ${formatAddress(address.address, address.port)}\n`);
    }
  } catch (error) {
    // A failed bind is printed once, here; a supervisor that gave up has said so already.
    if (error instanceof BindError || error instanceof ResolveError) {
      writeStderr(`${errorLine('bind() error', error)}\n`);
    }
  }
  await supervisor.closed;
  await view?.close();
  if (supervisor.failed || sideFailed) return ExitCode.Failure;
  if (supervisor.dropped > 0) {
    writeStderr(`${program}: stopped at once, clients in flight were dropped\n`);
    return ExitCode.Failure;
  }
  return signals.exitCode() ?? ExitCode.Ok;
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
  /** The port from the command line, or the socket systemd passed. */
  source: ListenSource;
  /**
   * Builds the server on `listen` (spread it into the server's options); with `reusePort` (in a
   * worker) on the port the supervisor gives.
   */
  build(options: {
    listen: { port: number } | { fd: number } | { path: string; mode?: number };
    reusePort: boolean;
  }): S;
  /** Prints the trace while the server runs (`--trace`); returns how to stop. */
  trace?: () => () => void;
  /** Serve `GET /metrics` there (`--metrics`); with workers, from the primary. */
  metrics?: HostPort;
  /** `--view`: the live page, served by the primary (or the lone server). */
  view?: ViewRequest;
  inFlight?(server: S): number;
  /** `--close-timeout` in ms, for the line a first signal prints. */
  closeTimeout?: number;
  /** `--lang`, for that line. */
  lang?: TraceLanguage;
}

/**
 * Runs a server program: alone, as the supervisor of `workers` workers (the options are checked
 * once, in the primary, before any worker starts), or as one of those workers.
 */
export async function serve<S extends RunnableServer>(options: ServeOptions<S>): Promise<number> {
  const { program, workers, source, build } = options;
  if (source.kind === 'port' && workers > 1 && !isWorker()) {
    const { port } = source;
    build({ listen: { port }, reusePort: false });
    return runWorkers(program, workers, port, () => build({ listen: { port }, reusePort: false }), {
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      ...(options.view === undefined ? {} : { view: options.view }),
    });
  }
  const stopTrace = options.trace?.();
  try {
    const reusePort = source.kind === 'port' && workers > 1;
    const listen =
      source.kind === 'fd'
        ? { fd: source.fd }
        : source.kind === 'unix'
          ? { path: source.unix.path, ...(source.unix.mode === undefined ? {} : { mode: source.unix.mode }) }
          : { port: reusePort ? workerPort(source.port) : source.port };
    const server = build({ listen, reusePort });
    const inFlight = options.inFlight;
    return await runServer(program, server, {
      ...(inFlight === undefined ? {} : { inFlight: () => inFlight(server) }),
      ...(source.kind === 'fd' ? { fd: source.fd, expectPort: source.port } : {}),
      ...(options.closeTimeout === undefined ? {} : { closeTimeout: options.closeTimeout }),
      ...(options.lang === undefined ? {} : { lang: options.lang }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      // Workers never serve the view: their primary does.
      ...(options.view === undefined || workers > 1 ? {} : { view: options.view }),
    });
  } finally {
    stopTrace?.();
  }
}
