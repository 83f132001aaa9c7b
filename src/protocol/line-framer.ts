/**
 * Splits a byte stream into lines. Pure: no sockets here.
 *
 * A line ends with `\n`; a `\r` right before it is dropped too, so `\r\n` from a Windows tool or a
 * telnet session gives the same line. Lines come out as raw bytes (decode them yourself: a UTF-8
 * character may be split across chunks, never across a line end). Memory is bounded: at most
 * `maxLineBytes` (+1 for a `\r`) bytes of an unfinished line are kept; past that the framer stops
 * with a {@link LineTooLongError} in `overflow` and ignores everything after.
 */
import { DEFAULT_MAX_LINE_BYTES } from '../defaults.js';
import { LineTooLongError } from '../errors.js';
import { validateInteger } from '../validate.js';

const LF = 0x0a;
const CR = 0x0d;

/** Options of a {@link LineFramer}. */
export interface LineFramerOptions {
  /**
   * Most bytes in one line, not counting its `\r\n` or `\n`.
   * @default 1024
   */
  maxLineBytes?: number;
}

/** Collects chunks and returns each complete line, without its terminator. */
export class LineFramer {
  /** The line length limit in bytes. */
  readonly maxLineBytes: number;
  readonly #pending: Buffer[] = [];
  #pendingLength = 0;
  #overflow: LineTooLongError | undefined;

  constructor(options: LineFramerOptions = {}) {
    this.maxLineBytes = validateInteger(
      options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      'max line bytes',
      1,
      2 ** 30,
    );
  }

  /** Bytes of an unfinished line held now (never more than `maxLineBytes + 1`). */
  get bufferedBytes(): number {
    return this.#pendingLength;
  }

  /**
   * Set once a line exceeded the limit. Lines completed before it were returned; nothing after it
   * is framed any more.
   */
  get overflow(): LineTooLongError | undefined {
    return this.#overflow;
  }

  /** Adds a chunk; returns the lines it completes (possibly none). */
  push(chunk: Uint8Array): Buffer[] {
    const lines: Buffer[] = [];
    if (this.#overflow !== undefined) return lines;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let start = 0;
    while (start < bytes.length) {
      const lf = bytes.indexOf(LF, start);
      if (lf === -1) {
        this.#hold(bytes.subarray(start));
        break;
      }
      const line = this.#complete(bytes.subarray(start, lf));
      if (line === undefined) return lines;
      lines.push(line);
      start = lf + 1;
    }
    return lines;
  }

  /**
   * At end of stream: the unfinished last line (without a `\n`, and without a `\r` that the cut
   * `\r\n` left, as `push` strips it), if any bytes of it arrived.
   */
  end(): Buffer | undefined {
    if (this.#overflow !== undefined || this.#pendingLength === 0) return undefined;
    const whole = this.#take(Buffer.alloc(0));
    return whole[whole.length - 1] === CR ? whole.subarray(0, -1) : whole;
  }

  // A line can be at most maxLineBytes plus a trailing \r that its \n will strip.
  #hold(part: Buffer): void {
    if (this.#pendingLength + part.length > this.maxLineBytes + 1) {
      this.#fail();
      return;
    }
    // Copy: the caller's buffer may be reused (and a slice would pin a whole 64 KiB read buffer).
    this.#pending.push(Buffer.from(part));
    this.#pendingLength += part.length;
  }

  #complete(tail: Buffer): Buffer | undefined {
    if (this.#pendingLength + tail.length > this.maxLineBytes + 1) {
      this.#fail();
      return undefined;
    }
    const whole = this.#take(tail);
    const line = whole.length > 0 && whole[whole.length - 1] === CR ? whole.subarray(0, -1) : whole;
    if (line.length > this.maxLineBytes) {
      this.#fail();
      return undefined;
    }
    return line;
  }

  #take(tail: Buffer): Buffer {
    if (this.#pendingLength === 0) return Buffer.from(tail);
    const whole = Buffer.concat([...this.#pending, tail]);
    this.#pending.length = 0;
    this.#pendingLength = 0;
    return whole;
  }

  #fail(): void {
    this.#pending.length = 0;
    this.#pendingLength = 0;
    this.#overflow = new LineTooLongError(`a line is longer than ${this.maxLineBytes} bytes`, {
      call: 'read',
    });
  }
}
