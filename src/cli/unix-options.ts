/**
 * `--unix PATH` and `--unix-mode MODE`: the options that put a program on a Unix domain stream
 * socket instead of a TCP port, parsed apart from the programs' other options. `PATH` may be
 * `@name` for Linux's abstract namespace. Node has no Unix datagram sockets, so the UDP programs
 * refuse `--unix` in one line.
 */
import { InvalidArgumentError } from '../errors.js';
import { parseUnixAddress, type UnixAddress } from '../unix-address.js';
import { CliError, errorLine } from './program.js';

/** The parseArgs specs of a server's `--unix` and `--unix-mode`. */
export const UNIX_SERVER_OPTIONS = {
  unix: { type: 'string' },
  'unix-mode': { type: 'string' },
} as const;

/** The parseArgs spec of a client's `--unix`. */
export const UNIX_CLIENT_OPTIONS = {
  unix: { type: 'string' },
} as const;

/** The server's help lines for `--unix` and `--unix-mode`. */
export const UNIX_SERVER_HELP = `  --unix PATH             listen on a Unix domain stream socket instead of a port
                          (@name: Linux's abstract namespace); no <port> then
                          (see docs/unix.md)
  --unix-mode MODE        the socket file's mode, in octal (e.g. 660)     [default: from the umask]
`;

/** The client's help line for `--unix`. */
export const UNIX_CLIENT_HELP = `  --unix PATH             connect to a Unix domain stream socket instead of <IP> <port>
                          (@name: Linux's abstract namespace; see docs/unix.md)
`;

/** A server's Unix socket: where, and the file's mode if one was asked for. */
export interface UnixListen extends UnixAddress {
  /** The socket file's permission bits (`--unix-mode`). */
  mode?: number;
}

/**
 * A server's `--unix` and `--unix-mode`, or undefined without `--unix`. A path that cannot be a
 * Unix socket's (too long, empty) is `bind() error! ...`; options that need a port (`--host`,
 * `--workers`) or a file (`--unix-mode` with an abstract name) are refused by name.
 */
export function parseUnixServer(
  program: string,
  values: { unix?: string; 'unix-mode'?: string },
  portOptions: Record<string, boolean>,
): UnixListen | undefined {
  const modeText = values['unix-mode'];
  if (values.unix === undefined) {
    if (modeText !== undefined) throw new CliError(`${program}: --unix-mode needs --unix PATH`);
    return undefined;
  }
  for (const [option, given] of Object.entries(portOptions)) {
    if (given)
      throw new CliError(
        `${program}: ${option} does not apply to --unix (a Unix socket has no address or port)`,
      );
  }
  const address = parseUnixPathOption(values.unix, 'bind() error');
  if (modeText === undefined) return address;
  if (!/^0?[0-7]{3}$/.test(modeText)) {
    throw new CliError(
      `${program}: invalid --unix-mode '${modeText}': expected an octal mode such as 660, 600 or 0666`,
    );
  }
  if (address.abstract) {
    throw new CliError(
      `${program}: --unix-mode does not apply to an abstract name (${address.display} has no file)`,
    );
  }
  return { ...address, mode: Number.parseInt(modeText, 8) };
}

/** A client's `--unix`, or undefined without it; with it, `<IP> <port>` must be left out. */
export function parseUnixClient(
  program: string,
  values: { unix?: string },
  positionals: readonly string[],
): UnixAddress | undefined {
  if (values.unix === undefined) return undefined;
  if (positionals.length > 0) {
    throw new CliError(
      `${program}: --unix PATH takes no <IP> <port> ('${positionals.join(' ')}' given): give one or the other`,
    );
  }
  return parseUnixPathOption(values.unix, 'connect() error!');
}

/**
 * For `--workers N`: a Unix socket is one listening socket for one process (SO_REUSEPORT is for
 * ports), so more than one worker is refused.
 */
export function checkUnixWorkers(program: string, unix: UnixListen | undefined, workers: number): void {
  if (unix !== undefined && workers > 1) {
    throw new CliError(
      `${program}: --workers does not apply to --unix (SO_REUSEPORT shares ports, not Unix socket paths: one process serves a Unix socket)`,
    );
  }
}

/** The parseArgs specs the UDP programs read only to refuse them: `--unix`, `--unix-mode`. */
export const UNIX_DATAGRAM_OPTIONS = UNIX_SERVER_OPTIONS;

/** For userver and uclient: `--unix` is refused in one line, since Node has no Unix datagram sockets. */
export function refuseUnixDatagram(program: string, values: { unix?: string; 'unix-mode'?: string }): void {
  if (values.unix === undefined && values['unix-mode'] === undefined) return;
  const other = program === 'userver' ? 'hserver --unix serves' : 'hclient --unix connects to';
  throw new CliError(
    `${program}: --unix is not available: Node.js has no Unix datagram sockets (AF_UNIX, SOCK_DGRAM); ${other} a Unix stream socket`,
  );
}

function parseUnixPathOption(text: string, prefix: string): UnixAddress {
  try {
    return parseUnixAddress(text);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new CliError(errorLine(prefix, error));
    throw error;
  }
}
