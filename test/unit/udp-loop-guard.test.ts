/**
 * The UDP loop guard as a pure policy, driven by a hand-held clock: bounces (our last reply sent
 * straight back) are counted per source; the one that completes a run is not answered.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LoopGuard } from '../../src/policy/loop-guard.js';

/** A guard on a clock the test moves by hand. */
function guard(
  options: { bounceWindow?: number; maxBounces?: number; blockFor?: number; maxKeys?: number } = {},
) {
  let now = 1000;
  const g = new LoopGuard({ ...options, now: () => now });
  const tick = (ms: number) => {
    now += ms;
  };
  return { g, tick };
}

const d = (n: number) => () => n;

describe('LoopGuard', () => {
  test('an echo loop is stopped at maxBounces: the bounce that completes the run is not answered', () => {
    const { g, tick } = guard({ maxBounces: 4, bounceWindow: 50 });
    const verdicts: string[] = [];
    // The other side answers each reply of ours at once, with the same bytes, until we stop.
    let inFlight = true;
    for (let i = 0; i < 10 && inFlight; i++) {
      const v = g.admit('B', 5, d(0xabc));
      verdicts.push(v);
      if (v === 'answer') g.replied('B', 5, 0xabc);
      else inFlight = false;
      tick(0.05);
    }
    // The first is no bounce (nothing sent yet), then 3 bounces answered, the 4th ends it.
    assert.deepEqual(verdicts, ['answer', 'answer', 'answer', 'answer', 'loop']);
    // Nothing blocked: the same source is answered again, as anyone would be.
    assert.equal(g.admit('B', 5, d(0xabc)), 'answer');
  });

  test('a client that does send the same message straight back loses one in maxBounces + 1', () => {
    const { g, tick } = guard({ maxBounces: 4, bounceWindow: 50 });
    let answered = 0;
    for (let i = 0; i < 50; i++) {
      if (g.admit('C', 2, d(1)) === 'answer') {
        g.replied('C', 2, 1);
        answered++;
      }
      tick(1);
    }
    assert.equal(answered, 50 - 10);
  });

  test('a real client: different messages, or the same one after its retry timeout, never blocked', () => {
    const { g, tick } = guard({ maxBounces: 2, bounceWindow: 50 });
    for (let i = 0; i < 100; i++) {
      assert.equal(g.admit('C', 4, d(i)), 'answer');
      g.replied('C', 4, i);
      tick(1);
    }
    for (let i = 0; i < 20; i++) {
      // The same message again, but only after 1 s (uclient's retry timeout).
      assert.equal(g.admit('C', 4, d(7)), 'answer');
      g.replied('C', 4, 7);
      tick(1000);
    }
  });

  test('one non-bounce resets the run; sources are counted apart', () => {
    const { g } = guard({ maxBounces: 3 });
    g.replied('A', 3, 1);
    assert.equal(g.admit('A', 3, d(1)), 'answer'); // bounce 1
    g.replied('A', 3, 1);
    assert.equal(g.admit('A', 3, d(2)), 'answer'); // another message: the run starts again
    g.replied('A', 3, 1);
    assert.equal(g.admit('A', 3, d(1)), 'answer'); // bounce 1
    g.replied('A', 3, 1);
    assert.equal(g.admit('B', 3, d(1)), 'answer'); // B has nothing from us
    assert.equal(g.admit('A', 3, d(1)), 'answer'); // bounce 2
    g.replied('A', 3, 1);
    assert.equal(g.admit('A', 3, d(1)), 'loop'); // bounce 3
  });

  test('the digest is asked for only when the length matches', () => {
    const { g } = guard();
    g.replied('A', 3, 1);
    let asked = 0;
    g.admit('A', 4, () => {
      asked++;
      return 1;
    });
    assert.equal(asked, 0);
  });

  test('memory is bounded: the least recently heard from source is forgotten', () => {
    const { g } = guard({ maxKeys: 3 });
    for (const s of ['a', 'b', 'c', 'd']) g.replied(s, 1, 1);
    assert.equal(g.size, 3);
  });

  test('bad options name the value', () => {
    assert.throws(() => new LoopGuard({ maxBounces: 0 }), /invalid max bounces '0'/);
    assert.throws(() => new LoopGuard({ bounceWindow: -1 }), /invalid bounce window '-1'/);
  });
});
