/**
 * `--service` for hserver (hello, greet, echo and the classic discard, chargen, daytime, time and
 * qotd): the options each service adds, their parsing, and the choice of the server factory.
 * hserver itself stays about the shared TCP options.
 */
import {
  DEFAULT_DIALOGUE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_SERVER_NAME,
} from '../defaults.js';
import { createChargenServer } from '../services/chargen.js';
import { createDaytimeServer } from '../services/daytime.js';
import { createDiscardServer } from '../services/discard.js';
import { createEchoServer } from '../services/echo.js';
import { createGreetServer } from '../services/greet.js';
import { createQotdServer } from '../services/qotd.js';
import { createTimeServer } from '../services/time.js';
import type { TcpServer, TcpServerOptions } from '../transport/tcp-server.js';
import { parseCount, parseSeconds } from './arguments.js';
import { CLASSIC_SERVER_HELP, CLASSIC_SERVER_OPTIONS, parseClassicServerValues } from './classic-options.js';
import { CliError } from './program.js';
import { parseService, type ServiceName } from './service-name.js';

export { parseService, SERVICES, type ServiceName } from './service-name.js';

/** The parseArgs specs of the options hserver has for the greet and echo services. */
export const TALK_SERVER_OPTIONS = {
  service: { type: 'string' },
  name: { type: 'string' },
  'idle-timeout': { type: 'string' },
  'dialogue-timeout': { type: 'string' },
  'max-line-bytes': { type: 'string' },
  ...CLASSIC_SERVER_OPTIONS,
} as const;

/** hserver's help lines for those options. */
export const TALK_SERVER_HELP = `  --service NAME          hello, greet (the Bob/Jane dialogue), echo, or a
                          classic test service: discard, chargen, daytime,
                          time, qotd (RFC 863-868; see docs/services.md)   [default: hello]
  --name NAME             greet: the server's name                         [default: ${DEFAULT_SERVER_NAME}]
  --idle-timeout SECS     greet, echo, discard, chargen: drop a client
                          that sends (chargen: reads) nothing this long    [default: ${DEFAULT_IDLE_TIMEOUT_MS / 1000}]
  --dialogue-timeout SECS greet: the most the whole dialogue may take      [default: ${DEFAULT_DIALOGUE_TIMEOUT_MS / 1000}]
  --max-line-bytes N      greet: longest line accepted, in bytes           [default: ${DEFAULT_MAX_LINE_BYTES}]
${CLASSIC_SERVER_HELP}`;

/** The values of {@link TALK_SERVER_OPTIONS} as parsed. */
export interface TalkServerValues {
  service?: string;
  name?: string;
  'idle-timeout'?: string;
  'dialogue-timeout'?: string;
  'max-line-bytes'?: string;
  message?: string;
  'no-nul'?: boolean;
  pattern?: string;
  quotes?: string;
}

/**
 * Builds the server for `--service`. `hello` is built by `createHello` (hserver's own call, so that
 * its options stay in one place); the others here, after checking that only their options are set.
 */
export function createServiceServer(
  program: string,
  values: TalkServerValues,
  common: Omit<TcpServerOptions, 'onConnection'>,
  createHello: () => TcpServer,
): TcpServer {
  const service = parseService(values.service, program);
  const onlyFor = (option: string, allowed: readonly ServiceName[], set: boolean) => {
    if (set && !allowed.includes(service)) {
      throw new CliError(
        `${program}: ${option} applies to --service ${allowed.join(' or ')}, not ${service}`,
      );
    }
  };
  onlyFor('--message', ['hello', 'qotd'], values.message !== undefined);
  onlyFor('--no-nul', ['hello'], values['no-nul'] === true);
  onlyFor('--name', ['greet'], values.name !== undefined);
  onlyFor('--max-line-bytes', ['greet'], values['max-line-bytes'] !== undefined);
  onlyFor('--idle-timeout', ['greet', 'echo', 'discard', 'chargen'], values['idle-timeout'] !== undefined);
  const classic = parseClassicServerValues(program, service, values);
  onlyFor('--dialogue-timeout', ['greet'], values['dialogue-timeout'] !== undefined);
  const dialogueTimeout =
    values['dialogue-timeout'] === undefined
      ? undefined
      : parseSeconds(values['dialogue-timeout'], '--dialogue-timeout', program);
  const idleTimeout =
    values['idle-timeout'] === undefined
      ? undefined
      : parseSeconds(values['idle-timeout'], '--idle-timeout', program);
  const maxLineBytes =
    values['max-line-bytes'] === undefined
      ? undefined
      : parseCount(values['max-line-bytes'], '--max-line-bytes', program, 1, 2 ** 20);
  switch (service) {
    case 'hello':
      return createHello();
    case 'greet':
      return createGreetServer({ ...common, name: values.name, idleTimeout, dialogueTimeout, maxLineBytes });
    case 'echo':
      return createEchoServer({ ...common, idleTimeout });
    case 'discard':
      return createDiscardServer({ ...common, idleTimeout });
    case 'chargen':
      return createChargenServer({
        ...common,
        idleTimeout,
        ...(classic.pattern ? { pattern: classic.pattern } : {}),
      });
    case 'daytime':
      return createDaytimeServer(common);
    case 'time':
      return createTimeServer(common);
    case 'qotd':
      return createQotdServer({ ...common, ...(classic.quotes ? { quotes: classic.quotes } : {}) });
  }
}
