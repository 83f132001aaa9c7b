import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { RateLimiter } from '../../src/policy/rate-limit.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  };
}

function takeMany(limiter: RateLimiter, key: string, n: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (limiter.take(key)) allowed++;
  return allowed;
}

describe('RateLimiter', () => {
  test('a new source gets exactly the burst, then nothing while time stands still', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ rate: 10, burst: 5, now: clock.now });
    assert.equal(takeMany(limiter, '192.0.2.1', 50), 5);
    assert.equal(limiter.take('192.0.2.1'), false);
  });

  test('tokens come back at the rate, never above the burst', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ rate: 10, burst: 5, now: clock.now });
    takeMany(limiter, 'a', 5);
    clock.advance(100); // 10/s for 0.1 s: one token
    assert.equal(takeMany(limiter, 'a', 10), 1);
    clock.advance(250); // 2.5 tokens: two whole ones, half a token kept
    assert.equal(takeMany(limiter, 'a', 10), 2);
    clock.advance(50); // the kept half plus another half
    assert.equal(takeMany(limiter, 'a', 10), 1);
    clock.advance(60_000); // a long pause refills to the burst only
    assert.equal(takeMany(limiter, 'a', 100), 5);
  });

  test('a fractional rate works (one reply every two seconds)', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ rate: 0.5, burst: 1, now: clock.now });
    assert.equal(limiter.take('a'), true);
    clock.advance(1_999);
    assert.equal(limiter.take('a'), false);
    clock.advance(1);
    assert.equal(limiter.take('a'), true);
  });

  test('each source has its own bucket: a flooding source does not starve another', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ rate: 1, burst: 3, now: clock.now });
    assert.equal(takeMany(limiter, 'flooder', 1_000), 3);
    assert.equal(takeMany(limiter, 'other', 2), 2);
    assert.equal(takeMany(limiter, '::1', 5), 3);
  });

  test('a clock going backwards adds no tokens and takes none away', () => {
    const clock = manualClock(10_000);
    const limiter = new RateLimiter({ rate: 1, burst: 2, now: clock.now });
    takeMany(limiter, 'a', 2);
    clock.set(5_000);
    assert.equal(limiter.take('a'), false);
    clock.set(6_000);
    assert.equal(limiter.take('a'), true);
  });

  test('memory is bounded: past maxKeys the least recently used source is forgotten', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ rate: 1, burst: 2, maxKeys: 3, now: clock.now });
    takeMany(limiter, 'flooder', 2); // empty bucket
    for (let i = 0; i < 1_000; i++) {
      limiter.take(`spoofed-${i}`);
      // The flooder keeps sending, so it stays the most recently used and is never evicted.
      assert.equal(limiter.take('flooder'), false);
      assert.ok(limiter.size <= 3);
    }
    assert.equal(limiter.size, 3);
    assert.equal(limiter.evicted, 998);
    // An idle source that was evicted starts again with a full bucket.
    assert.equal(limiter.peek('spoofed-0'), 2);
    assert.equal(takeMany(limiter, 'spoofed-0', 5), 2);
  });

  test('peek shows the tokens without taking any', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ rate: 2, burst: 4, now: clock.now });
    assert.equal(limiter.peek('a'), 4);
    takeMany(limiter, 'a', 3);
    assert.equal(limiter.peek('a'), 1);
    clock.advance(500);
    assert.equal(limiter.peek('a'), 2);
    assert.equal(limiter.peek('a'), 2);
    limiter.clear();
    assert.equal(limiter.size, 0);
  });

  test('options are validated, naming the value', () => {
    for (const [options, pattern] of [
      [{ rate: 0, burst: 1 }, /invalid rate '0'/],
      [{ rate: -1, burst: 1 }, /invalid rate '-1'/],
      [{ rate: Number.NaN, burst: 1 }, /invalid rate 'NaN'/],
      [{ rate: 1, burst: 0 }, /invalid burst '0'/],
      [{ rate: 1, burst: 1.5 }, /invalid burst '1.5'/],
      [{ rate: 1, burst: 1, maxKeys: 0 }, /invalid max keys '0'/],
    ] as const) {
      assert.throws(
        () => new RateLimiter(options),
        (error: unknown) =>
          error instanceof InvalidArgumentError &&
          error.code === 'ERR_INVALID_ARG' &&
          pattern.test(error.message),
      );
    }
  });
});
