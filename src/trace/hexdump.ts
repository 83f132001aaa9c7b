/**
 * Bytes as `hexdump -C` prints them, and the line that heads each block of `--hex`. Pure: it
 * imports nothing from Node, so that the live page draws a connection's bytes with the same code.
 *
 * A line is the offset (8 hex digits), two spaces, 16 bytes in hex with one more space after the
 * 8th, and the bytes again between `|` and `|`, printable ASCII as itself and every other byte as
 * `.`; a short last line is padded so that its `|` column lines up. The final line is the offset
 * one past the last byte. `hexdump -C` also collapses a run of lines equal to the one before into
 * one `*`: {@link HexdumpOptions.squeeze} does the same, and is off by default (as `hexdump -C
 * -v`), because a dump of a conversation is read for its bytes and a `*` hides where they are.
 */
import type { TraceAddress, TraceLanguage, TraceRole, TraceTransport } from './schema.js';

/** Bytes on one line of a dump. */
export const HEX_LINE_BYTES = 16;

/** Options of {@link formatHexdump}. */
export interface HexdumpOptions {
  /**
   * The offset of the first byte, as `hexdump -C -s OFFSET` counts it: `--hex` counts bytes per
   * connection and direction, so that a later read's lines go on from where the previous ended.
   * @default 0
   */
  offset?: number;
  /**
   * Collapse each run of lines equal to the line before into one `*` line, as `hexdump -C` does.
   * @default false (every line, as `hexdump -C -v`)
   */
  squeeze?: boolean;
}

const DIGITS = '0123456789abcdef';
const SPACE = 0x20;
const BAR = 0x7c;
const STAR = 0x2a;
const NEWLINE = 0x0a;
const DOT = 0x2e;
// A full line: offset, a space, 49 columns of hex, two spaces, |16 bytes|, newline.
const HEX_COLUMNS = 49;

// The two ASCII hex digits of each byte value, side by side.
const HEX_CODES = new Uint8Array(512);
for (let byte = 0; byte < 256; byte++) {
  HEX_CODES[2 * byte] = DIGITS.charCodeAt(byte >> 4);
  HEX_CODES[2 * byte + 1] = DIGITS.charCodeAt(byte & 15);
}

const DIGIT_CODES = Uint8Array.from(DIGITS, (c) => c.charCodeAt(0));

// Writes `offset` in hex, at least 8 digits, at `at`; returns where it ended.
function putOffset(out: Uint8Array, at: number, offset: number): number {
  if (offset < 2 ** 32) {
    let v = offset >>> 0;
    for (let k = at + 7; k >= at; k--) {
      out[k] = DIGIT_CODES[v & 15] as number;
      v >>>= 4;
    }
    return at + 8;
  }
  const text = offset.toString(16);
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

function offsetLength(offset: number): number {
  return offset < 2 ** 32 ? 8 : offset.toString(16).length;
}

// Writes one line (up to 16 bytes of `bytes` from `start`, at stream offset `offset`) into `out`,
// which is filled with spaces already; returns its end.
function putLine(out: Uint8Array, at: number, bytes: Uint8Array, start: number, offset: number): number {
  const n = Math.min(HEX_LINE_BYTES, bytes.length - start);
  const hex = putOffset(out, at, offset) + 1;
  const ascii = hex + HEX_COLUMNS + 3;
  for (let j = 0; j < n; j++) {
    const byte = bytes[start + j] as number;
    // A space and two digits a byte, and one space more after the 8th.
    const p = hex + 3 * j + (j >= 8 ? 2 : 1);
    out[p] = HEX_CODES[2 * byte] as number;
    out[p + 1] = HEX_CODES[2 * byte + 1] as number;
    // Printable ASCII (0x20 to 0x7e) as itself, everything else as '.', as hexdump -C shows it.
    out[ascii + j] = byte >= 0x20 && byte <= 0x7e ? byte : DOT;
  }
  out[ascii - 1] = BAR;
  out[ascii + n] = BAR;
  out[ascii + n + 1] = NEWLINE;
  return ascii + n + 2;
}

function sameLine(bytes: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < HEX_LINE_BYTES; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/**
 * The dump of `bytes` as {@link formatHexdump} gives it, as ASCII bytes: what a program writes,
 * without making a string of it (a dump is about five times the bytes it shows).
 */
export function hexdumpBytes(bytes: Uint8Array, options: HexdumpOptions = {}): Uint8Array {
  const base = options.offset ?? 0;
  if (bytes.length === 0 && base === 0) return new Uint8Array(0);
  const squeeze = options.squeeze ?? false;
  // Which lines are printed: a line's start, or -1 for a '*'.
  const starts: number[] = [];
  let size = 0;
  let squeezing = false;
  for (let start = 0; start < bytes.length; start += HEX_LINE_BYTES) {
    const full = start + HEX_LINE_BYTES <= bytes.length;
    if (squeeze && full && start > 0 && sameLine(bytes, start, start - HEX_LINE_BYTES)) {
      if (!squeezing) {
        starts.push(-1);
        size += 2;
      }
      squeezing = true;
      continue;
    }
    squeezing = false;
    starts.push(start);
    const n = Math.min(HEX_LINE_BYTES, bytes.length - start);
    size += offsetLength(base + start) + 1 + HEX_COLUMNS + 3 + n + 2;
  }
  size += offsetLength(base + bytes.length) + 1;
  const out = new Uint8Array(size).fill(SPACE);
  let at = 0;
  for (const start of starts) {
    if (start === -1) {
      out[at++] = STAR;
      out[at++] = NEWLINE;
    } else {
      at = putLine(out, at, bytes, start, base + start);
    }
  }
  at = putOffset(out, at, base + bytes.length);
  out[at] = NEWLINE;
  return out;
}

/**
 * The dump of `bytes` in the layout of `hexdump -C`, each line ending in `\n`, with the final
 * offset line. Nothing at all for no bytes at offset 0, as `hexdump -C` prints for an empty file.
 */
export function formatHexdump(bytes: Uint8Array, options: HexdumpOptions = {}): string {
  return new TextDecoder().decode(hexdumpBytes(bytes, options));
}

/** Which way bytes went: read from the peer, or written to it. */
export type DumpDirection = 'read' | 'write';

/** What a dump's heading names: the connection, the peer and which way the bytes went. */
export interface DumpHeading {
  /** TCP or UDP. */
  transport: TraceTransport;
  /** Whether the bytes are our server's or our client's. */
  role: TraceRole;
  /** The connection's number (TCP servers number them from 1), when there is one. */
  connection?: number | undefined;
  /** Read or written. */
  direction: DumpDirection;
  /** The peer: the client for a server, the server for a client. */
  remote?: TraceAddress | undefined;
  /** On a Unix socket (whose peer has no address): its path, shown where the peer's address would be. */
  path?: string | undefined;
  /** How many bytes. */
  length: number;
}

const ROLE_WORD: Record<TraceLanguage, Record<TraceRole, string>> = {
  en: { server: 'server', client: 'client' },
  ko: { server: '서버', client: '클라이언트' },
};

function peerText(a: TraceAddress | undefined): string {
  if (a === undefined) return '?';
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/**
 * The line above a block of `--hex`: the connection, an arrow the way the bytes went, and what
 * happened: `[#3 127.0.0.1:5123 → server] read 13 bytes`, `[#3 server → 127.0.0.1:5123] wrote
 * 13 bytes`; in Korean `[#3 127.0.0.1:5123 → 서버] 13바이트 읽음`, `... 13바이트 씀`. A UDP
 * datagram says `received` and `sent` (`수신`, `송신`). No trailing newline.
 */
export function formatDumpHeading(heading: DumpHeading, lang: TraceLanguage = 'en'): string {
  const id = heading.connection === undefined ? '' : `#${heading.connection} `;
  const us = ROLE_WORD[lang][heading.role];
  const peer =
    heading.remote === undefined && heading.path !== undefined ? heading.path : peerText(heading.remote);
  const path = heading.direction === 'read' ? `${peer} → ${us}` : `${us} → ${peer}`;
  const n = heading.length;
  const udp = heading.transport === 'udp';
  if (lang === 'ko') {
    const verb = heading.direction === 'read' ? (udp ? '수신' : '읽음') : udp ? '송신' : '씀';
    return `[${id}${path}] ${n}바이트 ${verb}`;
  }
  const verb = heading.direction === 'read' ? (udp ? 'received' : 'read') : udp ? 'sent' : 'wrote';
  return `[${id}${path}] ${verb} ${n === 1 ? '1 byte' : `${n} bytes`}`;
}
