/**
 * How every program starts and ends: its exit codes, the CLI error that carries a message, the
 * seed's style of error line, --help/--version, and runCli, which maps errors to stderr and an
 * exit code.
 */
import { SocketStepsError } from '../errors.js';
import { BROKEN_PIPE_EXIT, guardOutput, outputSettled, writeStderr } from './output.js';

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
  /** Standard output's reader went away (`| head -1`): 128 + SIGPIPE, as the shell reports it. */
  BrokenPipe: BROKEN_PIPE_EXIT,
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
  guardOutput(program);
  try {
    process.exitCode = await main();
  } catch (error) {
    if (error instanceof CliError) {
      if (error.showUsage) process.stdout.write(`${usage}\n`);
      else writeStderr(`${error.message}\n`);
    } else if (error instanceof SocketStepsError) {
      writeStderr(`${program}: ${error.message}\n`);
    } else {
      writeStderr(`${program}: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      if (process.env.DEBUG) writeStderr(`${error instanceof Error ? error.stack : ''}\n`);
    }
    process.exitCode = ExitCode.Failure;
  }
  // Exit ourselves rather than when the event loop drains: while Node tears down after a natural
  // exit, it closes its signal handlers, and a second SIGTERM arriving in that moment (as `timeout`
  // or a process manager sends them) would kill the process with 143 instead of our exit code.
  // main() has finished its work; what is left is output still on its way into a pipe (a pipe
  // takes 64 KiB at a time), which must not be cut: wait until both streams have handed it over,
  // and until a failed write has been heard of (it ends the program with its own code).
  await outputSettled();
  process.exit();
}
