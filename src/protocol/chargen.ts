/**
 * The character generator (RFC 864): lines of 72 printable characters and CR LF, each line
 * starting one character further along a ring. Pure: a generator with a rotation state, the
 * datagram packing of a UDP reply, and a verifier that checks a received stream byte by byte.
 *
 * Two patterns:
 * - `rfc864`, the RFC's own example: the 95 printable characters 0x20 (space) to 0x7e (`~`);
 *   line N holds characters N mod 95 to N+71 mod 95.
 * - `xinetd`, what Debian's xinetd sends, byte for byte (its builtins.c): a ring of the 93
 *   characters 0x21 (`!`) to 0x7d (`}`), of which a line is read at 95 positions in turn; so the
 *   first line starts with `!`, line 93 repeats line 0 and line 94 repeats line 1.
 */
import { InvalidArgumentError } from '../errors.js';

/** The chargen patterns: the RFC's example and xinetd's built-in one. */
export const ChargenPattern = {
  /** RFC 864's example: 95 characters from space to `~`, a line at each of 95 positions. */
  Rfc864: 'rfc864',
  /** xinetd's built-in: 93 characters from `!` to `}`, a line at each of 95 positions. */
  Xinetd: 'xinetd',
} as const;
/** A chargen pattern. */
export type ChargenPattern = (typeof ChargenPattern)[keyof typeof ChargenPattern];
/** Every chargen pattern, for option parsers. */
export const CHARGEN_PATTERNS = [ChargenPattern.Rfc864, ChargenPattern.Xinetd] as const;

/** Characters in a line, without its CR LF. */
export const CHARGEN_LINE_CHARS = 72;
/** Bytes in a whole line, CR LF included. */
export const CHARGEN_LINE_BYTES = CHARGEN_LINE_CHARS + 2;
/** What xinetd's UDP chargen sends for any datagram: 1024 bytes (13 lines and one of 60 characters). */
export const XINETD_DATAGRAM_BYTES = 1024;
/** RFC 864: a UDP reply holds a random number of characters between 0 and 512. */
export const RFC864_MAX_DATAGRAM_BYTES = 512;

interface PatternShape {
  /** The ring of characters. */
  readonly alphabet: Buffer;
  /** How many line positions there are before the first comes round again. */
  readonly positions: number;
}

function range(first: number, last: number): Buffer {
  return Buffer.from(Array.from({ length: last - first + 1 }, (_, i) => first + i));
}

const SHAPES: Readonly<Record<ChargenPattern, PatternShape>> = {
  rfc864: { alphabet: range(0x20, 0x7e), positions: 95 },
  xinetd: { alphabet: range(0x21, 0x7d), positions: 95 },
};

// One period of each pattern's stream (every position's line once, in order), twice over: any run
// of up to one period's lines from any position is one subarray of it, with no copying.
const PERIODS = new Map<ChargenPattern, Buffer>();

function period(pattern: ChargenPattern): Buffer {
  let buffer = PERIODS.get(pattern);
  if (buffer === undefined) {
    const { positions } = SHAPES[pattern];
    const one = Buffer.concat(Array.from({ length: positions }, (_, i) => chargenLine(pattern, i)));
    buffer = Buffer.concat([one, one]);
    PERIODS.set(pattern, buffer);
  }
  return buffer;
}

function checkPattern(pattern: unknown): ChargenPattern {
  if (pattern === 'rfc864' || pattern === 'xinetd') return pattern;
  throw new InvalidArgumentError(`invalid chargen pattern '${String(pattern)}': expected rfc864 or xinetd`);
}

/** Line positions of a pattern before its first line comes round again (95 for both). */
export function chargenPositions(pattern: ChargenPattern): number {
  return SHAPES[checkPattern(pattern)].positions;
}

/** The whole line (72 characters, CR LF) at `position` of `pattern` (taken modulo its positions). */
export function chargenLine(pattern: ChargenPattern, position: number): Buffer {
  const { alphabet, positions } = SHAPES[checkPattern(pattern)];
  const start = ((position % positions) + positions) % positions;
  const line = Buffer.allocUnsafe(CHARGEN_LINE_BYTES);
  for (let t = 0; t < CHARGEN_LINE_CHARS; t++) line[t] = alphabet[(start + t) % alphabet.length] as number;
  line[CHARGEN_LINE_CHARS] = 0x0d;
  line[CHARGEN_LINE_CHARS + 1] = 0x0a;
  return line;
}

/**
 * Makes the pattern's lines in order from a rotation state: `lines(n)` for a TCP stream,
 * `datagram(size)` for a UDP reply. Every call moves the ring on by the lines it used.
 */
export class ChargenGenerator {
  /** The pattern this generator makes. */
  readonly pattern: ChargenPattern;
  readonly #positions: number;
  #position: number;

  /** Starts at line `position` (0, the first line, by default). */
  constructor(pattern: ChargenPattern = ChargenPattern.Rfc864, position = 0) {
    this.pattern = checkPattern(pattern);
    this.#positions = SHAPES[this.pattern].positions;
    if (!Number.isInteger(position) || position < 0) {
      throw new InvalidArgumentError(`invalid chargen position '${position}': expected an integer >= 0`);
    }
    this.#position = position % this.#positions;
  }

  /** The position of the next line (0 to 94). */
  get position(): number {
    return this.#position;
  }

  /**
   * The next `count` whole lines as one buffer (`count` * 74 bytes). At most one period (95
   * lines) a call: the buffer is a view of a shared one and must not be written to.
   */
  lines(count: number): Buffer {
    if (!Number.isInteger(count) || count < 0 || count > this.#positions) {
      throw new InvalidArgumentError(`invalid line count '${count}': expected 0 to ${this.#positions}`);
    }
    const start = this.#position * CHARGEN_LINE_BYTES;
    this.#position = (this.#position + count) % this.#positions;
    return period(this.pattern).subarray(start, start + count * CHARGEN_LINE_BYTES);
  }

  /**
   * A UDP reply of at most `size` bytes, packed as xinetd packs one: whole lines while they fit,
   * then one line cut to the room left (less its CR LF) if more than 2 bytes are left. Every line,
   * the cut one too, ends with CR LF and moves the ring on by one. `size` 1024 is xinetd's reply
   * (13 lines and one of 60 characters, 1024 bytes); 2 or less is an empty datagram.
   */
  datagram(size: number): Buffer {
    if (!Number.isInteger(size) || size < 0 || size > 65_507) {
      throw new InvalidArgumentError(`invalid datagram size '${size}': expected 0 to 65507`);
    }
    const parts: Buffer[] = [];
    let left = size;
    while (left > 2) {
      const room = Math.min(CHARGEN_LINE_BYTES, left);
      const line = chargenLine(this.pattern, this.#position);
      this.#position = (this.#position + 1) % this.#positions;
      if (room === CHARGEN_LINE_BYTES) parts.push(line);
      else parts.push(line.subarray(0, room - 2), line.subarray(CHARGEN_LINE_CHARS));
      left -= room;
    }
    return Buffer.concat(parts, size - left);
  }
}

/** Where a received chargen stream first differs from every pattern it could still be. */
export interface ChargenMismatch {
  /** Bytes from the start of the stream (or datagram) to the first wrong byte. */
  offset: number;
  /** The byte that arrived there; -1 when a datagram ended there, in the middle of a line. */
  actual: number;
  /** The byte the likeliest pattern and line had there. */
  expected: number;
}

interface Candidate {
  pattern: ChargenPattern;
  /** Position of the line being read. */
  line: number;
  /** Bytes of that line read so far. */
  column: number;
}

function allCandidates(patterns: readonly ChargenPattern[]): Candidate[] {
  return patterns.flatMap((pattern) =>
    Array.from({ length: SHAPES[pattern].positions }, (_, line) => ({ pattern, line, column: 0 })),
  );
}

/**
 * Checks a chargen stream as it arrives, chunk by chunk: it must be some pattern's lines, in
 * order, from the start of a line at any position (xinetd's ring carries on between clients).
 * It follows every pattern and position that still fits, so it needs no first line to decide.
 */
export class ChargenVerifier {
  #candidates: Candidate[];
  #offset = 0;
  #mismatch: ChargenMismatch | undefined;

  /** Checks against `patterns` (both by default). */
  constructor(patterns: readonly ChargenPattern[] = CHARGEN_PATTERNS) {
    this.#candidates = allCandidates(patterns.map(checkPattern));
  }

  /** Bytes checked so far (up to the mismatch, once there is one). */
  get offset(): number {
    return this.#offset;
  }

  /** The patterns that fit every byte so far (one once a line or two has arrived). */
  get patterns(): ChargenPattern[] {
    return [...new Set(this.#candidates.map((c) => c.pattern))];
  }

  /** The first wrong byte, once one has arrived. */
  get mismatch(): ChargenMismatch | undefined {
    return this.#mismatch;
  }

  /** Checks the next bytes. Returns the mismatch, if these bytes hold the first wrong one. */
  push(chunk: Uint8Array): ChargenMismatch | undefined {
    if (this.#mismatch !== undefined) return this.#mismatch;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      const survivors: Candidate[] = [];
      for (const c of this.#candidates) {
        if (expectedByte(c) !== byte) continue;
        c.column++;
        if (c.column === CHARGEN_LINE_BYTES) {
          c.column = 0;
          c.line = (c.line + 1) % SHAPES[c.pattern].positions;
        }
        survivors.push(c);
      }
      if (survivors.length === 0) {
        const first = this.#candidates[0] as Candidate;
        this.#mismatch = { offset: this.#offset, actual: byte, expected: expectedByte(first) };
        return this.#mismatch;
      }
      this.#candidates = dedupe(survivors);
      this.#offset++;
    }
    return undefined;
  }
}

// The byte a candidate expects next, read from the pattern's period (no line is built per byte).
function expectedByte(c: Candidate): number {
  return period(c.pattern)[c.line * CHARGEN_LINE_BYTES + c.column] as number;
}

// Candidates that have come to the same pattern, line and column (xinetd's lines 0 and 93) are one.
function dedupe(candidates: Candidate[]): Candidate[] {
  if (candidates.length < 2) return candidates;
  const seen = new Set<string>();
  return candidates.filter((c) => {
    const key = `${c.pattern}:${c.line}:${c.column}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Checks one chargen datagram: lines of a pattern in order from any position, each whole or cut
 * short, each ending with CR LF (the packing of {@link ChargenGenerator.datagram}). Returns the
 * mismatch, or undefined when the datagram fits.
 */
export function checkChargenDatagram(
  datagram: Uint8Array,
  patterns: readonly ChargenPattern[] = CHARGEN_PATTERNS,
): ChargenMismatch | undefined {
  let candidates = allCandidates(patterns.map(checkPattern)).map((c) => ({ ...c, start: c.line }));
  let best: ChargenMismatch | undefined;
  let offset = 0;
  let lineIndex = 0;
  while (offset < datagram.length) {
    const end = indexOfCrlf(datagram, offset);
    const stop = end === -1 ? datagram.length : end + 2;
    const text = datagram.subarray(offset, stop);
    const survivors: typeof candidates = [];
    for (const c of candidates) {
      const line = chargenLine(c.pattern, c.start + lineIndex);
      const wrong = firstDifference(text, line, end !== -1);
      if (wrong === -1) {
        survivors.push(c);
      } else if (best === undefined || offset + wrong > best.offset) {
        // actual -1: the datagram ended there, in the middle of a line.
        best = {
          offset: offset + wrong,
          actual: datagram[offset + wrong] ?? -1,
          expected: line[wrong] ?? -1,
        };
      }
    }
    if (survivors.length === 0) return best;
    candidates = survivors;
    offset = stop;
    lineIndex++;
  }
  return undefined;
}

function indexOfCrlf(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.length; i++) if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) return i;
  return -1;
}

// Where `text` (a received line, CR LF included when `terminated`) first departs from `line`, a
// whole expected one: its characters must be a prefix of the line's, then CR LF. -1 when it fits.
function firstDifference(text: Uint8Array, line: Buffer, terminated: boolean): number {
  const chars = terminated ? text.length - 2 : text.length;
  if (chars > CHARGEN_LINE_CHARS) {
    for (let i = 0; i < CHARGEN_LINE_CHARS; i++) if (text[i] !== line[i]) return i;
    return CHARGEN_LINE_CHARS;
  }
  for (let i = 0; i < chars; i++) if (text[i] !== line[i]) return i;
  // A line that never ended: its last bytes are wrong where the CR LF should have been.
  return terminated ? -1 : chars;
}
