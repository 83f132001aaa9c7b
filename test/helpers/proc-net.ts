/**
 * What the kernel says about sockets, read from /proc: which sockets a process holds, and the rows
 * of /proc/net/tcp{,6} and udp{,6} (local port, state, inode). No tool (ss, netstat) needed.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One row of /proc/net/{tcp,tcp6,udp,udp6}. */
export interface SocketRow {
  localPort: number;
  /** The kernel's state number in hex: '0A' is LISTEN, '01' ESTABLISHED; '07' an unconnected UDP socket. */
  state: string;
  inode: string;
}

/** The inodes of the sockets process `pid` holds (empty if it is gone). */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' }));
        if (match?.[1] !== undefined) inodes.add(match[1]);
      } catch {
        // A descriptor closed while we read: not ours to report.
      }
    }
  } catch {
    // The process is starting or gone.
  }
  return inodes;
}

/** The rows of the kernel's socket tables of `protocol` (IPv4 and IPv6). */
export function socketRows(protocol: 'tcp' | 'udp'): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const table of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      // fields: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const port = fields[1]?.split(':')[1];
      if (port === undefined || fields[3] === undefined || fields[9] === undefined) continue;
      rows.push({ localPort: Number.parseInt(port, 16), state: fields[3], inode: fields[9] });
    }
  }
  return rows;
}

/** The rows of `protocol` on `port` in `state` that process `pid` holds. */
export function socketsOf(pid: number, protocol: 'tcp' | 'udp', port: number, state: string): SocketRow[] {
  const inodes = socketInodes(pid);
  return socketRows(protocol).filter((r) => r.localPort === port && r.state === state && inodes.has(r.inode));
}

/** PIDs of a process's children (its workers, for a supervisor), from /proc. */
export function childPids(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}
