/**
 * `--trace` and `--lang`: the trace language from the flag or the locale, and the printer that
 * writes each trace event as a line on stderr.
 */
import { subscribeTrace } from '../trace/events.js';
import { formatTraceEvent, TRACE_LANGUAGES, type TraceLanguage } from '../trace/schema.js';
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

/** Prints every trace event as a line on stderr until the returned function is called. */
export function printTrace(lang: TraceLanguage, stream: NodeJS.WritableStream = process.stderr): () => void {
  return subscribeTrace((event) => {
    stream.write(`${formatTraceEvent(event, lang)}\n`);
  });
}
