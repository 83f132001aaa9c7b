/**
 * A token bucket per key (a UDP server keys it by source address), in the spirit of DNS response
 * rate limiting: each source may get `burst` replies back to back, then `rate` per second. Pure:
 * no sockets, no timers; time comes from an injectable clock, so tests drive it by hand.
 *
 * Memory is bounded: at most `maxKeys` buckets are kept. A key is moved to the back on every use,
 * so when the table is full the one heard from least recently is forgotten. A flooding source is
 * used constantly and stays tracked; spoofing many sources only evicts idle ones, which lose
 * nothing but their history (a forgotten source starts again with a full bucket).
 */
import { DEFAULT_UDP_RATE_LIMIT_SOURCES } from '../defaults.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of a {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens added per second to each bucket (replies per second in the long run). Must be > 0. */
  rate: number;
  /** Bucket size: how many tokens a new or idle key has, i.e. the longest run of replies. */
  burst: number;
  /**
   * Most keys tracked at once; past it the least recently used key is evicted.
   * @default 10000
   */
  maxKeys?: number;
  /**
   * The clock, in milliseconds; only differences matter.
   * @default performance.now
   */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  /** Clock reading when `tokens` was last brought up to date. */
  updated: number;
}

/** Token buckets per key with a bounded number of keys. */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  readonly #buckets = new Map<string, Bucket>();
  #evicted = 0;

  constructor(options: RateLimiterOptions) {
    const { rate, burst } = options;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 1e9) {
      throw new InvalidArgumentError(`invalid rate '${rate}': expected a number of tokens per second > 0`);
    }
    if (!Number.isInteger(burst) || burst < 1 || burst > 1e9) {
      throw new InvalidArgumentError(`invalid burst '${burst}': expected an integer from 1 to 1000000000`);
    }
    const maxKeys = options.maxKeys ?? DEFAULT_UDP_RATE_LIMIT_SOURCES;
    if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1e8) {
      throw new InvalidArgumentError(
        `invalid max keys '${maxKeys}': expected an integer from 1 to 100000000`,
      );
    }
    this.#rate = rate;
    this.#burst = burst;
    this.#maxKeys = maxKeys;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Keys tracked now (at most `maxKeys`). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Keys forgotten so far to keep within `maxKeys`. */
  get evicted(): number {
    return this.#evicted;
  }

  /**
   * Takes one token from `key`'s bucket. Returns true if there was one (the reply may go out),
   * false if the bucket is empty (drop the reply).
   */
  take(key: string): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evictOldest();
      bucket = { tokens: this.#burst, updated: now };
    } else {
      this.#buckets.delete(key);
      // A clock that goes backwards (a hand-driven one in a test) adds nothing rather than taking.
      const elapsed = Math.max(0, now - bucket.updated);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (elapsed / 1000) * this.#rate);
      bucket.updated = now;
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Tokens `key` has now (the burst for an unknown key), without taking any. */
  peek(key: string): number {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return this.#burst;
    const elapsed = Math.max(0, this.#now() - bucket.updated);
    return Math.min(this.#burst, bucket.tokens + (elapsed / 1000) * this.#rate);
  }

  /** Forgets every key. */
  clear(): void {
    this.#buckets.clear();
  }

  #evictOldest(): void {
    const oldest = this.#buckets.keys().next();
    if (oldest.done !== true) {
      this.#buckets.delete(oldest.value);
      this.#evicted++;
    }
  }
}
