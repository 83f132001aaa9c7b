import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BusyMeter } from '../../src/view/busy-meter.js';

// n connections evenly spread over [from, to).
function accept(meter: BusyMeter, n: number, from: number, to: number): void {
  for (let i = 0; i < n; i++) meter.accepted(from + ((to - from) * i) / n);
}

test('BusyMeter: busy only after a full window above the threshold', () => {
  const meter = new BusyMeter(200, 0);
  accept(meter, 150, 0, 400);
  // 150 in 400 ms is 375 a second, but the window is not over: still quiet.
  assert.equal(meter.busy(400), false);
  accept(meter, 30, 400, 500);
  // 180 in 500 ms: 360 a second, above 200.
  assert.equal(meter.busy(500), true);
  // Within the next window the answer holds while connections come.
  accept(meter, 20, 500, 700);
  assert.equal(meter.busy(700), true);
  accept(meter, 40, 700, 1100);
  // 60 in 600 ms: 100 a second.
  assert.equal(meter.busy(1100), false);
});

test('BusyMeter: quiet at once after a quarter of a second without a connection', () => {
  const meter = new BusyMeter(200, 0);
  accept(meter, 1000, 0, 1000);
  assert.equal(meter.busy(1000), true);
  assert.equal(meter.busy(1200), true);
  // The load stopped at about 1000: 300 ms later, quiet, without waiting for the window.
  assert.equal(meter.busy(1300), false);
  // quietAt: the last connection's time and the quarter of a second.
  const q = new BusyMeter(200, 0);
  q.accepted(40);
  assert.equal(q.quietAt, 290);
  // One connection after the load: quiet, its window does not hold the load's tail.
  const after = new BusyMeter(200, 0);
  accept(after, 1000, 0, 1000);
  assert.equal(after.busy(1000), true);
  after.accepted(1400);
  assert.equal(after.busy(1401), false);
  assert.equal(after.busy(2000), false);
});

test('BusyMeter: exactly the threshold is not busy; one more is', () => {
  const a = new BusyMeter(200, 0);
  accept(a, 100, 0, 500);
  assert.equal(a.busy(500), false);
  const b = new BusyMeter(200, 0);
  accept(b, 101, 0, 500);
  assert.equal(b.busy(500), true);
});
