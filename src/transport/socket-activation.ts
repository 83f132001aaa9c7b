/**
 * systemd socket activation (sd_listen_fds(3)): systemd, or `systemd-socket-activate`, binds the
 * listening socket itself and starts the program with it open as descriptor 3, saying so in
 * `LISTEN_PID` (the pid the sockets are meant for) and `LISTEN_FDS` (how many, from 3 on). The
 * socket is bound before the program starts, so a client that connects first waits in its queue.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';

/** The first descriptor passed by socket activation (`SD_LISTEN_FDS_START`). */
export const LISTEN_FDS_START = 3;

/** The environment variables of socket activation. */
export const LISTEN_ENV = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/** The most descriptors {@link activatedSockets} lists: beyond them, only `count` tells. */
export const MAX_LISTED_FDS = 1024;

/** What socket activation passed to this process. */
export interface ActivatedSockets {
  /** How many sockets `LISTEN_FDS` says were passed. */
  count: number;
  /** The descriptors, from {@link LISTEN_FDS_START} on (the first {@link MAX_LISTED_FDS} of them). */
  fds: number[];
  /** Their names (`FileDescriptorName=` in the unit), when systemd gave them. */
  names: string[];
}

/**
 * The sockets systemd passed to process `pid`, read from `env`; `undefined` when there are none
 * for it. Variables meant for another process (a parent that was activated and did not clear
 * them) are ignored, as sd_listen_fds(3) says. Pure: reads only its arguments.
 */
export function activatedSockets(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): ActivatedSockets | undefined {
  const listenPid = env.LISTEN_PID;
  const listenFds = env.LISTEN_FDS;
  if (listenPid === undefined || listenFds === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(listenPid) || Number(listenPid) !== pid) return undefined;
  if (!/^[1-9][0-9]*$/.test(listenFds)) return undefined;
  const count = Number(listenFds);
  const fds = Array.from({ length: Math.min(count, MAX_LISTED_FDS) }, (_, i) => LISTEN_FDS_START + i);
  const names = env.LISTEN_FDNAMES === undefined ? [] : env.LISTEN_FDNAMES.split(':');
  return { count, fds, names };
}

/**
 * Removes the socket-activation variables from `env`, so that no child process (a `--workers`
 * worker, say) takes the sockets as meant for itself.
 */
export function clearActivationEnv(env: Record<string, string | undefined>): void {
  for (const name of LISTEN_ENV) delete env[name];
}

/**
 * True when descriptor `fd` of this process is a socket, false when it is closed or something
 * else, `undefined` when there is no /proc to ask. Cheaper than {@link describeDescriptor}.
 */
export function isSocketDescriptor(fd: number): boolean | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'utf8' }).startsWith('socket:');
  } catch {
    return existsSync('/proc/self/fd') ? false : undefined;
  }
}

/** What an inherited descriptor is, as the kernel says. */
export type DescriptorKind =
  /** A TCP socket; `listening` when it is in the LISTEN state (systemd's `Accept=no`). */
  | { kind: 'tcp'; listening: boolean }
  | { kind: 'udp' }
  /**
   * A Unix domain socket: `stream` for SOCK_STREAM, `listening` when it accepts connections
   * (systemd's `ListenStream=/path` with `Accept=no`), and its `path` when it is bound to one
   * (`@name` for an abstract name).
   */
  | { kind: 'unix'; stream: boolean; listening: boolean; path?: string }
  /** A socket of another family (netlink, raw, ...), or one the tables do not list. */
  | { kind: 'other-socket' }
  /** Open, but a file, a pipe or a terminal. */
  | { kind: 'not-socket' }
  | { kind: 'closed' }
  /** No /proc to ask (not Linux): the caller can only try. */
  | { kind: 'unknown' };

/**
 * What descriptor `fd` of this process is: its inode (from /proc/self/fd) looked up in the
 * kernel's socket tables (/proc/net/tcp, tcp6, udp, udp6, unix). Node adopts a descriptor only
 * as the kind of handle it was told to make, and reports a wrong one as a TypeError or in its
 * own words, so a server checks first and refuses in its own.
 */
export function describeDescriptor(fd: number): DescriptorKind {
  let link: string;
  try {
    link = readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'utf8' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && existsSync('/proc/self/fd')) return { kind: 'closed' };
    return { kind: 'unknown' };
  }
  const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  if (inode === undefined) return { kind: 'not-socket' };
  for (const table of ['tcp', 'tcp6'] as const) {
    const row = findRow(table, inode, 9);
    // Field 3 is the state, in hex: 0A is LISTEN.
    if (row !== undefined) return { kind: 'tcp', listening: row[3] === '0A' };
  }
  for (const table of ['udp', 'udp6'] as const)
    if (findRow(table, inode, 9) !== undefined) return { kind: 'udp' };
  const unix = findRow('unix', inode, 6);
  if (unix !== undefined) {
    // Fields: Num RefCount Protocol Flags Type St Inode Path. Flags 00010000 is __SO_ACCEPTCON
    // (listening); Type 0001 is SOCK_STREAM. An abstract name is shown with a leading @.
    const path = unix.slice(7).join(' ');
    return {
      kind: 'unix',
      stream: unix[4] === '0001',
      listening: (Number.parseInt(unix[3] ?? '0', 16) & 0x10000) !== 0,
      ...(path === '' ? {} : { path }),
    };
  }
  return { kind: 'other-socket' };
}

// The row of /proc/net/TABLE whose field `column` is `inode`, split into fields.
function findRow(table: string, inode: string, column: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/net/${table}`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[column] === inode) return fields;
  }
  return undefined;
}
