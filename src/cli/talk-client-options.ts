/**
 * hclient's options for `--service greet|echo`, parsed without loading the services themselves
 * (the hello path must start fast; see README, Performance).
 */
import { DEFAULT_CLIENT_NAME } from '../defaults.js';
import { CliError } from './program.js';
import { parseService, type ServiceName } from './service-name.js';

/** The parseArgs specs of the options hclient has for the greet and echo services. */
export const TALK_CLIENT_OPTIONS = {
  service: { type: 'string' },
  name: { type: 'string' },
} as const;

/** hclient's help lines for those options. */
export const TALK_CLIENT_HELP = `  --service NAME          hello, greet (the Bob/Jane dialogue) or echo    [default: hello]
  --name NAME             greet: our name                                 [default: ${DEFAULT_CLIENT_NAME}]
`;

/** The service and its options, checked before connecting. */
export interface TalkClientChoice {
  service: ServiceName;
  /** The greet name as given (checked by the greet client before it connects). */
  name: string;
}

/** Checks `--service`, `--name` and which options go with which service. */
export function parseTalkClientValues(
  program: string,
  values: { service?: string; name?: string; 'max-bytes'?: string },
): TalkClientChoice {
  const service = parseService(values.service, program);
  if (values.name !== undefined && service !== 'greet') {
    throw new CliError(`${program}: --name applies to --service greet, not ${service}`);
  }
  if (values['max-bytes'] !== undefined && service !== 'hello') {
    throw new CliError(`${program}: --max-bytes applies to --service hello, not ${service}`);
  }
  // The name is checked by the greet client before it connects (with the greet protocol module,
  // which only that path loads).
  return { service, name: values.name ?? DEFAULT_CLIENT_NAME };
}
