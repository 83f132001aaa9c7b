/**
 * How hserver and userver run a server, alone or as one of `--workers N`: listen, print the
 * address (or tell the primary), and run until --count is reached or a signal asks to stop. The
 * first SIGINT/SIGTERM closes gracefully; a second one destroys what is left and exits 1.
 */
import type { AddressInfo } from 'node:net';
import { formatAddress } from '../validate.js';
import { CliError, ExitCode, errorLine } from './common.js';
import { isWorker, onPrimaryRequest, reportFailure, reportListening, superviseWorkers } from './workers.js';

/** What both TcpServer and UdpServer offer. */
export interface RunnableServer {
  listen(): Promise<AddressInfo>;
  close(): Promise<void>;
  destroy(): Promise<void>;
  readonly closed: Promise<void>;
}

/** How to run one server. */
export interface RunOptions {
  /** Work still in flight (open connections): a forced stop with some says so and exits 1. */
  inFlight?(): number;
}

/** Listens, reports the address, and runs until the server closes. Resolves with the exit code. */
export async function runServer(
  program: string,
  server: RunnableServer,
  { inFlight = () => 0 }: RunOptions = {},
): Promise<number> {
  // Handlers go in before listen() so that a signal right after the "listening" line is ours.
  let forced = false;
  let signals = 0;
  const stop = () => {
    void server.close();
  };
  const destroy = () => {
    forced = inFlight() > 0;
    void server.destroy();
  };
  const onSignal = () => {
    signals++;
    if (signals === 1) stop();
    else destroy();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stopListening = isWorker() ? onPrimaryRequest({ onStop: stop, onDestroy: destroy }) : undefined;
  try {
    let address: AddressInfo;
    try {
      address = await server.listen();
    } catch (error) {
      const line = errorLine('bind() error', error);
      if (!isWorker()) throw new CliError(line);
      reportFailure(line);
      return ExitCode.Failure;
    }
    if (isWorker()) reportListening(address.address, address.port);
    else process.stderr.write(`${program}: listening on ${formatAddress(address.address, address.port)}\n`);
    await server.closed;
  } finally {
    // The signal handlers stay until the process exits: a signal that comes after the server has
    // closed, as it exits, must not kill it with Node's default action (exit 143 instead of ours).
    // They keep nothing alive; a late signal finds nothing left to stop.
    stopListening?.();
  }
  if (forced) {
    process.stderr.write(`${program}: stopped at once, clients in flight were dropped\n`);
    return ExitCode.Failure;
  }
  return ExitCode.Ok;
}

/**
 * `--workers N` in the primary: checks the port with `probe` (a server like the workers' but
 * without SO_REUSEPORT: listen, then destroy), then supervises N workers.
 */
export function runWorkers(
  program: string,
  count: number,
  port: number,
  probe: () => RunnableServer,
): Promise<number> {
  return superviseWorkers(program, count, {
    port,
    probe: async () => {
      const server = probe();
      try {
        await server.listen();
        return undefined;
      } catch (error) {
        return errorLine('bind() error', error);
      } finally {
        await server.destroy();
      }
    },
  });
}
