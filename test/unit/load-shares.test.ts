import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { share, shareByWeight } from '../../src/bench/load-threads.js';

describe('load shares across threads', () => {
  test('connections: as equal as whole numbers allow', () => {
    assert.deepEqual(share(5, 3), [2, 2, 1]);
    assert.deepEqual(share(Number.POSITIVE_INFINITY, 2), [
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    ]);
  });

  test('requests follow the connections, so that every thread ends about together', () => {
    // -c 3 -j 2 -n 600: the thread with 2 connections takes 400, not 300.
    assert.deepEqual(shareByWeight(600, share(3, 2)), [400, 200]);
    assert.deepEqual(shareByWeight(800, share(5, 4)), [320, 160, 160, 160]);
    assert.deepEqual(shareByWeight(1000, share(5, 3)), [400, 400, 200]);
    assert.deepEqual(shareByWeight(7, [1, 1, 1]), [3, 2, 2]);
    assert.deepEqual(shareByWeight(Number.POSITIVE_INFINITY, [2, 1]), [
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    ]);
  });

  test('every thread gets at least one request when there are as many as threads, and the sum is exact', () => {
    for (let threads = 2; threads <= 64; threads += 3) {
      for (const concurrency of [threads, threads + 1, 2 * threads - 1, 100, 99_999]) {
        for (const requests of [threads, threads + 1, 2 * threads + 1, 1001, 2 ** 40]) {
          const shares = shareByWeight(requests, share(concurrency, threads));
          assert.equal(
            shares.reduce((a, b) => a + b, 0),
            requests,
            `${requests} over ${threads} threads, c=${concurrency}`,
          );
          assert.ok(
            shares.every((n) => Number.isInteger(n) && n >= 1),
            `${requests} over c=${concurrency}, ${threads} threads: ${shares}`,
          );
        }
      }
    }
  });
});
