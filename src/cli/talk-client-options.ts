/**
 * hclient's options for `--service greet|echo`, parsed without loading the services themselves
 * (the hello path must start fast; see README, Performance).
 */
import { DEFAULT_CLIENT_NAME } from '../defaults.js';
import { parseCount } from './arguments.js';
import { CliError } from './program.js';
import { parseService, type ServiceName } from './service-name.js';

/** The parseArgs specs of the options hclient has for the greet and echo services. */
export const TALK_CLIENT_OPTIONS = {
  service: { type: 'string' },
  name: { type: 'string' },
  bytes: { type: 'string' },
} as const;

/** hclient's help lines for those options. */
export const TALK_CLIENT_HELP = `  --service NAME          hello, greet (the Bob/Jane dialogue), echo, or a
                          classic test service: discard (sends the input),
                          chargen, daytime, time, qotd (docs/services.md) [default: hello]
  --name NAME             greet: our name                                 [default: ${DEFAULT_CLIENT_NAME}]
  --bytes N               chargen: bytes to read and check                [default: 7030]
`;

/** The service and its options, checked before connecting. */
export interface TalkClientChoice {
  service: ServiceName;
  /** The greet name as given (checked by the greet client before it connects). */
  name: string;
  /** chargen: the bytes to read and check, when given. */
  bytes: number | undefined;
}

/** Checks `--service`, `--name` and which options go with which service. */
export function parseTalkClientValues(
  program: string,
  values: { service?: string; name?: string; 'max-bytes'?: string; bytes?: string },
): TalkClientChoice {
  const service = parseService(values.service, program);
  if (values.name !== undefined && service !== 'greet') {
    throw new CliError(`${program}: --name applies to --service greet, not ${service}`);
  }
  if (values['max-bytes'] !== undefined && service !== 'hello') {
    throw new CliError(`${program}: --max-bytes applies to --service hello, not ${service}`);
  }
  if (values.bytes !== undefined && service !== 'chargen') {
    throw new CliError(`${program}: --bytes applies to --service chargen, not ${service}`);
  }
  const bytes =
    values.bytes === undefined
      ? undefined
      : parseCount(values.bytes, '--bytes', program, 1, Number.MAX_SAFE_INTEGER);
  // The name is checked by the greet client before it connects (with the greet protocol module,
  // which only that path loads).
  return { service, name: values.name ?? DEFAULT_CLIENT_NAME, bytes };
}
