/**
 * The options of the classic test services on hserver and userver: `--pattern` (chargen) and
 * `--message` / `--quotes FILE` (qotd), parsed and checked before the server is built.
 */
import { readFileSync } from 'node:fs';
import { describeSystemError, SocketStepsError } from '../errors.js';
import { CHARGEN_PATTERNS, type ChargenPattern } from '../protocol/chargen.js';
import { encodeQuote, parseQuotes } from '../protocol/qotd.js';
import { CliError } from './program.js';

/** The parseArgs specs of those options (hserver and userver have `--message` already). */
export const CLASSIC_SERVER_OPTIONS = {
  pattern: { type: 'string' },
  quotes: { type: 'string' },
} as const;

/** The help lines of those options. */
export const CLASSIC_SERVER_HELP = `  --pattern rfc864|xinetd chargen: RFC 864's lines (space to ~) or xinetd's
                          (! to }, byte for byte)                          [default: rfc864]
  --quotes FILE           qotd: quotes, one per paragraph (blank lines
                          between), each client the next; --message TEXT
                          gives one instead          [default: a line of the lecture]
`;

/** The values of {@link CLASSIC_SERVER_OPTIONS}, with `--message`. */
export interface ClassicServerValues {
  pattern?: string;
  quotes?: string;
  message?: string;
}

/** What the classic services were given. */
export interface ClassicServerChoice {
  /** chargen's pattern, when given. */
  pattern: ChargenPattern | undefined;
  /** qotd's quotes, when given (`--message` or `--quotes`). */
  quotes: string[] | undefined;
}

/**
 * Checks `--pattern`, `--quotes` and (for qotd) `--message` for `service`: an option of another
 * service, a bad pattern, an unreadable file or a quote past RFC 865's limit is a usage error.
 */
export function parseClassicServerValues(
  program: string,
  service: string,
  values: ClassicServerValues,
): ClassicServerChoice {
  if (values.pattern !== undefined && service !== 'chargen') {
    throw new CliError(`${program}: --pattern applies to --service chargen, not ${service}`);
  }
  if (values.quotes !== undefined && service !== 'qotd') {
    throw new CliError(`${program}: --quotes applies to --service qotd, not ${service}`);
  }
  let pattern: ChargenPattern | undefined;
  if (values.pattern !== undefined) {
    if (!(CHARGEN_PATTERNS as readonly string[]).includes(values.pattern)) {
      throw new CliError(`${program}: invalid --pattern '${values.pattern}': expected rfc864 or xinetd`);
    }
    pattern = values.pattern as ChargenPattern;
  }
  if (service !== 'qotd') return { pattern, quotes: undefined };
  if (values.quotes !== undefined && values.message !== undefined) {
    throw new CliError(`${program}: give --message or --quotes, not both`);
  }
  try {
    if (values.message !== undefined) {
      encodeQuote(values.message, '--message');
      return { pattern, quotes: [values.message] };
    }
    if (values.quotes !== undefined)
      return { pattern, quotes: parseQuotes(readQuotesFile(program, values.quotes)) };
  } catch (error) {
    if (error instanceof SocketStepsError) throw new CliError(`${program}: ${error.message}`);
    throw error;
  }
  return { pattern, quotes: undefined };
}

function readQuotesFile(program: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`${program}: cannot read --quotes '${path}': ${describeSystemError(error)}`);
  }
}
