/**
 * `--view [HOST:]PORT` for hserver and userver: the option's parsing, its help line, and starting
 * the live view beside the server (src/view/).
 */
import { DEFAULT_HTTP_HOST } from '../defaults.js';
import type { TraceLanguage } from '../trace/schema.js';
import type { TlsClientOptions } from '../transport/tls-client.js';
import { formatAddress } from '../validate.js';
import { createViewServer, type ViewServer, type ViewServerOptions } from '../view/view-server.js';
import { parseAllowedHosts, parseHostPort } from './arguments.js';
import { writeStderr } from './output.js';
import { CliError, errorLine } from './program.js';

/** The parseArgs specs of `--view` and `--view-allow-host`. */
export const VIEW_OPTIONS = {
  view: { type: 'string' },
  'view-allow-host': { type: 'string', multiple: true },
} as const;

/** The help's lines on `--view` and `--view-allow-host`. */
export const VIEW_HELP = `  --view [HOST:]PORT      serve the live page of the lecture's diagrams on PORT (0: a free one)
                          HOST defaults to ${DEFAULT_HTTP_HOST}; [::1]:PORT for IPv6 (read docs/view.md
                          before binding beyond loopback: the page shows clients' addresses and lines)
  --view-allow-host NAME[,NAME...]
                          answer these Host names too (repeatable); the view answers
                          localhost, 127.x.y.z, [::1] and its own address, else 403
`;

/** Where the view listens, and the names it answers besides its own. */
export interface ViewAddressOption {
  host: string;
  port: number;
  allowedHosts?: readonly string[];
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
  /** The service speaks TLS (`--tls`): how the page's buttons do the handshake. */
  clientTls?: TlsClientOptions;
}

/** `--view`'s value as the request a server program hands serve(), or undefined without the option. */
export function parseViewRequest(
  text: string | undefined,
  program: string,
  server: {
    transport: 'tcp' | 'udp';
    service: string;
    lang: TraceLanguage | undefined;
    clientTls?: TlsClientOptions | undefined;
  },
  allow?: readonly string[],
): ViewRequest | undefined {
  const allowedHosts = parseAllowedHosts(allow, '--view-allow-host', program);
  if (text === undefined) {
    if (allowedHosts !== undefined) throw new CliError(`${program}: --view-allow-host needs --view`);
    return undefined;
  }
  const { transport, service, lang, clientTls } = server;
  return {
    ...(clientTls === undefined ? {} : { clientTls }),
    ...parseViewOption(text, program),
    transport,
    service,
    ...(lang === undefined ? {} : { lang }),
    ...(allowedHosts === undefined ? {} : { allowedHosts }),
  };
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
    ...(request.clientTls === undefined ? {} : { clientTls: request.clientTls }),
    ...(request.allowedHosts === undefined ? {} : { allowedHosts: request.allowedHosts }),
    ...hooks,
  });
}
