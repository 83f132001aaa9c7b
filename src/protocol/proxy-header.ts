/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a load balancer
 * puts before a client's bytes to say who the client is. Pure: no sockets here.
 *
 * {@link ProxyHeaderParser} takes the stream's first chunks one at a time and says when the header
 * is complete, how many bytes of the last chunk follow it (the service's), or why it is refused,
 * with a stable {@link ProxyHeaderFailure} code. It never reads past the header, never throws on
 * any input, holds at most 107 bytes (v1) or 16 + `maxV2Length` bytes (v2), and refuses as early
 * as a byte makes the header impossible. {@link proxyHeaderPrefix} adapts it to `readPrefix`.
 *
 * What it accepts:
 * - v1: `PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n` with single spaces, strict addresses of
 *   the named family (dotted quads without leading zeros; IPv6 with at most one `::`, a dotted
 *   IPv4 tail allowed, no zone), ports 0-65535 without leading zeros, at most 107 bytes in all,
 *   printable US-ASCII only; `PROXY UNKNOWN` followed by anything printable up to the CRLF.
 *   A CR not followed by LF, or a LF without its CR, is refused wherever it is.
 * - v2: version 2 only; LOCAL with any family (the spec: the family is ignored) and PROXY with a
 *   family the spec defines. TCP over IPv4/IPv6 gives the addresses. UNSPEC, UDP and UNIX fall back
 *   to the real endpoints, as the spec asks of a receiver that does not support them; for UDP and
 *   UNIX the address block (12, 36 or 216 bytes) must still fit the length. After the address
 *   block of a PROXY header the rest must be whole TLVs; a CRC32C TLV is verified. Nothing after
 *   the length field of a LOCAL or UNSPEC header is interpreted: the spec has no layout for it.
 *
 * A header that says "use the real endpoints" (v1 UNKNOWN, v2 LOCAL, UNSPEC, UDP, UNIX) has no
 * `source`. Whether the peer may send a header at all is the server's question (trusted proxies).
 */
import { DEFAULT_PROXY_V2_MAX_LENGTH } from '../defaults.js';
import { ProxyHeaderError, ProxyHeaderFailure } from '../errors.js';
import { formatIPv4, formatIPv6, parseDecimal, parseIPv4, parseIPv6 } from '../ip-address.js';
import type { TraceAddress } from '../trace/schema.js';
import { validateInteger } from '../validate.js';
import { crc32c } from './crc32c.js';
import type { PrefixResult } from './prefix-result.js';

// The failure codes live with the errors (errors.ts imports nothing of the project's); the
// protocol's name for them stays here too.
export { ProxyHeaderFailure } from '../errors.js';

/**
 * What a header says the proxied connection was. `'unknown'` for v1 `UNKNOWN`, v2 `UNSPEC`, and a
 * v2 LOCAL header with an unassigned family byte.
 */
export type ProxyHeaderFamily = 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix-stream' | 'unix-dgram' | 'unknown';

/** Registered v2 TLV types (proxy-protocol.txt 2.2). */
export const ProxyTlvType = {
  /** PP2_TYPE_ALPN: the application protocol the client negotiated (`h2`). */
  Alpn: 0x01,
  /** PP2_TYPE_AUTHORITY: the host name the client asked for (TLS SNI). */
  Authority: 0x02,
  /** PP2_TYPE_CRC32C: a CRC-32C of the whole header, checked when present. */
  Crc32c: 0x03,
  /** PP2_TYPE_NOOP: padding, to be ignored. */
  Noop: 0x04,
  /** PP2_TYPE_UNIQUE_ID: the proxy's own ID of the connection. */
  UniqueId: 0x05,
  /** PP2_TYPE_SSL: facts about the client's TLS session. */
  Ssl: 0x20,
  /** PP2_TYPE_NETNS: the network namespace the connection came from. */
  Netns: 0x30,
} as const;

/** The TLVs of a v2 header: every type seen, and the values this library reads. */
export interface ProxyHeaderTlvs {
  /** The type of each TLV, in order (custom and unknown types too). Empty for v1. */
  types: readonly number[];
  /** PP2_TYPE_ALPN, decoded as UTF-8. */
  alpn?: string;
  /** PP2_TYPE_AUTHORITY (the host name the client asked for, e.g. TLS SNI), UTF-8, at most 255 bytes. */
  authority?: string;
  /** PP2_TYPE_UNIQUE_ID (opaque, at most 128 bytes), decoded as UTF-8 (HAProxy's are ASCII). */
  uniqueId?: string;
  /** PP2_TYPE_NETNS, the network namespace's name. */
  netns?: string;
  /** The PP2_TYPE_CRC32C value, when present; it has been verified against the header. */
  crc32c?: number;
}

/** A complete, valid PROXY protocol header. */
export interface ProxyHeader {
  /** 1 for the text header, 2 for the binary one. */
  version: 1 | 2;
  /** `'local'`: a v2 LOCAL header (a proxy's health check); v1 headers are always `'proxy'`. */
  command: 'proxy' | 'local';
  /** What the proxied connection was, as the header says. */
  family: ProxyHeaderFamily;
  /**
   * The client, when the header names one (PROXY over TCP4/TCP6); `undefined` means "use the real
   * endpoints". IPv6 is in canonical form (`::1`, `::ffff:127.0.0.1`), as Node prints addresses.
   */
  source?: TraceAddress;
  /** The address the client connected to (the proxy's frontend), when `source` is set. */
  destination?: TraceAddress;
  /** The v2 TLVs after the address block (none for v1, LOCAL and UNSPEC). */
  tlvs: ProxyHeaderTlvs;
  /** The header's size in bytes. */
  length: number;
}

/** A refused header: why (a stable code) and a message for people. */
export interface ProxyHeaderRejection {
  /** `'error'`: the header is refused, the connection is to be closed. */
  done: 'error';
  /** Why, as a stable code. */
  reason: ProxyHeaderFailure;
  /** Why, for people. */
  message: string;
}

/**
 * What {@link ProxyHeaderParser.push} says about the bytes so far: more needed, a complete header
 * (and how many bytes at the end of the last chunk follow it), or a refusal.
 */
export type ProxyHeaderResult = PrefixResult<ProxyHeader> | ProxyHeaderRejection;

/** Options of a {@link ProxyHeaderParser}. */
export interface ProxyHeaderParserOptions {
  /**
   * The largest length a v2 header may announce (it is 16 + this many bytes); larger is refused as
   * `'v2-too-long'` as soon as the length field arrives. From 0 to 65535.
   * @default 2048
   */
  maxV2Length?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const V1_PREFIX = Uint8Array.from(Buffer.from('PROXY ', 'ascii'));
const V1_MAX_LENGTH = 107;
const V1_PROTOCOLS = ['TCP4', 'TCP6', 'UNKNOWN'] as const;
type V1Protocol = (typeof V1_PROTOCOLS)[number];
const V2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
const V2_FIXED_LENGTH = 16;
const V2_COMMAND_LOCAL = 0x0;
const V2_COMMAND_PROXY = 0x1;
const AUTHORITY_MAX_LENGTH = 255;
const UNIQUE_ID_MAX_LENGTH = 128;

/** The families a v2 PROXY header may carry, and the size of their address blocks. */
const V2_FAMILIES: ReadonlyMap<number, { family: ProxyHeaderFamily; addressLength: number }> = new Map([
  [0x00, { family: 'unknown', addressLength: 0 }],
  [0x11, { family: 'tcp4', addressLength: 12 }],
  [0x12, { family: 'udp4', addressLength: 12 }],
  [0x21, { family: 'tcp6', addressLength: 36 }],
  [0x22, { family: 'udp6', addressLength: 36 }],
  [0x31, { family: 'unix-stream', addressLength: 216 }],
  [0x32, { family: 'unix-dgram', addressLength: 216 }],
]);

const NEED_MORE: PrefixResult<ProxyHeader> = Object.freeze({ done: false });
const NO_TLVS: ProxyHeaderTlvs = Object.freeze({ types: Object.freeze([]) });
const utf8 = new TextDecoder('utf-8');

type Step = ProxyHeader | ProxyHeaderRejection | undefined;

function reject(reason: ProxyHeaderFailure, message: string): ProxyHeaderRejection {
  return { done: 'error', reason, message };
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * Reads one PROXY protocol header (v1 or v2, told apart by the first byte) from chunks pushed in
 * stream order. One parser per connection; once it has an answer it keeps giving it.
 */
export class ProxyHeaderParser {
  /** The v2 length bound in use. */
  readonly maxV2Length: number;
  #version: 0 | 1 | 2 = 0;
  #bytes: Uint8Array = new Uint8Array(0);
  #length = 0;
  /** v2: the header's full size, once the length field is in. */
  #total = 0;
  /** v1: the index of the field being read (0 is `PROXY`), where it starts, and the fields so far. */
  #field = 1;
  #fieldStart = V1_PREFIX.length;
  readonly #fields: string[] = [];
  #protocol: V1Protocol | undefined;
  #final: ProxyHeaderResult | undefined;

  constructor(options: ProxyHeaderParserOptions = {}) {
    this.maxV2Length = validateInteger(
      options.maxV2Length ?? DEFAULT_PROXY_V2_MAX_LENGTH,
      'PROXY v2 max length',
      0,
      0xffff,
    );
  }

  /** Bytes of an unfinished header held now. */
  get bufferedBytes(): number {
    return this.#final === undefined ? this.#length : 0;
  }

  /**
   * Adds the next chunk of the stream. Returns `{ done: false }` while the header is incomplete,
   * `{ done: true, value, unused }` once it is (the last `unused` bytes of this chunk come after
   * it), or `{ done: 'error', reason, message }`. Pushing after that repeats the answer (with all
   * of the new chunk unused, after a header).
   */
  push(chunk: Uint8Array): ProxyHeaderResult {
    if (this.#final !== undefined) {
      return this.#final.done === true ? { ...this.#final, unused: chunk.length } : this.#final;
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.#version === 2 && this.#length >= V2_FIXED_LENGTH) {
        const take = Math.min(this.#total - this.#length, chunk.length - i);
        this.#bytes.set(chunk.subarray(i, i + take), this.#length);
        this.#length += take;
        i += take;
        if (this.#length === this.#total) return this.#finish(this.#parseV2(), chunk.length - i);
        continue;
      }
      const byte = chunk[i] ?? 0;
      i++;
      const step =
        this.#version === 1
          ? this.#v1Byte(byte)
          : this.#version === 2
            ? this.#v2Byte(byte)
            : this.#firstByte(byte);
      if (step !== undefined) return this.#finish(step, chunk.length - i);
    }
    return NEED_MORE;
  }

  #finish(step: ProxyHeader | ProxyHeaderRejection, unused: number): ProxyHeaderResult {
    this.#bytes = new Uint8Array(0);
    this.#final = 'done' in step ? step : { done: true, value: step, unused };
    return this.#final;
  }

  #firstByte(byte: number): Step {
    if (byte === V1_PREFIX[0]) {
      this.#version = 1;
      this.#bytes = new Uint8Array(V1_MAX_LENGTH);
    } else if (byte === V2_SIGNATURE[0]) {
      this.#version = 2;
      this.#bytes = new Uint8Array(V2_FIXED_LENGTH);
    } else {
      return reject(ProxyHeaderFailure.NotProxy, `not a PROXY protocol header: it starts with ${hex(byte)}`);
    }
    this.#bytes[0] = byte;
    this.#length = 1;
    return undefined;
  }

  // ---- v1 ----

  #v1Byte(byte: number): Step {
    const position = this.#length;
    if (position < V1_PREFIX.length) {
      if (byte !== V1_PREFIX[position]) {
        return reject(
          ProxyHeaderFailure.NotProxy,
          `not a PROXY protocol header: byte ${position} is ${hex(byte)}, not "PROXY "`,
        );
      }
      this.#bytes[this.#length++] = byte;
      return undefined;
    }
    const previous = this.#bytes[position - 1];
    this.#bytes[this.#length++] = byte;
    if (previous === CR) {
      if (byte !== LF) return reject(ProxyHeaderFailure.V1Malformed, 'v1: a CR not followed by LF');
      return this.#v1Header();
    }
    if (byte === LF) return reject(ProxyHeaderFailure.V1Malformed, 'v1: a LF without a CR before it');
    if (this.#length >= V1_MAX_LENGTH) {
      return reject(ProxyHeaderFailure.V1TooLong, `v1: no CRLF within ${V1_MAX_LENGTH} bytes`);
    }
    if (byte === CR || byte === SPACE) return this.#v1EndField(position, byte === CR);
    if (byte < SPACE || byte > 0x7e) {
      return reject(
        ProxyHeaderFailure.V1Malformed,
        `v1: byte ${position} is ${hex(byte)}, not printable ASCII`,
      );
    }
    return this.#v1Char(byte, position);
  }

  /** Refuses a character that cannot belong to the field being read, without waiting for the CRLF. */
  #v1Char(byte: number, position: number): Step {
    if (this.#protocol === 'UNKNOWN') return undefined;
    if (this.#field === 1) {
      const sofar = this.#text(this.#fieldStart, position + 1);
      if (!V1_PROTOCOLS.some((p) => p.startsWith(sofar))) {
        return reject(ProxyHeaderFailure.V1Malformed, `v1: unknown protocol "${sofar}..."`);
      }
      return undefined;
    }
    if (this.#field > 5) return reject(ProxyHeaderFailure.V1Malformed, 'v1: more than 6 fields');
    const c = String.fromCharCode(byte);
    if (this.#field >= 4) {
      return /[0-9]/.test(c)
        ? undefined
        : reject(ProxyHeaderFailure.V1BadPort, `v1: a port with the character "${c}"`);
    }
    const allowed = this.#protocol === 'TCP4' ? /[0-9.]/ : /[0-9a-fA-F:.]/;
    return allowed.test(c)
      ? undefined
      : reject(ProxyHeaderFailure.V1BadAddress, `v1: a ${this.#protocol} address with the character "${c}"`);
  }

  /** A space or the CR ended the field being read: check it whole. */
  #v1EndField(position: number, last: boolean): Step {
    if (this.#protocol === 'UNKNOWN') return undefined;
    const text = this.#text(this.#fieldStart, position);
    const field = this.#field;
    this.#field++;
    this.#fieldStart = position + 1;
    if (text.length === 0) return reject(ProxyHeaderFailure.V1Malformed, 'v1: an empty field (two spaces?)');
    if (field === 1) {
      const protocol = V1_PROTOCOLS.find((p) => p === text);
      if (protocol === undefined)
        return reject(ProxyHeaderFailure.V1Malformed, `v1: unknown protocol "${text}"`);
      this.#protocol = protocol;
      if (last && protocol !== 'UNKNOWN') {
        return reject(ProxyHeaderFailure.V1Malformed, `v1: ${protocol} without addresses and ports`);
      }
      return undefined;
    }
    if (field > 5) return reject(ProxyHeaderFailure.V1Malformed, 'v1: more than 6 fields');
    if (field <= 3) {
      const valid = this.#protocol === 'TCP4' ? parseIPv4(text) : parseIPv6(text);
      if (valid === undefined) {
        return reject(ProxyHeaderFailure.V1BadAddress, `v1: "${text}" is not a ${this.#protocol} address`);
      }
    } else if (parseDecimal(text, 0xffff) === undefined) {
      return reject(ProxyHeaderFailure.V1BadPort, `v1: "${text}" is not a port (0-65535, no leading zeros)`);
    }
    this.#fields.push(text);
    if (last && field < 5) return reject(ProxyHeaderFailure.V1Malformed, 'v1: fewer than 6 fields');
    if (!last && field === 5) return reject(ProxyHeaderFailure.V1Malformed, 'v1: more than 6 fields');
    return undefined;
  }

  /** The CRLF arrived: every field has been checked when its space or the CR ended it. */
  #v1Header(): Step {
    const length = this.#length;
    if (this.#protocol === 'UNKNOWN')
      return { version: 1, command: 'proxy', family: 'unknown', tlvs: NO_TLVS, length };
    const [src, dst, sport, dport] = this.#fields;
    if (src === undefined || dst === undefined || sport === undefined || dport === undefined) {
      // Cannot happen: the CR was refused unless all fields were in. Refuse rather than throw.
      return reject(ProxyHeaderFailure.V1Malformed, 'v1: fewer than 6 fields');
    }
    const v6 = this.#protocol === 'TCP6';
    const family = v6 ? 'IPv6' : 'IPv4';
    const canonical = (text: string) => {
      const bytes = v6 ? parseIPv6(text) : undefined;
      return bytes === undefined ? text : formatIPv6(bytes);
    };
    return {
      version: 1,
      command: 'proxy',
      family: v6 ? 'tcp6' : 'tcp4',
      source: { address: canonical(src), port: Number(sport), family },
      destination: { address: canonical(dst), port: Number(dport), family },
      tlvs: NO_TLVS,
      length,
    };
  }

  #text(start: number, end: number): string {
    return String.fromCharCode(...this.#bytes.subarray(start, end));
  }

  // ---- v2 ----

  #v2Byte(byte: number): Step {
    const position = this.#length;
    this.#bytes[this.#length++] = byte;
    if (position < V2_SIGNATURE.length) {
      if (byte === V2_SIGNATURE[position]) return undefined;
      return reject(
        ProxyHeaderFailure.NotProxy,
        `not a PROXY protocol header: byte ${position} is ${hex(byte)}, not the v2 signature`,
      );
    }
    if (position === 12) {
      if (byte >> 4 !== 2) return reject(ProxyHeaderFailure.V2BadVersion, `v2: version ${byte >> 4}, not 2`);
      const command = byte & 0x0f;
      if (command !== V2_COMMAND_LOCAL && command !== V2_COMMAND_PROXY) {
        return reject(
          ProxyHeaderFailure.V2BadCommand,
          `v2: command ${command}, neither LOCAL (0) nor PROXY (1)`,
        );
      }
      return undefined;
    }
    if (position === 13) {
      if (this.#isProxyCommand() && !V2_FAMILIES.has(byte)) {
        return reject(ProxyHeaderFailure.V2BadFamily, `v2: family and protocol ${hex(byte)} are not defined`);
      }
      return undefined;
    }
    if (position < 15) return undefined;
    const length = ((this.#bytes[14] ?? 0) << 8) | byte;
    if (length > this.maxV2Length) {
      return reject(
        ProxyHeaderFailure.V2TooLong,
        `v2: length ${length} is over the limit of ${this.maxV2Length}`,
      );
    }
    const addressLength = this.#isProxyCommand()
      ? (V2_FAMILIES.get(this.#bytes[13] ?? 0)?.addressLength ?? 0)
      : 0;
    if (length < addressLength) {
      return reject(
        ProxyHeaderFailure.V2Length,
        `v2: length ${length} is too short for the ${addressLength}-byte address block`,
      );
    }
    this.#total = V2_FIXED_LENGTH + length;
    const whole = new Uint8Array(this.#total);
    whole.set(this.#bytes);
    this.#bytes = whole;
    return length === 0 ? this.#parseV2() : undefined;
  }

  #isProxyCommand(): boolean {
    return ((this.#bytes[12] ?? 0) & 0x0f) === V2_COMMAND_PROXY;
  }

  /** The whole v2 header is in. */
  #parseV2(): ProxyHeader | ProxyHeaderRejection {
    const bytes = this.#bytes;
    const length = this.#total;
    const familyByte = bytes[13] ?? 0;
    const known = V2_FAMILIES.get(familyByte);
    const family = known?.family ?? 'unknown';
    if (!this.#isProxyCommand()) return { version: 2, command: 'local', family, tlvs: NO_TLVS, length };
    if (known === undefined || familyByte === 0x00) {
      return { version: 2, command: 'proxy', family, tlvs: NO_TLVS, length };
    }
    const tlvs = this.#parseTlvs(V2_FIXED_LENGTH + known.addressLength, length);
    if ('done' in tlvs) return tlvs;
    const header: ProxyHeader = { version: 2, command: 'proxy', family, tlvs, length };
    const port = (at: number) => ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
    if (family === 'tcp4') {
      header.source = { address: formatIPv4(bytes, 16), port: port(24), family: 'IPv4' };
      header.destination = { address: formatIPv4(bytes, 20), port: port(26), family: 'IPv4' };
    } else if (family === 'tcp6') {
      header.source = { address: formatIPv6(bytes, 16), port: port(48), family: 'IPv6' };
      header.destination = { address: formatIPv6(bytes, 32), port: port(50), family: 'IPv6' };
    }
    return header;
  }

  #parseTlvs(start: number, end: number): ProxyHeaderTlvs | ProxyHeaderRejection {
    const bytes = this.#bytes;
    const types: number[] = [];
    const tlvs: ProxyHeaderTlvs = { types };
    let crcAt = -1;
    let at = start;
    while (at < end) {
      if (end - at < 3)
        return reject(ProxyHeaderFailure.V2Tlv, `v2: ${end - at} bytes left after the TLVs, a cut TLV`);
      const type = bytes[at] ?? 0;
      const valueLength = ((bytes[at + 1] ?? 0) << 8) | (bytes[at + 2] ?? 0);
      const value = at + 3;
      if (value + valueLength > end) {
        return reject(
          ProxyHeaderFailure.V2Tlv,
          `v2: TLV ${hex(type)} of ${valueLength} bytes overruns the header`,
        );
      }
      const reported = REPORTED_TLVS.get(type);
      if (reported !== undefined) {
        if (tlvs[reported] !== undefined)
          return reject(ProxyHeaderFailure.V2Tlv, `v2: TLV ${hex(type)} appears twice`);
        const limit = type === ProxyTlvType.Authority ? AUTHORITY_MAX_LENGTH : UNIQUE_ID_MAX_LENGTH;
        if ((type === ProxyTlvType.Authority || type === ProxyTlvType.UniqueId) && valueLength > limit) {
          return reject(
            ProxyHeaderFailure.V2Tlv,
            `v2: TLV ${hex(type)} of ${valueLength} bytes, over ${limit}`,
          );
        }
        if (reported === 'crc32c') {
          if (valueLength !== 4) {
            return reject(ProxyHeaderFailure.V2Tlv, `v2: a CRC32C TLV of ${valueLength} bytes, not 4`);
          }
          crcAt = value;
          tlvs.crc32c = readUint32(bytes, value);
        } else {
          tlvs[reported] = utf8.decode(bytes.subarray(value, value + valueLength));
        }
      }
      types.push(type);
      at = value + valueLength;
    }
    if (crcAt !== -1 && tlvs.crc32c !== undefined) {
      // The checksum covers the whole header with its own field as zeros (spec 2.2.3).
      const saved = bytes.slice(crcAt, crcAt + 4);
      bytes.fill(0, crcAt, crcAt + 4);
      const computed = crc32c(bytes, 0, end);
      bytes.set(saved, crcAt);
      if (computed !== tlvs.crc32c) {
        return reject(
          ProxyHeaderFailure.V2Crc32c,
          `v2: CRC32C ${hexWord(tlvs.crc32c)} in the header, ${hexWord(computed)} computed`,
        );
      }
    }
    return tlvs;
  }
}

const REPORTED_TLVS: ReadonlyMap<number, 'alpn' | 'authority' | 'crc32c' | 'uniqueId' | 'netns'> = new Map([
  [ProxyTlvType.Alpn, 'alpn'],
  [ProxyTlvType.Authority, 'authority'],
  [ProxyTlvType.Crc32c, 'crc32c'],
  [ProxyTlvType.UniqueId, 'uniqueId'],
  [ProxyTlvType.Netns, 'netns'],
]);

function readUint32(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] ?? 0) << 24) |
      ((bytes[at + 1] ?? 0) << 16) |
      ((bytes[at + 2] ?? 0) << 8) |
      (bytes[at + 3] ?? 0)) >>>
    0
  );
}

function hexWord(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** Parses a header from bytes already in hand: {@link ProxyHeaderParser.push} with one chunk. */
export function parseProxyHeader(bytes: Uint8Array, options?: ProxyHeaderParserOptions): ProxyHeaderResult {
  return new ProxyHeaderParser(options).push(bytes);
}

/**
 * A fresh parser as the `parse` function of `readPrefix` (one per connection): it throws a
 * {@link ProxyHeaderError} (code `ERR_PROXY_HEADER`, with the `reason`) for a refused header, so
 * that `readPrefix` rejects with it.
 *
 * ```ts
 * const header = await readPrefix(socket, proxyHeaderPrefix(), { timeout: 5_000, what: 'PROXY header' });
 * if (header.source !== undefined) connection.setClient(header.source);
 * ```
 */
export function proxyHeaderPrefix(
  options?: ProxyHeaderParserOptions,
): (chunk: Buffer) => PrefixResult<ProxyHeader> {
  const parser = new ProxyHeaderParser(options);
  return (chunk) => {
    const result = parser.push(chunk);
    if (result.done === 'error') {
      throw new ProxyHeaderError(result.message, { reason: result.reason, call: 'read' });
    }
    return result;
  };
}
