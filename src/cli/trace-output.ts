/**
 * `--trace` and `--lang`: the trace language from the flag or the locale, and the printer that
 * writes each trace event as a line on stderr.
 */
import { subscribeTrace } from '../trace/events.js';
import { formatTraceEvent, TRACE_LANGUAGES, type TraceLanguage } from '../trace/schema.js';
import { writeStderr } from './output.js';
import { CliError } from './program.js';

/** The trace language: `--lang` if given, else Korean under a Korean locale, else English. */
export function chooseLanguage(flag: string | undefined, program: string, env = process.env): TraceLanguage {
  if (flag !== undefined) {
    if ((TRACE_LANGUAGES as readonly string[]).includes(flag)) return flag as TraceLanguage;
    throw new CliError(`${program}: invalid --lang '${flag}': expected en or ko`);
  }
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return locale.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

/** How `--trace` prints: the lecture's lines (`text`), or one JSON object per event (`json`). */
export type TraceFormat = 'text' | 'json';

/**
 * The trace the command line asks for: `undefined` without `--trace` or `--trace-format`, else its
 * format (`--trace-format json` alone turns the trace on too).
 */
export function chooseTraceFormat(
  values: { trace?: boolean | undefined; 'trace-format'?: string | undefined },
  program: string,
): TraceFormat | undefined {
  const flag = values['trace-format'];
  if (flag !== undefined && flag !== 'text' && flag !== 'json') {
    throw new CliError(`${program}: invalid --trace-format '${flag}': expected text or json`);
  }
  if (flag === undefined && values.trace !== true) return undefined;
  return flag ?? 'text';
}

/** The help lines of `--trace` and `--trace-format`. */
export const TRACE_HELP = `  --trace                 print the lecture's steps on stderr as they happen
  --trace-format FORMAT   text (default), or json: one JSON object per event on stderr, with its
                          system-wide monotonic stamp (monotonicNs), to merge processes' traces
`;

/**
 * Prints every trace event on stderr until the returned function is called: a line of text in
 * `lang`, or (`json`) the event as one JSON object on a line of its own. A line that cannot be
 * written (stderr closed or full) is dropped and counted, never thrown at the code that published
 * the event.
 */
export function printTrace(
  lang: TraceLanguage,
  write: (text: string) => void = writeStderr,
  format: TraceFormat = 'text',
): () => void {
  return subscribeTrace((event) => {
    write(format === 'json' ? `${JSON.stringify(event)}\n` : `${formatTraceEvent(event, lang)}\n`);
  });
}
