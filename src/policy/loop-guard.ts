/**
 * The UDP loop guard: what keeps two answering servers (echo and echo, hello and echo, ...) from
 * playing one spoofed datagram back and forth for ever. An attacker sends server A a datagram
 * whose source is server B; A answers B, B answers A, and so on, as fast as the two can go. A
 * rate limit bounds that, but can be turned off (`--no-rate-limit`); this guard cannot.
 *
 * A source (address and port) "bounces" when it sends back, within `bounceWindow` ms of our
 * reply, exactly what we last sent it (same length and CRC-32): what another server answering us
 * does, and what no person and no ordinary client does (a client waits for its answer, and then
 * sends something else, or the same after its retry timeout). The bounce that makes `maxBounces`
 * in a row is not answered, and the count starts again. That ends the loop: the other side has
 * nothing left to answer. Each spoofed datagram gets at most `maxBounces` answers from each side,
 * and there is nothing to block: a client that does send the same message straight back loses
 * one datagram in `maxBounces + 1`, which its retry (not a bounce: too late) gets answered.
 * Pure: no sockets, no timers; the clock is injectable. Memory is bounded like the rate
 * limiter's: at most `maxKeys` sources, the least recently heard from forgotten first.
 */
import {
  DEFAULT_UDP_BOUNCE_WINDOW_MS,
  DEFAULT_UDP_MAX_BOUNCES,
  DEFAULT_UDP_RATE_LIMIT_SOURCES,
} from '../defaults.js';
import { validateInteger } from '../validate.js';

/** Options of a {@link LoopGuard}. */
export interface LoopGuardOptions {
  /** A datagram equal to our last reply to its source, this soon after it (ms), is a bounce. @default 50 */
  bounceWindow?: number;
  /** Bounces in a row that make a loop: the last is not answered. @default 16 */
  maxBounces?: number;
  /** Sources tracked at once. @default 10000 */
  maxKeys?: number;
  /** The clock, in milliseconds; only differences matter. @default performance.now */
  now?: () => number;
}

/** What {@link LoopGuard.admit} decides about one datagram. */
export type LoopVerdict = 'answer' | 'loop';

interface SourceState {
  /** Length and CRC-32 of our last reply to this source, `undefined` before any. */
  sentLength: number | undefined;
  sentDigest: number;
  sentAt: number;
  bounces: number;
}

/** Per-source bounce counting with a bounded number of sources. */
export class LoopGuard {
  readonly #bounceWindow: number;
  readonly #maxBounces: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  // Insertion order is use order: re-inserted on every use, the first is the least recent.
  readonly #sources = new Map<string, SourceState>();

  constructor(options: LoopGuardOptions = {}) {
    this.#bounceWindow = validateInteger(
      options.bounceWindow ?? DEFAULT_UDP_BOUNCE_WINDOW_MS,
      'bounce window',
      0,
      60_000,
    );
    this.#maxBounces = validateInteger(options.maxBounces ?? DEFAULT_UDP_MAX_BOUNCES, 'max bounces', 1, 1e6);
    this.#maxKeys = validateInteger(options.maxKeys ?? DEFAULT_UDP_RATE_LIMIT_SOURCES, 'max keys', 1, 1e8);
    this.#now = options.now ?? (() => performance.now());
  }

  /** Sources tracked now (at most `maxKeys`). */
  get size(): number {
    return this.#sources.size;
  }

  /**
   * Decides whether a datagram of `length` bytes from `source` may be answered: `loop` when this
   * bounce completes a run of `maxBounces`. `digest` gives the datagram's CRC-32, asked for only
   * when its length is that of our last reply, within the bounce window.
   */
  admit(source: string, length: number, digest: () => number): LoopVerdict {
    const now = this.#now();
    const state = this.#touch(source);
    const bounced =
      state.sentLength === length &&
      now - state.sentAt <= this.#bounceWindow &&
      state.sentDigest === digest();
    if (!bounced) {
      state.bounces = 0;
      return 'answer';
    }
    state.bounces++;
    if (state.bounces < this.#maxBounces) return 'answer';
    state.bounces = 0;
    // Not answered: not a reply of ours either, so the next datagram is no bounce.
    state.sentLength = undefined;
    return 'loop';
  }

  /** Records that a reply of `length` bytes with CRC-32 `digest` went to `source`. */
  replied(source: string, length: number, digest: number): void {
    const state = this.#touch(source);
    state.sentLength = length;
    state.sentDigest = digest;
    state.sentAt = this.#now();
  }

  #touch(source: string): SourceState {
    let state = this.#sources.get(source);
    if (state === undefined) {
      if (this.#sources.size >= this.#maxKeys) {
        const oldest = this.#sources.keys().next();
        if (oldest.done !== true) this.#sources.delete(oldest.value);
      }
      state = { sentLength: undefined, sentDigest: 0, sentAt: 0, bounces: 0 };
    } else {
      this.#sources.delete(source);
    }
    this.#sources.set(source, state);
    return state;
  }
}
