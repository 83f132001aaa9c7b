/**
 * Command-line arguments: parseArgs into typed values, the options every program shares, and
 * parsers for ports, counts and durations that report bad values in the seed's words.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DEFAULT_HTTP_HOST } from '../defaults.js';
import { parseAllowedHost } from '../policy/host-allowlist.js';
import { parsePort, validateHost } from '../validate.js';
import { CliError, errorLine } from './program.js';

type Options = NonNullable<ParseArgsConfig['options']>;

// A negative number (`-1`) is a bad port or value, not an option: keep it as a value so that it is
// reported as such. parseArgs would read it as the short option `-1`.
const NEGATIVE = /^-[0-9.]/;
const MARK = '\u0000';

/**
 * Parses argv with `node:util` parseArgs. Unknown options, missing values and values given to
 * flags become {@link CliError}s naming the option, decided from parseArgs' tokens (never from its
 * message text, which may change with any Node release).
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
  // Not strict: we check the tokens ourselves, so that the message is ours.
  const { values, positionals, tokens } = parseArgs({
    args: marked,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const given = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    const name = token.rawName.replaceAll(MARK, '');
    if (spec === undefined) {
      throw new CliError(`${program}: unknown option '${name}' (see ${program} --help)`);
    }
    const long = `--${token.name}`;
    const shown = spec.short === undefined ? long : `-${spec.short}, ${long}`;
    if (spec.type === 'string' && token.value === undefined) {
      throw new CliError(`${program}: Option '${shown} <value>' argument missing`);
    }
    // `--host --count 1`: the next word is an option, not --host's value (unless written --host=-x).
    if (spec.type === 'string' && token.inlineValue === false && token.value?.startsWith('-')) {
      throw new CliError(
        `${program}: Option '${long}' argument is ambiguous: '${token.value}' looks like an option (write ${long}=${token.value} if it is the value)`,
      );
    }
    if (spec.type === 'boolean' && token.inlineValue === true) {
      throw new CliError(`${program}: Option '${shown}' does not take an argument`);
    }
    // An option with one value given twice would silently keep the last: refuse it instead.
    if (spec.type === 'string' && spec.multiple !== true) {
      const values = [...(given.get(long) ?? []), (token.value ?? '').replaceAll(MARK, '')];
      given.set(long, values);
      if (values.length > 1) {
        throw new CliError(
          `${program}: ${long} given more than once (${values.map((v) => `'${v}'`).join(', ')}): give it once`,
        );
      }
    }
  }
  const unmark = (v: unknown): unknown =>
    typeof v === 'string' && v.startsWith(MARK) ? v.slice(1) : Array.isArray(v) ? v.map(unmark) : v;
  const record = values as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = unmark(record[key]);
  return {
    values: values as ReturnType<typeof parseArgs<{ options: T; allowPositionals: true }>>['values'],
    positionals: positionals.map((p) => unmark(p) as string),
  };
}

/** The parseArgs specs every program has: `--help` and `--version`. */
export const INFO_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** The parseArgs specs of every program that traces: `--trace`, `--trace-format`, `--lang`, and {@link INFO_OPTIONS}. */
export const TRACE_OPTIONS = {
  trace: { type: 'boolean' },
  'trace-format': { type: 'string' },
  lang: { type: 'string' },
  ...INFO_OPTIONS,
} as const;

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
  // From one millisecond to Node's longest timer (2^31 - 1 ms), in the unit the user typed.
  if (!(seconds >= MIN_SECONDS) || seconds > MAX_SECONDS) {
    throw new CliError(
      `${program}: invalid ${option} '${text}': expected a positive number of seconds, from ${MIN_SECONDS} to ${MAX_SECONDS}`,
    );
  }
  return Math.round(seconds * 1000);
}

/** The shortest duration an option takes, in seconds (one millisecond). */
export const MIN_SECONDS = 0.001;
/** The longest duration an option takes, in seconds: Node's longest timer, 2^31 - 1 ms. */
export const MAX_SECONDS = 2_147_483;
/** The help's line on durations. */
export const SECONDS_HELP = `SECS is a number of seconds from ${MIN_SECONDS} to ${MAX_SECONDS}, e.g. 5 or 0.25.\n`;

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

/** The parseArgs specs of `--metrics [HOST:]PORT` and `--metrics-allow-host NAME` (hserver, userver). */
export const METRICS_OPTIONS = {
  metrics: { type: 'string' },
  'metrics-allow-host': { type: 'string', multiple: true },
} as const;

/** The help lines of `--metrics` and `--metrics-allow-host`. */
export const METRICS_HELP = `  --metrics [HOST:]PORT   serve Prometheus metrics on http://HOST:PORT/metrics
                          (HOST defaults to ${DEFAULT_HTTP_HOST}; 0 picks a free port)
  --metrics-allow-host NAME[,NAME...]
                          answer these Host names too (repeatable); the metrics answer
                          localhost, 127.x.y.z, [::1] and their own address, else 403
`;

/**
 * `--view-allow-host` / `--metrics-allow-host`: the names, each option given once or more and
 * each value comma-separated. A bad name is a {@link CliError} naming it; `undefined` without the option.
 */
export function parseAllowedHosts(
  values: readonly string[] | undefined,
  option: string,
  program: string,
): string[] | undefined {
  if (values === undefined) return undefined;
  const names = values.flatMap((value) => value.split(','));
  for (const name of names) {
    try {
      parseAllowedHost(name);
    } catch {
      throw new CliError(
        `${program}: invalid ${option} '${name}': expected a host name or an IP address, without a port (NAME[,NAME...])`,
      );
    }
  }
  return names;
}

/** `--metrics`' value: where to serve the metrics, or undefined without the option. */
export function parseMetrics(
  text: string | undefined,
  program: string,
  allow?: readonly string[],
): { host: string; port: number; allowedHosts?: string[] } | undefined {
  const allowedHosts = parseAllowedHosts(allow, '--metrics-allow-host', program);
  if (text === undefined) {
    if (allowedHosts !== undefined) throw new CliError(`${program}: --metrics-allow-host needs --metrics`);
    return undefined;
  }
  const where = parseHostPort(text, '--metrics', program, DEFAULT_HTTP_HOST);
  return allowedHosts === undefined ? where : { ...where, allowedHosts };
}

/**
 * Parses `[HOST:]PORT` for options that open a port of their own (`--metrics`, `--view`): `PORT`,
 * `HOST:PORT` or `[IPv6]:PORT`; the host defaults to `defaultHost`. A bare IPv6 address without
 * brackets is refused (its last group would read as the port).
 */
export function parseHostPort(
  text: string,
  option: string,
  program: string,
  defaultHost: string,
): { host: string; port: number } {
  const bad = (why: string) =>
    new CliError(
      `${program}: invalid ${option} '${text}': ${why} (expected [HOST:]PORT, e.g. 0, 8080, 127.0.0.1:8080 or [::1]:8080)`,
    );
  let host = defaultHost;
  let portText = text;
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(text);
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? '';
  } else if (text.startsWith('[')) {
    throw bad('a port must follow the bracketed address');
  } else if (text.includes(':')) {
    const parts = text.split(':');
    if (parts.length !== 2) throw bad('an IPv6 address goes in brackets');
    host = parts[0] ?? '';
    portText = parts[1] ?? '';
    if (host === '') throw bad('the host is empty');
  }
  if (!/^[0-9]+$/.test(portText)) throw bad('the port is not a number');
  try {
    return { host: validateHost(host), port: parsePort(portText) };
  } catch (error) {
    throw bad(error instanceof Error ? error.message : String(error));
  }
}
