import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LatencyHistogram } from '../../src/bench/histogram.js';

describe('LatencyHistogram', () => {
  test('empty: zeros', () => {
    const h = new LatencyHistogram();
    assert.equal(h.count, 0);
    assert.equal(h.percentile(50), 0);
    assert.equal(h.max, 0);
    assert.equal(h.mean, 0);
  });

  test('small values are exact', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    assert.equal(h.percentile(50), 50);
    assert.equal(h.percentile(90), 90);
    assert.equal(h.percentile(99), 99);
    assert.equal(h.percentile(100), 100);
    assert.equal(h.min, 1);
    assert.equal(h.max, 100);
    assert.equal(h.mean, 50.5);
  });

  test('large values within 0.2% and never above the exact max', () => {
    const h = new LatencyHistogram();
    const values = [2_500, 12_345, 99_999, 1_234_567, 60_000_000];
    for (const v of values) h.record(v);
    for (const [i, v] of values.entries()) {
      const p = ((i + 1) / values.length) * 100;
      const got = h.percentile(p);
      assert.ok(Math.abs(got - v) / v < 0.002, `p${p}: ${got} vs ${v}`);
    }
    assert.equal(h.percentile(100), 60_000_000);
  });

  test('percentiles follow the distribution', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 990; i++) h.record(500);
    for (let i = 0; i < 10; i++) h.record(50_000);
    assert.equal(h.percentile(50), 500);
    assert.equal(h.percentile(99), 500);
    assert.ok(h.percentile(99.5) >= 49_900);
  });

  test('merge adds counts', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(10);
    b.record(30);
    b.record(20);
    a.merge(b);
    assert.equal(a.count, 3);
    assert.equal(a.percentile(50), 20);
    assert.equal(a.max, 30);
    assert.equal(a.min, 10);
  });

  test('negative and fractional input', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(2.6);
    assert.equal(h.min, 0);
    assert.equal(h.max, 3);
  });

  test('toData and fromData keep every percentile, through structured clone', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 5000; i++) h.record((i * 7919) % 200_000);
    const copy = LatencyHistogram.fromData(structuredClone(h.toData()));
    assert.equal(copy.count, h.count);
    assert.equal(copy.mean, h.mean);
    assert.equal(copy.min, h.min);
    assert.equal(copy.max, h.max);
    for (const p of [0, 1, 50, 90, 99, 99.9, 100]) assert.equal(copy.percentile(p), h.percentile(p));
    assert.ok(h.toData().buckets.length < 5000, 'only non-empty buckets are sent');
  });

  test('fromData refuses data that is not a histogram', () => {
    const data = { buckets: [[3, 2]] as Array<[number, number]>, total: 2, sum: 6, max: 3, min: 3 };
    assert.equal(LatencyHistogram.fromData(data).percentile(50), 3);
    assert.throws(() => LatencyHistogram.fromData({ ...data, total: 3 }), /do not add up/);
    assert.throws(() => LatencyHistogram.fromData({ ...data, buckets: [[-1, 2]] }), /bucket/);
    assert.throws(() => LatencyHistogram.fromData({ ...data, buckets: [[1e9, 2]] }), /bucket/);
    assert.throws(() => LatencyHistogram.fromData({ ...data, buckets: [[3, 0]] }), /bucket/);
  });
});
