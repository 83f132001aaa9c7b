/**
 * Where a server program's listening socket comes from: the `<port>` on its command line, or the
 * socket that systemd passed (socket activation), which takes precedence when it is there.
 */
import { descriptorLimit } from '../transport/descriptors.js';
import {
  type ActivatedSockets,
  activatedSockets,
  clearActivationEnv,
  describeDescriptor,
  isSocketDescriptor,
} from '../transport/socket-activation.js';
import { parsePort } from '../validate.js';
import { writeStderr } from './output.js';
import { CliError, errorLine } from './program.js';
import type { UnixListen } from './unix-options.js';

/** A server program's listening socket: a port to bind, or an inherited descriptor. */
export type ListenSource =
  | { kind: 'port'; port: number }
  /** `--unix PATH`: a Unix domain stream socket to bind. */
  | { kind: 'unix'; unix: UnixListen }
  /** From systemd; `port`, when the command line gave one, is the port the socket must have. */
  | { kind: 'fd'; fd: number; port?: number };

/** What {@link chooseListenSource} needs from the command line. */
export interface ListenSourceInput {
  program: string;
  usage: string;
  positionals: readonly string[];
  /** Options that bind a socket themselves, set on the command line: refused with a passed socket. */
  bindingOptions: Record<string, boolean>;
  /** The sockets the program serves: a passed socket of another kind is refused. */
  transport: 'tcp' | 'udp';
  /** `--unix PATH`, when given: then no `<port>` may be. */
  unix?: UnixListen | undefined;
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
  transport,
  unix,
}: ListenSourceInput): ListenSource {
  const activated = activatedSockets(process.env, process.pid);
  clearActivationEnv(process.env);
  if (unix !== undefined) {
    if (positionals.length > 0) {
      throw new CliError(
        `${program}: --unix PATH takes no <port> ('${positionals.join(' ')}' given): give one or the other`,
      );
    }
    if (activated !== undefined) {
      throw new CliError(
        `${program}: --unix does not apply to the socket systemd passed (the socket unit sets it)`,
      );
    }
    return { kind: 'unix', unix };
  }
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
  checkPassedSockets(program, activated, transport);
  if (activated.count > 1) {
    writeStderr(
      `${program}: systemd passed ${activated.count} sockets; using the first (descriptor ${fd})\n`,
    );
  }
  return port === undefined || port === 0 ? { kind: 'fd', fd } : { kind: 'fd', fd, port };
}

// LISTEN_FDS must count descriptors this process really was passed: a number past what it may
// open, or one that reaches past the sockets, is a mistake in whatever started us. (A descriptor
// that was not passed is not closed by the time we look: Node's own, its epoll and its pipes,
// take the lowest free numbers. They are no sockets.)
function checkPassedSockets(program: string, activated: ActivatedSockets, transport: 'tcp' | 'udp'): void {
  const { count } = activated;
  const limit = descriptorLimit();
  if (limit !== undefined && count > limit - 3) {
    throw new CliError(
      `${program}: LISTEN_FDS=${count} is more sockets than this process may have open (its limit is ${limit} descriptors)`,
    );
  }
  const [first, ...rest] = activated.fds as [number, ...number[]];
  checkPassedKind(program, first, transport);
  for (const fd of rest) {
    if (isSocketDescriptor(fd) === false) {
      throw new CliError(
        `${program}: LISTEN_FDS=${count} says ${count} sockets were passed, but descriptor ${fd} is not a socket`,
      );
    }
  }
}

const TRANSPORT_NAMES = { tcp: 'TCP', udp: 'UDP' } as const;

// The passed socket must be one this program can serve: Node would take a Unix socket for a TCP
// one and then fail on its address, or refuse a TCP one for UDP in its own words.
function checkPassedKind(program: string, fd: number, transport: 'tcp' | 'udp'): void {
  const found = describeDescriptor(fd);
  const serves = `${program} serves ${TRANSPORT_NAMES[transport]} sockets only`;
  const other = transport === 'tcp' ? 'userver serves UDP' : 'hserver serves TCP';
  const prefix = `${program}: descriptor ${fd} from systemd`;
  switch (found.kind) {
    case 'unknown':
      return;
    case 'closed':
      throw new CliError(`${prefix} is not open`);
    case 'not-socket':
      throw new CliError(`${prefix} is not a socket`);
    case 'unix':
      // A Unix stream socket is served as hserver serves TCP (ListenStream=/path).
      if (transport === 'tcp' && found.stream && found.listening) return;
      if (transport === 'tcp' && found.stream) {
        throw new CliError(
          `${prefix} is a Unix stream socket that is not listening (Accept=yes passes connections; ${program} needs Accept=no)`,
        );
      }
      throw new CliError(
        `${prefix} is a Unix ${found.stream ? 'stream' : 'datagram or seqpacket'} socket; ${transport === 'tcp' ? `${program} serves TCP and Unix stream sockets only` : `${serves} (Node.js has no Unix datagram sockets)`}`,
      );
    case 'other-socket':
      throw new CliError(`${prefix} is neither a TCP nor a UDP socket; ${serves}`);
    case 'tcp':
    case 'udp':
      if (found.kind !== transport) {
        throw new CliError(`${prefix} is a ${TRANSPORT_NAMES[found.kind]} socket; ${serves} (${other})`);
      }
      if (found.kind === 'tcp' && !found.listening) {
        throw new CliError(
          `${prefix} is a TCP socket that is not listening (Accept=yes passes connections; ${program} needs Accept=no)`,
        );
      }
      return;
  }
}
