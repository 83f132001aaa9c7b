/**
 * The hello protocol of the seed's programs, as bytes. Pure: no sockets here.
 *
 * Server -> client: the message, then (as the C server's `write(sock, message, sizeof(message))`
 * sends the array's terminator too) one NUL byte, then the server closes.
 * The C client prints `Message from server: ` + the bytes up to the first NUL + ` \n`.
 */

/** Encodes the server's greeting: the UTF-8 text followed by a NUL unless `nul` is false. */
export function encodeHello(message: string, { nul = true }: { nul?: boolean } = {}): Buffer {
  const text = Buffer.from(message, 'utf8');
  return nul ? Buffer.concat([text, NUL]) : text;
}

const NUL = Buffer.from([0]);
const PREFIX = Buffer.from('Message from server: ', 'latin1');
const SUFFIX = Buffer.from(' \n', 'latin1');

/** The line the C client prints for a received message: prefix, raw bytes, space, newline. */
export function formatHelloLine(message: Buffer): Buffer {
  return Buffer.concat([PREFIX, message, SUFFIX]);
}

/** How the hello message ended. */
export const HelloEnd = {
  /** A NUL byte ended it, as the C server sends. */
  Nul: 'nul',
  /** The server closed the connection without a NUL. */
  Eof: 'eof',
  /** The size limit was reached before a NUL or EOF. */
  Limit: 'limit',
} as const;
/** How the hello message ended. */
export type HelloEnd = (typeof HelloEnd)[keyof typeof HelloEnd];

/** A complete hello message. */
export interface HelloFrame {
  /** The message bytes, without the NUL and anything after it. */
  message: Buffer;
  /** What ended it. */
  end: HelloEnd;
}

/**
 * Collects a hello message from chunks as they arrive. Feed every chunk to `push()`; it returns the
 * frame as soon as a NUL byte is seen or `maxBytes` bytes have arrived, otherwise `undefined`.
 * At EOF call `end()`.
 */
export class HelloDecoder {
  readonly #maxBytes: number;
  readonly #chunks: Buffer[] = [];
  #length = 0;
  #frame: HelloFrame | undefined;

  /** @param maxBytes the most bytes to collect before giving up on a NUL. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes received so far (capped at `maxBytes`). */
  get receivedBytes(): number {
    return this.#length;
  }

  /** The bytes received so far (before the frame is complete), without ending the frame. */
  received(): Buffer {
    return this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
  }

  /** The frame, once complete. */
  get frame(): HelloFrame | undefined {
    return this.#frame;
  }

  /** Adds a chunk; returns the frame once it is complete. Chunks after that are ignored. */
  push(chunk: Uint8Array): HelloFrame | undefined {
    if (this.#frame !== undefined) return this.#frame;
    const room = this.#maxBytes - this.#length;
    const nul = chunk.indexOf(0);
    if (nul !== -1 && nul < room) {
      this.#append(chunk.subarray(0, nul));
      return this.#finish(HelloEnd.Nul);
    }
    this.#append(chunk.subarray(0, room));
    return this.#length >= this.#maxBytes ? this.#finish(HelloEnd.Limit) : undefined;
  }

  /** Marks EOF; returns the frame (what arrived so far) or `undefined` if nothing arrived at all. */
  end(): HelloFrame | undefined {
    if (this.#frame !== undefined) return this.#frame;
    if (this.#length === 0) return undefined;
    return this.#finish(HelloEnd.Eof);
  }

  #append(part: Uint8Array): void {
    if (part.length === 0) return;
    this.#chunks.push(Buffer.from(part));
    this.#length += part.length;
  }

  #finish(end: HelloEnd): HelloFrame {
    const message = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    this.#chunks.length = 0;
    this.#frame = { message, end };
    return this.#frame;
  }
}
