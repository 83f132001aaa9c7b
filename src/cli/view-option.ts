/**
 * `--view [HOST:]PORT` for hserver and userver: the option's parsing, its help line, and starting
 * the live view beside the server (src/view/).
 */
import { DEFAULT_VIEW_HOST } from '../defaults.js';
import type { TraceLanguage } from '../trace/schema.js';
import { formatAddress, parsePort, validateHost } from '../validate.js';
import { createViewServer, type ViewServer, type ViewServerOptions } from '../view/view-server.js';
import { CliError, errorLine } from './program.js';

/** The parseArgs spec of `--view`. */
export const VIEW_OPTIONS = {
  view: { type: 'string' },
} as const;

/** The help's lines on `--view`. */
export const VIEW_HELP = `  --view [HOST:]PORT      serve the live page of the lecture's diagrams on PORT (0: a free one)
                          HOST defaults to ${DEFAULT_VIEW_HOST}; [::1]:PORT for IPv6 (see README before
                          binding beyond loopback: the page shows clients' addresses and lines)
`;

/** Where the view listens. */
export interface ViewAddressOption {
  host: string;
  port: number;
}

/**
 * Parses `--view`: `PORT`, `HOST:PORT` or `[IPv6]:PORT`. A bare IPv6 address without brackets is
 * refused (its last group would read as the port).
 */
export function parseViewOption(text: string, program: string): ViewAddressOption {
  const bad = (why: string) =>
    new CliError(
      `${program}: invalid --view '${text}': ${why} (expected [HOST:]PORT, e.g. 0, 8080, 127.0.0.1:8080 or [::1]:8080)`,
    );
  let host = DEFAULT_VIEW_HOST;
  let portText = text;
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(text);
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? '';
  } else if (text.startsWith('[')) {
    throw bad('a port must follow the bracketed address');
  } else if (text.includes(':')) {
    const parts = text.split(':');
    if (parts.length !== 2) throw bad('an IPv6 address goes in brackets');
    host = parts[0] ?? '';
    portText = parts[1] ?? '';
    if (host === '') throw bad('the host is empty');
  }
  if (!/^[0-9]+$/.test(portText)) throw bad('the port is not a number');
  try {
    return { host: validateHost(host), port: parsePort(portText) };
  } catch (error) {
    throw bad(error instanceof Error ? error.message : String(error));
  }
}

/** Starts the view; prints `<program>: view on http://HOST:PORT/` on stderr. Rejects with a {@link CliError}. */
export async function startView(program: string, view: ViewServer): Promise<ViewServer> {
  try {
    const address = await view.listen();
    process.stderr.write(`${program}: view on http://${formatAddress(address.address, address.port)}/\n`);
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

/** Builds (not yet listening) the view a program asked for, with the server's own callbacks. */
export function buildView(
  program: string,
  request: ViewRequest,
  hooks: Pick<ViewServerOptions, 'target' | 'stats'>,
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
