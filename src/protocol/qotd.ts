/**
 * The quote of the day (RFC 865): a short message, "less than 512 characters", of printable
 * characters, spaces, CR and LF. Pure: checking and encoding a quote, reading a file of quotes,
 * and the order in which a server hands them out.
 *
 * The RFC asks for ASCII; a quote here may be any UTF-8 text without control characters (the
 * lecture is in Korean), and its limit counts bytes, as a client's buffer does: under 512.
 */
import { InvalidArgumentError } from '../errors.js';

/** A quote's wire form must be shorter than this many bytes (RFC 865), CR LF included. */
export const QOTD_MAX_BYTES = 512;

/** The default quote: the lecture's two roles, in its own words (part 2, 소켓 통신 과정). */
export const DEFAULT_QUOTE =
  'The client is the one who starts the connection; the server waits for it, passively.\n' +
  '    -- the lecture, part 2: socket communication';

// Any control character but LF, CR and TAB, and the C1 block.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

/**
 * A quote's bytes on the wire: its lines joined with CR LF and ended with CR LF, in UTF-8.
 * Throws {@link InvalidArgumentError} for an empty quote, a control character, or 512 bytes or
 * more; `what` names the quote in the message (`quote 3`).
 */
export function encodeQuote(text: string, what = 'quote'): Buffer {
  if (typeof text !== 'string') throw new InvalidArgumentError(`invalid ${what}: not text`);
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  const body = lines.join('\r\n');
  if (body.trim() === '') throw new InvalidArgumentError(`invalid ${what}: it is empty`);
  const control = CONTROL.exec(body);
  if (control !== null) {
    const code = (control[0].codePointAt(0) ?? 0).toString(16).padStart(4, '0');
    throw new InvalidArgumentError(`invalid ${what}: it holds the control character U+${code}`);
  }
  const bytes = Buffer.from(`${body}\r\n`, 'utf8');
  if (bytes.length >= QOTD_MAX_BYTES) {
    throw new InvalidArgumentError(
      `invalid ${what}: ${bytes.length} bytes with its line endings; RFC 865 wants fewer than ${QOTD_MAX_BYTES}`,
    );
  }
  return bytes;
}

/**
 * The quotes of a file: one per paragraph, paragraphs separated by blank lines (a line of only
 * spaces counts as blank), so that a quote may have several lines (its author on the last).
 * Each is checked as {@link encodeQuote} does, named by its number; a file with none throws.
 */
export function parseQuotes(fileText: string): string[] {
  const paragraphs = fileText
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/^\n+|\n+$/g, ''))
    .filter((p) => p.trim() !== '');
  if (paragraphs.length === 0) throw new InvalidArgumentError('invalid quotes file: it holds no quote');
  for (const [i, p] of paragraphs.entries()) encodeQuote(p, `quote ${i + 1} of the file`);
  return paragraphs;
}

/**
 * The quotes a server hands out, each client the next in turn (round robin), their wire forms
 * checked and encoded once.
 */
export class QuoteBook {
  readonly #quotes: readonly Buffer[];
  #next = 0;

  /** Checks and encodes every quote (see {@link encodeQuote}); at least one. */
  constructor(quotes: readonly string[]) {
    if (quotes.length === 0) throw new InvalidArgumentError('invalid quotes: none given');
    this.#quotes = quotes.map((q, i) => encodeQuote(q, quotes.length === 1 ? 'quote' : `quote ${i + 1}`));
  }

  /** How many quotes there are. */
  get size(): number {
    return this.#quotes.length;
  }

  /** The next quote's bytes. */
  next(): Buffer {
    const quote = this.#quotes[this.#next] as Buffer;
    this.#next = (this.#next + 1) % this.#quotes.length;
    return quote;
  }
}

/** A received quote as text, its CR LF line endings made LF (what a terminal prints). */
export function decodeQuote(reply: Uint8Array): string {
  return new TextDecoder().decode(reply).replace(/\r\n/g, '\n');
}
