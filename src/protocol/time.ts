/**
 * The time protocol (RFC 868): the time as one 32-bit big-endian number of seconds since
 * 1900-01-01 00:00 UTC. Pure: encoding from a clock reading, decoding a reply.
 *
 * 32 bits of seconds from 1900 run out on 2036-02-07 06:28:16 UTC, when the count wraps to 0.
 * Encoding simply wraps. Decoding follows SNTP's rule (RFC 4330, section 3): a number with its
 * top bit set is in 1968-2036, one with the top bit clear is in 2036-2104, after the wrap.
 */
import { ProtocolError } from '../errors.js';

/** Seconds from 1900-01-01 to 1970-01-01 (the Unix epoch), 70 years with 17 leap days. */
export const RFC868_EPOCH_OFFSET = 2_208_988_800;
/** Bytes in a time reply. */
export const TIME_REPLY_BYTES = 4;
/** 2^32: the count of seconds from 1900 wraps to 0 here (2036-02-07 06:28:16 UTC). */
export const TIME_WRAP = 2 ** 32;

/** The time reply for `unixMs` (milliseconds since 1970, as `Date.now()`): 4 bytes. */
export function encodeTime(unixMs: number): Buffer {
  const seconds = Math.floor(unixMs / 1000) + RFC868_EPOCH_OFFSET;
  const wrapped = ((seconds % TIME_WRAP) + TIME_WRAP) % TIME_WRAP;
  const bytes = Buffer.allocUnsafe(TIME_REPLY_BYTES);
  bytes.writeUInt32BE(wrapped, 0);
  return bytes;
}

/** A decoded time reply. */
export interface DecodedTime {
  /** The number on the wire: seconds since 1900, modulo 2^32. */
  seconds: number;
  /** Seconds since 1970 (Unix time), the era chosen by the top bit (see the module's note). */
  unixSeconds: number;
  /** The same moment as a Date. */
  date: Date;
}

/** Decodes the 32-bit number of a time reply (the era by SNTP's rule: before or after 2036). */
export function decodeTimeSeconds(seconds: number): DecodedTime {
  const era = seconds >= 0x8000_0000 ? 0 : 1;
  const unixSeconds = seconds + era * TIME_WRAP - RFC868_EPOCH_OFFSET;
  return { seconds, unixSeconds, date: new Date(unixSeconds * 1000) };
}

/**
 * Reads a time reply as it arrives: `push` each chunk, then `end()` at the server's close. A
 * reply is exactly 4 bytes; fewer or more is a {@link ProtocolError}.
 */
export class TimeDecoder {
  readonly #bytes = Buffer.alloc(TIME_REPLY_BYTES);
  #received = 0;

  /** Bytes received so far. */
  get receivedBytes(): number {
    return this.#received;
  }

  /** Takes the next bytes; throws a {@link ProtocolError} past the fourth. */
  push(chunk: Uint8Array): void {
    if (this.#received + chunk.length > TIME_REPLY_BYTES) {
      throw new ProtocolError(
        `a time reply is ${TIME_REPLY_BYTES} bytes, and more than that arrived (${this.#received + chunk.length} so far): not a time server`,
        { call: 'read' },
      );
    }
    this.#bytes.set(chunk, this.#received);
    this.#received += chunk.length;
  }

  /** The decoded reply, once the server has closed; throws a {@link ProtocolError} if it is short. */
  end(): DecodedTime {
    if (this.#received !== TIME_REPLY_BYTES) {
      throw new ProtocolError(
        `a time reply is ${TIME_REPLY_BYTES} bytes, and the server closed after ${this.#received}`,
        { call: 'read' },
      );
    }
    return decodeTimeSeconds(this.#bytes.readUInt32BE(0));
  }
}

/** Decodes a whole reply (a UDP datagram): exactly 4 bytes, else a {@link ProtocolError}. */
export function decodeTime(reply: Uint8Array): DecodedTime {
  const decoder = new TimeDecoder();
  decoder.push(reply);
  return decoder.end();
}

/** `2026-12-07T05:48:23Z`: a time in ISO 8601, UTC, to the second. */
export function formatIsoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
