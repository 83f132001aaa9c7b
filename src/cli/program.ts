/**
 * How every program starts and ends: its exit codes, the CLI error that carries a message, the
 * seed's style of error line, --help/--version, and runCli, which maps errors to stderr and an
 * exit code.
 */
import { SocketStepsError } from '../errors.js';

/** Exit codes of every CLI. */
export const ExitCode = {
  /** Done as asked. */
  Ok: 0,
  /** Usage error or socket error, as the seed's programs (`exit(1)`). */
  Failure: 1,
  /** Stopped by SIGINT before finishing (128 + 2), for clients. */
  Interrupted: 130,
  /** Stopped by SIGTERM before finishing (128 + 15), for clients. */
  Terminated: 143,
  /** Stopped by SIGHUP (the terminal went away) before finishing (128 + 1), for clients. */
  HungUp: 129,
} as const;

/** A CLI problem that ends the program with a message on stderr and exit code 1. */
export class CliError extends Error {
  /** Print the usage line on stdout, as the seed does for a wrong argument count. */
  readonly showUsage: boolean;
  constructor(message: string, { showUsage = false }: { showUsage?: boolean } = {}) {
    super(message);
    this.showUsage = showUsage;
  }
}

/**
 * Handles `--help` and `--version`: prints on stdout and returns exit code 0, or returns
 * `undefined` when neither was asked for.
 */
export function answerInfoFlags(
  values: { help?: boolean; version?: boolean },
  program: string,
  help: string,
  version: string,
): number | undefined {
  if (values.help) process.stdout.write(help);
  else if (values.version) process.stdout.write(`${program} ${version}\n`);
  else return undefined;
  return ExitCode.Ok;
}

/**
 * The one-line message for an error: the seed's words for the failing call (`connect() error!`,
 * `bind() error`) and then the reason.
 */
export function errorLine(prefix: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return prefix.endsWith('!') ? `${prefix} ${reason}` : `${prefix}: ${reason}`;
}

/**
 * Runs a CLI's main function: maps {@link CliError} and library errors to a message on stderr and
 * exit code 1; anything else is a bug, reported as such without a stack trace unless DEBUG is set.
 */
export async function runCli(program: string, usage: string, main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    if (error instanceof CliError) {
      if (error.showUsage) process.stdout.write(`${usage}\n`);
      else process.stderr.write(`${error.message}\n`);
    } else if (error instanceof SocketStepsError) {
      process.stderr.write(`${program}: ${error.message}\n`);
    } else {
      process.stderr.write(
        `${program}: internal error: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      if (process.env.DEBUG) process.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
    }
    process.exitCode = ExitCode.Failure;
  }
  // Exit ourselves rather than when the event loop drains: while Node tears down after a natural
  // exit, it closes its signal handlers, and a second SIGTERM arriving in that moment (as `timeout`
  // or a process manager sends them) would kill the process with 143 instead of our exit code.
  // main() has finished its work; what is left is output still on its way into a pipe (a pipe
  // takes 64 KiB at a time), which must not be cut: wait until both streams have handed it over.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit();
}

// Resolves once everything written to `stream` so far has been handed to the system (or the
// stream failed: a reader that went away has nothing left to wait for).
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.write('', () => resolve());
    stream.once('error', () => resolve());
  });
}
