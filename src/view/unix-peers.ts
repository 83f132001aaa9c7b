/**
 * Who is at the other end of a Unix socket connection: its process id, user id and command. Node
 * has no SO_PEERCRED, and /proc/net/unix lists each socket's inode but not its peer's, so this
 * asks `ss -xpn` (netlink's sock_diag gives each socket's peer inode; `-p` maps inodes to the
 * processes holding them, by reading every process's /proc/PID/fd) and then /proc/PID/status for
 * the user id. One run covers every connection asked about; it costs one process and a scan of
 * /proc, so the view runs it only while some Unix connection's peer is still unread. Best effort:
 * a connection that closed before the run, or a peer in another user's process that /proc hides,
 * stays `unknown`.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { UnixPeer } from './state.js';

export type { UnixPeer };

/** One row of `ss -xpn`: a Unix socket, its peer's inode, and the processes that hold it. */
export interface UnixSsRow {
  /** The socket's path, or `*` when it has none. */
  path: string;
  /** The socket's inode. */
  inode: number;
  /** The peer socket's inode (0 when it has none). */
  peerInode: number;
  /** The processes holding the socket, from `users:((...))`. */
  users: Array<{ command: string; pid: number }>;
}

const ROW = /^u_(?:str|seq|dgr)\s+\S+\s+\d+\s+\d+\s+(.*?)\s+(\d+)\s+(.*?)\s+(\d+)(?:\s+users:\((.*)\))?\s*$/;
const USER = /\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=\d+\)/g;

/** Parses one line of `ss -xpn`; undefined for the heading and anything else. */
export function parseUnixSsLine(line: string): UnixSsRow | undefined {
  const match = ROW.exec(line);
  if (match === null) return undefined;
  const users = [...(match[5] ?? '').matchAll(USER)].map((u) => ({ command: u[1] ?? '', pid: Number(u[2]) }));
  return { path: match[1] ?? '', inode: Number(match[2]), peerInode: Number(match[4]), users };
}

/**
 * The peers of the sockets `inodes` (each an accepted connection's own inode), from `ss` rows: the
 * row of the socket names its peer's inode, and the peer's row names its process. Sockets whose
 * peer is not found are left out.
 */
export function peersFromRows(rows: readonly UnixSsRow[], inodes: readonly number[]): Map<number, UnixPeer> {
  const byInode = new Map(rows.map((row) => [row.inode, row]));
  const found = new Map<number, UnixPeer>();
  for (const inode of inodes) {
    const peer = byInode.get(byInode.get(inode)?.peerInode ?? -1);
    const user = peer?.users[0];
    if (user === undefined) continue;
    found.set(inode, { pid: user.pid, command: user.command });
  }
  return found;
}

/** The real user id of process `pid`, from /proc/PID/status, or undefined. */
export function processUid(pid: number): number | undefined {
  try {
    const line = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line === null ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}

/** Most bytes of `ss -xpn` output read: a machine with a great many Unix sockets is cut there. */
const MAX_SS_OUTPUT = 8 * 1024 * 1024;

/**
 * Runs `ss -xpn` (bounded: `timeoutMs`, and {@link MAX_SS_OUTPUT} bytes) and finds the peers of
 * `inodes`, with their user ids. Rejects when ss cannot run.
 */
export function readUnixPeers(
  ss: string,
  inodes: readonly number[],
  timeoutMs = 2000,
): Promise<Map<number, UnixPeer>> {
  return new Promise((resolve, reject) => {
    execFile(
      ss,
      ['-xpn'],
      { timeout: timeoutMs, maxBuffer: MAX_SS_OUTPUT, encoding: 'utf8' },
      (error, stdout) => {
        if (error !== null) {
          reject(error);
          return;
        }
        const rows = stdout.split('\n').flatMap((line) => parseUnixSsLine(line) ?? []);
        const peers = peersFromRows(rows, inodes);
        for (const peer of peers.values()) {
          const uid = processUid(peer.pid);
          if (uid !== undefined) peer.uid = uid;
        }
        resolve(peers);
      },
    );
  });
}
