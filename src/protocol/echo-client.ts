/**
 * The textbook's echo clients (UDP, and the TCP one's output), as bytes: input is cut into lines
 * that keep their newline (what `fgets` hands to `sendto` or `write`), `q` or `Q` alone on a line
 * quits, and each reply is printed after `Message from server: `. Pure: no sockets, no terminal.
 */
import { MessageTooLongError } from '../errors.js';

/** The textbook's prompt, printed before each line when the input is a terminal. */
export const ECHO_PROMPT = 'Insert message(q to quit): ';

const NEWLINE = 0x0a;
const PREFIX = Buffer.from('Message from server: ', 'latin1');
const LF = Buffer.from('\n', 'latin1');

/**
 * Cuts input chunks into lines, each with its `\n` (the last one may lack it, at end of input).
 * A line longer than `maxBytes` (with its newline) cannot go in one datagram: `push()` throws
 * {@link MessageTooLongError} as soon as that is certain, so memory stays bounded by `maxBytes`.
 */
export class EchoLineSplitter {
  readonly #maxBytes: number;
  #pending: Buffer[] = [];
  #pendingLength = 0;

  /** @param maxBytes the most bytes a line may have, its newline included. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Adds a chunk of input; returns the lines it completes (often none, sometimes several). */
  push(chunk: Uint8Array): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) break;
      this.#add(chunk.subarray(start, newline + 1));
      lines.push(this.#take());
      start = newline + 1;
    }
    if (start < chunk.length) this.#add(chunk.subarray(start));
    return lines;
  }

  /** Marks the end of input; returns the last line if it had no newline, else `undefined`. */
  end(): Buffer | undefined {
    return this.#pendingLength === 0 ? undefined : this.#take();
  }

  #add(part: Uint8Array): void {
    this.#pendingLength += part.length;
    if (this.#pendingLength > this.#maxBytes) {
      this.#pending = [];
      this.#pendingLength = 0;
      throw new MessageTooLongError(
        `a line of more than ${this.#maxBytes} bytes is larger than one UDP datagram can carry (${this.#maxBytes} bytes at most)`,
        { call: 'sendto' },
      );
    }
    this.#pending.push(Buffer.from(part));
  }

  #take(): Buffer {
    const line = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingLength = 0;
    return line;
  }
}

/** True for the textbook's quit lines: `q` or `Q` alone (with `\n`, `\r\n` or at end of input). */
export function isQuitLine(line: Uint8Array): boolean {
  const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('latin1');
  return /^[qQ]\r?\n?$/.test(text);
}

/**
 * The line printed for a reply: `Message from server: ` and the reply's bytes as they came. The
 * textbook's replies end with the line's own newline; one is added when a reply lacks it, so that
 * the next prompt starts on a line of its own.
 */
export function formatEchoLine(reply: Uint8Array): Buffer {
  const endsWithNewline = reply.length > 0 && reply[reply.length - 1] === NEWLINE;
  return Buffer.concat(endsWithNewline ? [PREFIX, reply] : [PREFIX, reply, LF]);
}
