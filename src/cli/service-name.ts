/**
 * The services the TCP programs speak, and `--service` parsing. Kept apart from the service
 * modules so that a program parses its options without loading them.
 */
import { CliError } from './common.js';

/** The services the TCP programs speak. */
export const SERVICES = ['hello', 'greet', 'echo'] as const;
/** A service the TCP programs speak. */
export type ServiceName = (typeof SERVICES)[number];

/** Parses `--service`; hello when absent. */
export function parseService(text: string | undefined, program: string): ServiceName {
  if (text === undefined) return 'hello';
  if ((SERVICES as readonly string[]).includes(text)) return text as ServiceName;
  throw new CliError(`${program}: invalid --service '${text}': expected ${SERVICES.join(', ')}`);
}
