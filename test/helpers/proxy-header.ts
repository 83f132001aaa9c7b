/**
 * PROXY protocol headers for tests: HAProxy's captured bytes (test/fixtures/proxy/), a v2 encoder
 * that can also lie (wrong lengths, cut TLVs, bad checksums), an independent whole-buffer reference
 * check to compare the streaming parser with, and a seeded PRNG.
 */
import { readFileSync } from 'node:fs';
import { isIPv6, SocketAddress } from 'node:net';
import { crc32c } from '../../src/protocol/crc32c.js';
import { ROOT } from './process.js';

/** The v2 signature. */
export const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** The folder of the captured headers. */
export const FIXTURE_DIR = `${ROOT}test/fixtures/proxy/`;

/** What every client case of the capture sent after connecting (see the fixtures' README). */
export const CLIENT_TEXT = "Hi. I'm Bob.\n";

/** A captured connection's first bytes: `test/fixtures/proxy/<name>.bin`. */
export function fixture(name: string): Buffer {
  return readFileSync(`${FIXTURE_DIR}${name}.bin`);
}

/** From the capture's haproxy.cfg.txt: each frontend's bind port and each backend's server port. */
export function captureConfig(): { frontendPort: Map<string, number>; serverPort: Map<string, number> } {
  const frontendPort = new Map<string, number>();
  const serverPort = new Map<string, number>();
  let section = '';
  for (const line of readFileSync(`${FIXTURE_DIR}haproxy.cfg.txt`, 'utf8').split('\n')) {
    const head = /^(frontend|backend) (fe_|be_)(\S+)$/.exec(line);
    if (head !== null) section = `${head[1]}:${head[3]}`;
    const bind = /^\s+bind \S+:(\d+)$/.exec(line);
    if (bind !== null && section.startsWith('frontend:')) frontendPort.set(section.slice(9), Number(bind[1]));
    const server = /^\s+server \S+ \S+:(\d+) /.exec(line);
    if (server !== null && section.startsWith('backend:'))
      serverPort.set(section.slice(8), Number(server[1]));
  }
  return { frontendPort, serverPort };
}

/** One TLV: type, 2-byte big-endian length, value. */
export function tlv(type: number, value: Uint8Array | string, length?: number): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(length ?? bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** The 12-byte address block of TCP/UDP over IPv4. */
export function ipv4Block(src: string, dst: string, sport: number, dport: number): Buffer {
  const block = Buffer.alloc(12);
  Buffer.from(src.split('.').map(Number)).copy(block, 0);
  Buffer.from(dst.split('.').map(Number)).copy(block, 4);
  block.writeUInt16BE(sport, 8);
  block.writeUInt16BE(dport, 10);
  return block;
}

/** The 36-byte address block of TCP/UDP over IPv6 (addresses as 32 hex digits). */
export function ipv6Block(srcHex: string, dstHex: string, sport: number, dport: number): Buffer {
  const block = Buffer.alloc(36);
  Buffer.from(srcHex, 'hex').copy(block, 0);
  Buffer.from(dstHex, 'hex').copy(block, 16);
  block.writeUInt16BE(sport, 32);
  block.writeUInt16BE(dport, 34);
  return block;
}

/** A v2 header to build; anything may be set to a value the spec forbids. */
export interface V2Spec {
  /** The 13th byte. @default 0x21 (version 2, PROXY) */
  versionCommand?: number;
  /** The 14th byte. @default 0x11 (TCP over IPv4) */
  family?: number;
  /** The address block. @default an IPv4 block 192.0.2.1:56324 -> 198.51.100.7:443 */
  addresses?: Uint8Array;
  /** Encoded TLVs (see {@link tlv}), in order. */
  tlvs?: readonly Uint8Array[];
  /** Adds a CRC32C TLV (last) with the correct checksum, or with this wrong value. */
  crc32c?: true | number;
  /** Overrides the length field (to make it lie). */
  length?: number;
}

/** Encodes a v2 header. */
export function encodeV2(spec: V2Spec = {}): Buffer {
  const addresses = Buffer.from(spec.addresses ?? ipv4Block('192.0.2.1', '198.51.100.7', 56324, 443));
  const tlvs: Buffer[] = (spec.tlvs ?? []).map((t) => Buffer.from(t));
  if (spec.crc32c !== undefined) tlvs.push(tlv(0x03, Buffer.alloc(4)));
  const body = Buffer.concat([addresses, ...tlvs]);
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head);
  head[12] = spec.versionCommand ?? 0x21;
  head[13] = spec.family ?? 0x11;
  head.writeUInt16BE(spec.length ?? body.length, 14);
  const header = Buffer.concat([head, body]);
  if (spec.crc32c !== undefined) {
    const value = spec.crc32c === true ? crc32c(header) : spec.crc32c;
    header.writeUInt32BE(value >>> 0, header.length - 4);
  }
  return header;
}

/** A seeded PRNG (mulberry32): the same seed gives the same numbers, so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The verdict of {@link referenceCheck}. */
export type ReferenceVerdict =
  | { valid: true; length: number; source?: { address: string; port: number } }
  | { valid: false }
  | { valid: 'incomplete' };

const V4 =
  '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}';
const PORT = '(?:0|[1-9][0-9]{0,4})';
const V1_TCP4 = new RegExp(`^PROXY TCP4 (${V4}) (${V4}) (${PORT}) (${PORT})\r\n`);
const V1_TCP6 = new RegExp(`^PROXY TCP6 ([0-9a-fA-F:.]+) ([0-9a-fA-F:.]+) (${PORT}) (${PORT})\r\n`);
const V1_UNKNOWN = /^PROXY UNKNOWN(?: [\x20-\x7e]*)?\r\n/;

/**
 * An independent, whole-buffer check of the spec's rules, written differently from the parser
 * (regular expressions and `node:net`), to compare the parser's verdicts with. For a complete
 * header it gives its length and the source it names; `'incomplete'` when `bytes` is a proper
 * prefix of a header that could still be valid (it does not decide early refusals).
 */
export function referenceCheck(bytes: Buffer, maxV2Length: number): ReferenceVerdict {
  if (bytes.subarray(0, 12).equals(V2_SIGNATURE) && bytes.length >= 16)
    return referenceV2(bytes, maxV2Length);
  if (V2_SIGNATURE.subarray(0, bytes.length).equals(bytes.subarray(0, 12))) return { valid: 'incomplete' };
  const crlf = bytes.indexOf('\r\n');
  if (crlf === -1 || crlf + 2 > 107) return { valid: bytes.length < 107 ? 'incomplete' : false };
  const line = bytes.subarray(0, crlf + 2).toString('latin1');
  // Only printable ASCII before the CRLF.
  if (!/^[\x20-\x7e]*\r\n$/.test(line)) return { valid: false };
  const ports = (a: string | undefined, b: string | undefined) => Number(a) <= 65535 && Number(b) <= 65535;
  const tcp4 = V1_TCP4.exec(line);
  if (tcp4 !== null) {
    return ports(tcp4[3], tcp4[4])
      ? { valid: true, length: crlf + 2, source: { address: tcp4[1] ?? '', port: Number(tcp4[3]) } }
      : { valid: false };
  }
  const tcp6 = V1_TCP6.exec(line);
  if (tcp6 !== null) {
    const [src, dst] = [tcp6[1] ?? '', tcp6[2] ?? ''];
    if (!isIPv6(src) || !isIPv6(dst) || !ports(tcp6[3], tcp6[4])) return { valid: false };
    const address = new SocketAddress({ address: src, family: 'ipv6' }).address;
    return { valid: true, length: crlf + 2, source: { address, port: Number(tcp6[3]) } };
  }
  if (V1_UNKNOWN.test(line)) return { valid: true, length: crlf + 2 };
  return { valid: false };
}

function referenceV2(bytes: Buffer, maxV2Length: number): ReferenceVerdict {
  const versionCommand = bytes[12] ?? 0;
  const family = bytes[13] ?? 0;
  const length = bytes.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return { valid: false };
  const command = versionCommand & 15;
  if (command > 1 || length > maxV2Length) return { valid: false };
  const sizes: Record<number, number> = { 0: 0, 17: 12, 18: 12, 33: 36, 34: 36, 49: 216, 50: 216 };
  const addressLength = sizes[family];
  if (command === 1 && addressLength === undefined) return { valid: false };
  if (command === 1 && length < (addressLength ?? 0)) return { valid: false };
  if (bytes.length < 16 + length) return { valid: 'incomplete' };
  const total = 16 + length;
  if (command === 0 || family === 0) return { valid: true, length: total };
  // TLVs: whole, no repeats of the reported types, limits, and a correct CRC32C.
  const seen = new Set<number>();
  let at = 16 + (addressLength ?? 0);
  while (at < total) {
    if (at + 3 > total) return { valid: false };
    const type = bytes[at] ?? 0;
    const size = bytes.readUInt16BE(at + 1);
    if (at + 3 + size > total) return { valid: false };
    if ([0x01, 0x02, 0x03, 0x05, 0x30].includes(type)) {
      if (seen.has(type)) return { valid: false };
      seen.add(type);
    }
    if ((type === 0x02 && size > 255) || (type === 0x05 && size > 128) || (type === 0x03 && size !== 4)) {
      return { valid: false };
    }
    if (type === 0x03) {
      const copy = Buffer.from(bytes.subarray(0, total));
      const stated = copy.readUInt32BE(at + 3);
      copy.writeUInt32BE(0, at + 3);
      if (crc32c(copy) !== stated) return { valid: false };
    }
    at += 3 + size;
  }
  if (family === 0x11) {
    const address = [...bytes.subarray(16, 20)].join('.');
    return { valid: true, length: total, source: { address, port: bytes.readUInt16BE(24) } };
  }
  if (family === 0x21) {
    const hex = bytes.subarray(16, 32).toString('hex');
    const text = hex.match(/.{4}/g)?.join(':') ?? '';
    const address = new SocketAddress({ address: text, family: 'ipv6' }).address;
    return { valid: true, length: total, source: { address, port: bytes.readUInt16BE(48) } };
  }
  return { valid: true, length: total };
}
