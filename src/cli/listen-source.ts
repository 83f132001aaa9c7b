/**
 * Where a server program's listening socket comes from: the `<port>` on its command line, or the
 * socket that systemd passed (socket activation), which takes precedence when it is there.
 */
import { activatedSockets, clearActivationEnv } from '../transport/socket-activation.js';
import { parsePort } from '../validate.js';
import { writeStderr } from './output.js';
import { CliError, errorLine } from './program.js';

/** A server program's listening socket: a port to bind, or an inherited descriptor. */
export type ListenSource =
  | { kind: 'port'; port: number }
  /** From systemd; `port`, when the command line gave one, is the port the socket must have. */
  | { kind: 'fd'; fd: number; port?: number };

/** What {@link chooseListenSource} needs from the command line. */
export interface ListenSourceInput {
  program: string;
  usage: string;
  positionals: readonly string[];
  /** Options that bind a socket themselves, set on the command line: refused with a passed socket. */
  bindingOptions: Record<string, boolean>;
}

/**
 * Decides the listen source and clears the socket-activation variables (no child may take them).
 * With a socket from systemd the `<port>` may be left out; given, it must match the socket's port
 * (checked once listening, see `expectPort` of serve()).
 */
export function chooseListenSource({
  program,
  usage,
  positionals,
  bindingOptions,
}: ListenSourceInput): ListenSource {
  const activated = activatedSockets(process.env, process.pid);
  clearActivationEnv(process.env);
  const [portText] = positionals;
  if (positionals.length > 1 || (portText === undefined && activated === undefined)) {
    throw new CliError(usage, { showUsage: true });
  }
  let port: number | undefined;
  if (portText !== undefined) {
    try {
      port = parsePort(portText);
    } catch (error) {
      throw new CliError(errorLine('bind() error', error));
    }
  }
  if (activated === undefined) return { kind: 'port', port: port as number };
  for (const [option, given] of Object.entries(bindingOptions)) {
    if (given) {
      throw new CliError(
        `${program}: ${option} does not apply to the socket systemd passed (the socket unit sets it)`,
      );
    }
  }
  const [fd] = activated.fds as [number, ...number[]];
  if (activated.fds.length > 1) {
    writeStderr(
      `${program}: systemd passed ${activated.fds.length} sockets; using the first (descriptor ${fd})\n`,
    );
  }
  return port === undefined || port === 0 ? { kind: 'fd', fd } : { kind: 'fd', fd, port };
}
