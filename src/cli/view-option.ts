/**
 * `--view [HOST:]PORT` for hserver and userver: the option's parsing, its help line, and starting
 * the live view beside the server (src/view/).
 */
import { DEFAULT_HTTP_HOST } from '../defaults.js';
import type { TraceLanguage } from '../trace/schema.js';
import { formatAddress } from '../validate.js';
import { createViewServer, type ViewServer, type ViewServerOptions } from '../view/view-server.js';
import { parseHostPort } from './arguments.js';
import { writeStderr } from './output.js';
import { CliError, errorLine } from './program.js';

/** The parseArgs spec of `--view`. */
export const VIEW_OPTIONS = {
  view: { type: 'string' },
} as const;

/** The help's lines on `--view`. */
export const VIEW_HELP = `  --view [HOST:]PORT      serve the live page of the lecture's diagrams on PORT (0: a free one)
                          HOST defaults to ${DEFAULT_HTTP_HOST}; [::1]:PORT for IPv6 (see README before
                          binding beyond loopback: the page shows clients' addresses and lines)
`;

/** Where the view listens. */
export interface ViewAddressOption {
  host: string;
  port: number;
}

/** Parses `--view`: `PORT`, `HOST:PORT` or `[IPv6]:PORT` (see parseHostPort). */
export function parseViewOption(text: string, program: string): ViewAddressOption {
  return parseHostPort(text, '--view', program, DEFAULT_HTTP_HOST);
}

/** Starts the view; prints `<program>: view on http://HOST:PORT/` on stderr. Rejects with a {@link CliError}. */
export async function startView(program: string, view: ViewServer): Promise<ViewServer> {
  try {
    const address = await view.listen();
    writeStderr(`${program}: view on http://${formatAddress(address.address, address.port)}/\n`);
    return view;
  } catch (error) {
    throw new CliError(errorLine(`${program}: --view: bind() error`, error));
  }
}

/** What a server program says about the view it wants. */
export interface ViewRequest extends ViewAddressOption {
  transport: 'tcp' | 'udp';
  service: string;
  /** `--lang` when given: the page's language over the browser's. */
  lang?: TraceLanguage;
}

/** `--view`'s value as the request a server program hands serve(), or undefined without the option. */
export function parseViewRequest(
  text: string | undefined,
  program: string,
  server: { transport: 'tcp' | 'udp'; service: string; lang: TraceLanguage | undefined },
): ViewRequest | undefined {
  if (text === undefined) return undefined;
  const { transport, service, lang } = server;
  return { ...parseViewOption(text, program), transport, service, ...(lang === undefined ? {} : { lang }) };
}

/** Builds (not yet listening) the view a program asked for, with the server's own callbacks. */
export function buildView(
  program: string,
  request: ViewRequest,
  hooks: Pick<ViewServerOptions, 'target' | 'stats' | 'routes'>,
): ViewServer {
  return createViewServer({
    program,
    host: request.host,
    port: request.port,
    transport: request.transport,
    service: request.service,
    ...(request.lang === undefined ? {} : { lang: request.lang }),
    ...hooks,
  });
}
