/**
 * The kernel's socket tables, `/proc/net/tcp` and `/proc/net/tcp6` (also `udp`, `udp6`), as text:
 * a parser of one row into addresses and a state name, and the encoding of an address into the
 * table's own hex, so that a reader can match rows by their 4-tuple without parsing every row.
 * Pure: it reads no file.
 *
 * A row is `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`. An IPv4 address is one
 * 32-bit word printed in host byte order (127.0.0.1 is `0100007F` on little-endian machines), an
 * IPv6 address four such words, and a port four hex digits. A dual-stack socket lists its IPv4
 * peers as IPv4-mapped IPv6 addresses (`0000000000000000FFFF00000100007F`). Rows of sockets that
 * no process holds any more (TIME_WAIT, orphans) have inode 0.
 */

/** The kernel's TCP states by their number in the `st` column (include/net/tcp_states.h). */
export const TCP_STATES = {
  /** Connected: data flows both ways. */
  '01': 'ESTABLISHED',
  /** A client's SYN is out, no answer yet. */
  '02': 'SYN_SENT',
  /** A server got the SYN and answered SYN-ACK. */
  '03': 'SYN_RECV',
  /** Our FIN is out, not yet acknowledged. */
  '04': 'FIN_WAIT1',
  /** Our FIN is acknowledged; waiting for the peer's. */
  '05': 'FIN_WAIT2',
  /** Both sides closed; the closer waits out stray segments. */
  '06': 'TIME_WAIT',
  /** Closed (for UDP: an unconnected socket). */
  '07': 'CLOSE',
  /** The peer's FIN came in; our side is still open. */
  '08': 'CLOSE_WAIT',
  /** Our FIN followed the peer's; waiting for its acknowledgement. */
  '09': 'LAST_ACK',
  /** A listening socket. */
  '0A': 'LISTEN',
  /** Both sides sent FIN at once. */
  '0B': 'CLOSING',
  /** A request socket: a SYN answered, before the handshake completes (Linux's own state). */
  '0C': 'NEW_SYN_RECV',
} as const;

/** A Linux TCP state name, as `ss` and the kernel's headers spell it. */
export type TcpStateName = (typeof TCP_STATES)[keyof typeof TCP_STATES];

/**
 * What the view says of one end of a connection: the kernel's state, `gone` once the kernel has
 * no row for it, `unknown` where the kernel of this machine cannot say (the peer is on another
 * host, or there is neither `ss` nor /proc), or `unread` while no reading has covered it yet.
 */
export type KernelState = TcpStateName | 'gone' | 'unknown' | 'unread';

/** The byte order the kernel prints its address words in. */
export type ByteOrder = 'LE' | 'BE';

/** One parsed row of a socket table. */
export interface ProcNetRow {
  /** The local address, in its usual text form (`127.0.0.1`, `::1`, `::ffff:127.0.0.1`). */
  localAddress: string;
  /** The local port. */
  localPort: number;
  /** The remote address, in the same form (`0.0.0.0` on a listener). */
  remoteAddress: string;
  /** The remote port (`0` on a listener). */
  remotePort: number;
  /** The state number in hex, as printed (`0A`). */
  st: string;
  /** The state's name; for UDP rows the TCP names are what the kernel reuses (`CLOSE` = unconnected). */
  state: TcpStateName | 'UNKNOWN';
  /** Bytes in the send queue (a LISTEN row: 0). */
  txQueue: number;
  /** Bytes in the receive queue; on a LISTEN row, connections waiting to be accepted. */
  rxQueue: number;
  /** The socket's inode; `0` for a socket no process holds (TIME_WAIT, orphaned FIN_WAIT2). */
  inode: string;
  /** The raw hex `address:port` pair of each end, the key {@link procEndpoint} makes. */
  localKey: string;
  /** The same for the remote end. */
  remoteKey: string;
}

function wordToBytes(word: string, order: ByteOrder): number[] {
  const bytes = [0, 2, 4, 6].map((i) => Number.parseInt(word.slice(i, i + 2), 16));
  return order === 'LE' ? bytes.reverse() : bytes;
}

function bytesToWord(bytes: readonly number[], order: ByteOrder): string {
  const ordered = order === 'LE' ? [...bytes].reverse() : [...bytes];
  return ordered
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

/** Formats 16 bytes as an IPv6 address, shortest form (RFC 5952); IPv4-mapped as `::ffff:a.b.c.d`. */
export function formatIpv6(bytes: readonly number[]): string {
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // The longest run of two or more zero groups becomes `::`.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

/** Decodes a table's hex address (8 digits for IPv4, 32 for IPv6) into its text form. */
export function decodeProcAddress(hex: string, order: ByteOrder = 'LE'): string {
  if (hex.length === 8) return wordToBytes(hex, order).join('.');
  if (hex.length === 32) {
    const bytes: number[] = [];
    for (let i = 0; i < 32; i += 8) bytes.push(...wordToBytes(hex.slice(i, i + 8), order));
    return formatIpv6(bytes);
  }
  throw new RangeError(`not an address of /proc/net/tcp: '${hex}'`);
}

function parseIpv4(address: string): number[] | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^[0-9]{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : undefined;
}

function parseIpv6(address: string): number[] | undefined {
  let text = address;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = v4;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0] ?? '');
  const rest = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const bytes: number[] = [];
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const n = Number.parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/**
 * The address as the kernel table prints it, for matching: every form a socket of this address
 * can appear in. An IPv4 address appears as itself in `tcp` and IPv4-mapped in `tcp6` (a
 * dual-stack socket's view of it); an IPv4-mapped IPv6 address likewise both ways.
 */
export function encodeProcAddress(address: string, order: ByteOrder = 'LE'): string[] {
  const v4 = parseIpv4(address) ?? mappedIpv4(address);
  if (v4 !== undefined) {
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4];
    return [bytesToWord(v4, order), encodeIpv6Bytes(mapped, order)];
  }
  const v6 = parseIpv6(address.replace(/%.*$/, ''));
  return v6 === undefined ? [] : [encodeIpv6Bytes(v6, order)];
}

function encodeIpv6Bytes(bytes: readonly number[], order: ByteOrder): string {
  let hex = '';
  for (let i = 0; i < 16; i += 4) hex += bytesToWord(bytes.slice(i, i + 4), order);
  return hex;
}

function mappedIpv4(address: string): number[] | undefined {
  const match = /^::ffff:([0-9.]+)$/i.exec(address);
  return match?.[1] === undefined ? undefined : parseIpv4(match[1]);
}

/**
 * One spelling of an address for matching rows of either source (`/proc`, `ss`): IPv4 and
 * IPv4-mapped IPv6 as dotted IPv4, other IPv6 in its shortest form (RFC 5952) without a zone,
 * `*` (ss's wildcard) as `::`. Text that is no address comes back lower-cased.
 */
export function canonicalAddress(address: string): string {
  if (address === '*') return '::';
  const v4 = parseIpv4(address) ?? mappedIpv4(address);
  if (v4 !== undefined) return v4.join('.');
  const v6 = parseIpv6(address.replace(/%.*$/, ''));
  if (v6 === undefined) return address.toLowerCase();
  if (v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff)
    return v6.slice(12).join('.');
  return formatIpv6(v6);
}

/** An address without its IPv4-mapped prefix: `::ffff:127.0.0.1` → `127.0.0.1`. */
export function plainAddress(address: string): string {
  // Called for every connection the view sees: a prefix test before any regular expression.
  if (address.length < 8 || address.charCodeAt(0) !== 58) return address;
  const match = /^::ffff:([0-9.]+)$/i.exec(address);
  return match?.[1] ?? address;
}

/** The keys of an `address:port` end as a table prints it (`0100007F:4B5A`, and its tcp6 form). */
export function procEndpoint(address: string, port: number, order: ByteOrder = 'LE'): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return encodeProcAddress(address, order).map((a) => `${a}:${hexPort}`);
}

/**
 * The raw `local` and `remote` fields of a row, without parsing anything else: what a reader uses
 * to find the rows it wants among many. Undefined for the header or a malformed line.
 */
export function rowEnds(line: string): { local: string; remote: string } | undefined {
  const colon = line.indexOf(':');
  if (colon < 0) return undefined;
  let i = colon + 1;
  while (line.charCodeAt(i) === 32) i++;
  const localEnd = line.indexOf(' ', i);
  if (localEnd < 0) return undefined;
  let j = localEnd;
  while (line.charCodeAt(j) === 32) j++;
  const remoteEnd = line.indexOf(' ', j);
  if (remoteEnd < 0) return undefined;
  const local = line.slice(i, localEnd);
  const remote = line.slice(j, remoteEnd);
  if (!local.includes(':') || !remote.includes(':')) return undefined;
  return { local, remote };
}

/** Parses one row of `/proc/net/{tcp,tcp6,udp,udp6}`; undefined for the header or a malformed line. */
export function parseProcNetRow(line: string, order: ByteOrder = 'LE'): ProcNetRow | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 10 || !/^\d+:$/.test(fields[0] ?? '')) return undefined;
  const [, local = '', remote = '', st = '', queues = ''] = fields;
  const inode = fields[9] ?? '';
  const end = (text: string) => {
    const [hex = '', port = ''] = text.split(':');
    if (!/^[0-9A-Fa-f]{4}$/.test(port) || !/^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32})$/.test(hex)) return undefined;
    return { address: decodeProcAddress(hex.toUpperCase(), order), port: Number.parseInt(port, 16) };
  };
  const l = end(local);
  const r = end(remote);
  const [tx = '', rx = ''] = queues.split(':');
  if (l === undefined || r === undefined || !/^[0-9A-Fa-f]{2}$/.test(st) || !/^\d+$/.test(inode)) {
    return undefined;
  }
  const code = st.toUpperCase();
  return {
    localAddress: l.address,
    localPort: l.port,
    remoteAddress: r.address,
    remotePort: r.port,
    st: code,
    state: Object.hasOwn(TCP_STATES, code) ? TCP_STATES[code as keyof typeof TCP_STATES] : 'UNKNOWN',
    txQueue: Number.parseInt(tx, 16) || 0,
    rxQueue: Number.parseInt(rx, 16) || 0,
    inode,
    localKey: local.toUpperCase(),
    remoteKey: remote.toUpperCase(),
  };
}

/** Parses a whole table (its header line is skipped). */
export function parseProcNetTable(text: string, order: ByteOrder = 'LE'): ProcNetRow[] {
  const rows: ProcNetRow[] = [];
  for (const line of text.split('\n')) {
    const row = parseProcNetRow(line, order);
    if (row !== undefined) rows.push(row);
  }
  return rows;
}
