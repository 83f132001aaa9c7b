/**
 * `--service` for every program: the services each transport speaks and one parser. Kept apart
 * from the service modules so that a program parses its options without loading them.
 */
import { CliError } from './program.js';

/** The services the TCP programs speak: the lecture's, then the classic test services (RFC 862-868). */
export const SERVICES = ['hello', 'greet', 'echo', 'discard', 'chargen', 'daytime', 'time', 'qotd'] as const;
/** A service the TCP programs speak. */
export type ServiceName = (typeof SERVICES)[number];
/** The services the UDP programs speak. */
export const UDP_SERVICES = ['hello', 'echo', 'discard', 'chargen', 'daytime', 'time', 'qotd'] as const;
/** A service the UDP programs speak. */
export type UdpServiceName = (typeof UDP_SERVICES)[number];
/** The classic test services (RFC 863-868) besides echo: the ones src/cli/classic.ts runs. */
export const CLASSIC_SERVICES = ['discard', 'chargen', 'daytime', 'time', 'qotd'] as const;
/** A classic test service besides echo. */
export type ClassicServiceName = (typeof CLASSIC_SERVICES)[number];

/** True for discard, chargen, daytime, time and qotd. */
export function isClassicService(name: string): name is ClassicServiceName {
  return (CLASSIC_SERVICES as readonly string[]).includes(name);
}

// "hello or echo"; "hello, greet, echo".
function listOf(names: readonly string[]): string {
  return names.length === 2 ? names.join(' or ') : names.join(', ');
}

/** Parses `--service` against the services a program speaks (`SERVICES` by default); hello when absent. */
export function parseService<const S extends readonly string[] = typeof SERVICES>(
  text: string | undefined,
  program: string,
  allowed: S = SERVICES as unknown as S,
): S[number] {
  if (text === undefined) return 'hello';
  if (allowed.includes(text)) return text;
  throw new CliError(`${program}: invalid --service '${text}': expected ${listOf(allowed)}`);
}
