/**
 * iproute2's `ss` as the live view's window on the kernel's TCP sockets: the filter that asks for
 * only the rows of the connections a page shows, and a framer of its output into rows. Pure: it
 * spawns nothing (the {@link KernelReader} does).
 *
 * `ss` asks the kernel through netlink (NETLINK_SOCK_DIAG) and hands it a bytecode filter, so the
 * kernel returns only the sockets that match; reading `/proc/net/tcp` instead formats every row
 * of the table, and a busy machine has tens of thousands (TIME_WAIT). The kernel still runs the
 * bytecode once per socket, so the filter is shaped to reject most sockets in a few steps: first
 * the server's port, then a binary search on the client's port (`dport < :M`), and only at the
 * leaves the exact address and port.
 *
 * Output of `ss -tanH FILTER` is one socket a line: `STATE RECV-Q SEND-Q LOCAL PEER`, for example
 * `TIME-WAIT 0      0      [::ffff:127.0.0.1]:42015 [::ffff:127.0.0.1]:39042`. On a LISTEN row
 * Recv-Q is the accept queue's depth (Send-Q the backlog).
 */
import type { TcpStateName } from './proc-net.js';

/** `ss`'s spelling of the kernel's TCP states (ss.c's `sstate_name`), by the kernel's names. */
export const SS_STATES: Readonly<Record<string, TcpStateName>> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

/** One socket as `ss -tan` lists it. */
export interface SsRow {
  /** The kernel's name of the state; `UNKNOWN` for a name this table does not know. */
  state: TcpStateName | 'UNKNOWN';
  /** Bytes not yet read; on a LISTEN row, connections waiting to be accepted. */
  recvQ: number;
  /** Bytes not yet acknowledged; on a LISTEN row, the backlog. */
  sendQ: number;
  /** As `ss` prints it without brackets, zone or port (`127.0.0.1`, `::ffff:127.0.0.1`, `*`). */
  localAddress: string;
  /** The local port. */
  localPort: number;
  /** The peer's address, in the same form. */
  peerAddress: string;
  /** 0 where `ss` prints `*` (a listener's peer). */
  peerPort: number;
}

// An `address:port` as ss prints it: `127.0.0.1:80`, `[::1]:80`, `[fe80::1]%eth0:80`, `*:*`, and
// (iproute2 before 4.17) IPv6 without brackets, `::1:80`. The port is after the last colon.
function parseEnd(text: string): { address: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const portText = text.slice(colon + 1);
  let port: number;
  if (portText === '*') port = 0;
  else if (/^[0-9]{1,5}$/.test(portText) && Number(portText) <= 65_535) port = Number(portText);
  else return undefined;
  let address = text.slice(0, colon);
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (address.startsWith('[')) {
    if (!address.endsWith(']')) return undefined;
    address = address.slice(1, -1);
  }
  if (address === '' || !/^[0-9A-Fa-f.:*]+$/.test(address)) return undefined;
  return { address: address.toLowerCase(), port };
}

/**
 * Parses one line of `ss -tan` (with or without its header, with or without a Netid column);
 * undefined for the header, a blank or a malformed line.
 */
export function parseSsLine(line: string): SsRow | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields[0] === 'tcp') fields.shift();
  if (fields.length < 5) return undefined;
  const [name = '', recv = '', send = '', local = '', peer = ''] = fields;
  if (!/^[A-Z][A-Z0-9-]*$/.test(name) || !/^[0-9]+$/.test(recv) || !/^[0-9]+$/.test(send)) return undefined;
  const l = parseEnd(local);
  const p = parseEnd(peer);
  if (l === undefined || p === undefined) return undefined;
  return {
    state: Object.hasOwn(SS_STATES, name) ? (SS_STATES[name] as TcpStateName) : 'UNKNOWN',
    recvQ: Number(recv),
    sendQ: Number(send),
    localAddress: l.address,
    localPort: l.port,
    peerAddress: p.address,
    peerPort: p.port,
  };
}

/** Longest line kept: ss's longest is two bracketed IPv6 ends with zones, well under this. */
const MAX_LINE = 1024;

/**
 * Turns `ss`'s output, in chunks as they come, into rows: `push(chunk)` gives the rows of the
 * lines completed so far, `end()` the last one. A line longer than any ss prints is dropped whole.
 */
export class SsFramer {
  #partial = '';
  #overlong = false;
  /** Lines that were not rows (a header, a line too long or not understood). */
  skipped = 0;

  /** Feeds a chunk of output; the rows of the lines it completes. */
  push(chunk: Buffer | string): SsRow[] {
    // ss prints ASCII: latin1 maps each byte to one character, so a chunk may end anywhere.
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const rows: SsRow[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.#line(this.#partial + text.slice(start, nl), rows);
      this.#partial = '';
      start = nl + 1;
    }
    const rest = text.slice(start);
    if (this.#overlong || this.#partial.length + rest.length > MAX_LINE) {
      this.#overlong = true;
      this.#partial = '';
    } else {
      this.#partial += rest;
    }
    return rows;
  }

  /** The output ended: the row of a last line without its newline, if any. */
  end(): SsRow[] {
    const rows: SsRow[] = [];
    if (this.#partial !== '' || this.#overlong) this.#line(this.#partial, rows);
    this.#partial = '';
    return rows;
  }

  #line(line: string, rows: SsRow[]): void {
    if (this.#overlong) {
      this.#overlong = false;
      this.skipped++;
      return;
    }
    if (line.trim() === '') return;
    const row = parseSsLine(line);
    if (row === undefined) this.skipped++;
    else rows.push(row);
  }
}

/** An address and port, as the view knows them. */
export interface SsEnd {
  /** The IP address. */
  address: string;
  /** The port. */
  port: number;
}

/** One connection to ask for: the server's side (`local`) and the client's (`remote`). */
export interface SsConnection {
  /** The server's end. */
  local: SsEnd;
  /** The client's end. */
  remote: SsEnd;
}

// Client ends at a leaf of the search, tested one after the other.
const LEAF_SIZE = 4;

/** The address as an `ss` filter spells it; undefined when it cannot name one host. */
function ssHost(address: string): string | undefined {
  const plain = address.replace(/^::ffff:(?=[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$)/i, '');
  if (/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(plain)) return plain === '0.0.0.0' ? undefined : plain;
  const bare = plain.replace(/%.*$/, '');
  if (/^[0-9A-Fa-f:.]+$/.test(bare) && bare.includes(':') && bare !== '::') return `[${bare}]`;
  return undefined;
}

/**
 * One client end as a leaf: the exact address and port, where the address names one host. An
 * IPv4-mapped address is given as plain IPv4, which the kernel's filter matches on both an IPv4
 * socket and a dual-stack (IPv6) socket holding the mapped address.
 */
function leaf(end: SsEnd, side: 'src' | 'dst'): string {
  const host = ssHost(end.address);
  return host === undefined
    ? `${side === 'src' ? 'sport' : 'dport'} = :${end.port}`
    : `${side} ${host}:${end.port}`;
}

// A binary search over the client ends, sorted by port: each step costs the kernel one test.
function search(ends: readonly SsEnd[], side: 'src' | 'dst'): string {
  const ports = [...new Set(ends.map((e) => e.port))];
  if (ends.length <= LEAF_SIZE || ports.length < 2) {
    return `( ${ends.map((e) => leaf(e, side)).join(' or ')} )`;
  }
  const pivot = ports[Math.floor(ports.length / 2)] as number;
  const word = side === 'src' ? 'sport' : 'dport';
  const low = ends.filter((e) => e.port < pivot);
  const high = ends.filter((e) => e.port >= pivot);
  return `( ( ${word} < :${pivot} and ${search(low, side)} ) or ( ${word} >= :${pivot} and ${search(high, side)} ) )`;
}

/**
 * The `ss` filter expression that matches the sockets of both ends of each connection (the
 * server's row: source port the server's, destination the client's; the client's row the other
 * way round, when the client is on this machine) and the LISTEN sockets of `listening`. Empty
 * when there is nothing to ask for. Rows of other connections sharing the ports may match too:
 * the reader keeps only those whose addresses are wanted.
 */
export function ssFilter(connections: readonly SsConnection[], listening: readonly SsEnd[]): string {
  const byServerPort = new Map<number, SsEnd[]>();
  for (const { local, remote } of connections) {
    let list = byServerPort.get(local.port);
    if (list === undefined) {
      list = [];
      byServerPort.set(local.port, list);
    }
    list.push(remote);
  }
  const terms: string[] = [];
  for (const [port, clients] of byServerPort) {
    const seen = new Set<string>();
    const unique = clients.filter((c) => {
      const key = `${c.address}|${c.port}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    unique.sort((a, b) => a.port - b.port);
    terms.push(`( sport = :${port} and ${search(unique, 'dst')} )`);
    terms.push(`( dport = :${port} and ${search(unique, 'src')} )`);
  }
  // A listener has no peer: its destination port is 0, which no connected socket has.
  for (const port of new Set(listening.map((l) => l.port))) terms.push(`( sport = :${port} and dport = :0 )`);
  return terms.join(' or ');
}

function family(address: string): '4' | '6' | undefined {
  if (/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(address)) return '4';
  // An IPv4-mapped end is a dual-stack (IPv6) socket whose peer's own socket is IPv4: both.
  if (/^::ffff:[0-9.]+$/i.test(address)) return undefined;
  return /^[0-9A-Fa-f:]+(%.*)?$/.test(address) && address.includes(':') ? '6' : undefined;
}

/**
 * The one address family whose sockets hold every end asked for (`4`: `ss -4`, `6`: `ss -6`), or
 * undefined when both are needed (IPv4-mapped ends, or an address it cannot place). The kernel
 * walks its whole table once per family asked for, so one family halves the cost of a read.
 */
export function ssFamily(
  connections: readonly SsConnection[],
  listening: readonly SsEnd[],
): '4' | '6' | undefined {
  let found: '4' | '6' | undefined;
  for (const end of [...connections.flatMap((c) => [c.local, c.remote]), ...listening]) {
    const f = family(end.address);
    if (f === undefined || (found !== undefined && f !== found)) return undefined;
    found = f;
  }
  return found;
}
