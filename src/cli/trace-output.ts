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

/**
 * Prints every trace event as a line on stderr until the returned function is called. A line
 * that cannot be written (stderr closed or full) is dropped and counted, never thrown at the
 * code that published the event.
 */
export function printTrace(lang: TraceLanguage, write: (text: string) => void = writeStderr): () => void {
  return subscribeTrace((event) => {
    write(`${formatTraceEvent(event, lang)}\n`);
  });
}
