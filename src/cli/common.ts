/**
 * What every CLI shares: argument parsing into typed values, the trace printer, the language
 * choice, and turning library errors into the seed's messages and exit codes.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { SocketStepsError } from '../errors.js';
import { subscribeTrace } from '../trace/events.js';
import { formatTraceEvent, TRACE_LANGUAGES, type TraceLanguage } from '../trace/schema.js';
import { parsePort, validateHost } from '../validate.js';

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

type Options = NonNullable<ParseArgsConfig['options']>;

// A negative number (`-1`) is a bad port or value, not an option: keep it as a value so that it is
// reported as such. parseArgs would read it as the short option `-1`.
const NEGATIVE = /^-[0-9.]/;
const MARK = '\u0000';

/**
 * Parses argv with `node:util` parseArgs (strict). Unknown options and missing values become
 * {@link CliError}s naming the option.
 */
export function parseCommandLine<T extends Options>(
  program: string,
  argv: readonly string[],
  options: T,
): {
  values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true }>>['values'];
  positionals: string[];
} {
  const marked = argv.map((arg) => (NEGATIVE.test(arg) ? MARK + arg : arg));
  try {
    const { values, positionals } = parseArgs({
      args: marked,
      options,
      allowPositionals: true,
      strict: true,
    });
    const unmark = (v: unknown): unknown =>
      typeof v === 'string' && v.startsWith(MARK) ? v.slice(1) : Array.isArray(v) ? v.map(unmark) : v;
    const record = values as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = unmark(record[key]);
    return { values, positionals: positionals.map((p) => unmark(p) as string) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const text = error instanceof Error ? error.message.replaceAll(MARK, '') : String(error);
    const option = /'([^']+)'/.exec(text)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new CliError(`${program}: unknown option '${option}' (see ${program} --help)`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new CliError(`${program}: ${text.split('.')[0]}`);
    }
    throw new CliError(`${program}: ${text}`);
  }
}

/** The parseArgs specs every program has: `--help` and `--version`. */
export const INFO_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** The parseArgs specs of every program that traces: `--trace`, `--lang`, and {@link INFO_OPTIONS}. */
export const TRACE_OPTIONS = {
  trace: { type: 'boolean' },
  lang: { type: 'string' },
  ...INFO_OPTIONS,
} as const;

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

/** A client's way out on SIGINT/SIGTERM: an AbortSignal, and the exit code the signal asks for. */
export interface SignalAbort {
  /** Aborted on the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM, `undefined` before either. */
  exitCode(): number | undefined;
  /** Removes the handlers. */
  dispose(): void;
}

/** Turns SIGINT/SIGTERM into an aborted signal (clients end with 130/143); `onSignal` runs too. */
export function abortOnSignals(onSignal?: () => void): SignalAbort {
  const controller = new AbortController();
  let code: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    code ??= signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated;
    controller.abort();
    onSignal?.();
  };
  process.once('SIGINT', handle);
  process.once('SIGTERM', handle);
  return {
    signal: controller.signal,
    exitCode: () => code,
    dispose: () => {
      process.off('SIGINT', handle);
      process.off('SIGTERM', handle);
    },
  };
}

/**
 * A client's `<IP> <port>` positionals: the usage line (a {@link CliError} that prints it) unless
 * there are exactly two; a bad address or port is reported with the seed's words for the call
 * that would have used it (`connect() error!`, `sendto() error`).
 */
export function parseTarget(
  positionals: readonly string[],
  usage: string,
  errorPrefix: string,
): { host: string; port: number } {
  const [hostText, portText] = positionals;
  if (positionals.length !== 2 || hostText === undefined || portText === undefined) {
    throw new CliError(usage, { showUsage: true });
  }
  try {
    return { host: validateHost(hostText), port: parsePort(portText, { allowZero: false }) };
  } catch (error) {
    throw new CliError(errorLine(errorPrefix, error));
  }
}

/** Parses a number of seconds (`5`, `0.5`) given on the command line into milliseconds. */
export function parseSeconds(text: string, option: string, program: string): number {
  const seconds = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0) || seconds > 2_000_000) {
    throw new CliError(`${program}: invalid ${option} '${text}': expected a positive number of seconds`);
  }
  return Math.round(seconds * 1000);
}

/** Parses a whole number option within bounds. */
export function parseCount(
  text: string,
  option: string,
  program: string,
  min = 1,
  max = 2 ** 31 - 1,
): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(
      `${program}: invalid ${option} '${text}': expected a whole number from ${min} to ${max}`,
    );
  }
  return n;
}

/** The trace language: `--lang` if given, else Korean under a Korean locale, else English. */
export function chooseLanguage(flag: string | undefined, program: string, env = process.env): TraceLanguage {
  if (flag !== undefined) {
    if ((TRACE_LANGUAGES as readonly string[]).includes(flag)) return flag as TraceLanguage;
    throw new CliError(`${program}: invalid --lang '${flag}': expected en or ko`);
  }
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return locale.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

/** Prints every trace event as a line on stderr until the returned function is called. */
export function printTrace(lang: TraceLanguage, stream: NodeJS.WritableStream = process.stderr): () => void {
  return subscribeTrace((event) => {
    stream.write(`${formatTraceEvent(event, lang)}\n`);
  });
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
  // Exit now rather than when the event loop drains: while Node tears down after a natural exit,
  // it closes its signal handlers, and a second SIGTERM arriving in that moment (as `timeout` or a
  // process manager sends them) would kill the process with 143 instead of our exit code. Nothing
  // is lost: main() has finished its work, and stdout/stderr writes are synchronous on Linux.
  process.exit();
}
