/**
 * Merging traces by their monotonic stamps: the order, ties, the `+ms` column, the parsing of
 * `--trace-format json` lines, and the note where the server went ahead of the client's connect().
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  earlyServerNote,
  formatMerged,
  formatOffset,
  mergeByStamp,
  parseTraceLine,
  type StampedLine,
} from '../../src/trace/merge.js';
import { lectureStep, type TraceEvent } from '../../src/trace/schema.js';

const BASE = 1_603_000_000_000n;
const SERVER = { address: '0.0.0.0', port: 9190, family: 'IPv4' as const };
const PEER = { address: '127.0.0.1', port: 40000, family: 'IPv4' as const };
const TARGET = { address: '127.0.0.1', port: 9190, family: 'IPv4' as const };

/** A stamped event `offsetNs` after BASE. */
function at(
  offsetNs: bigint,
  source: 'server' | 'client',
  seq: number,
  event: Omit<TraceEvent, 'step' | 'time' | 'monotonicNs' | 'transport' | 'role' | 'endpoint'>,
): StampedLine {
  const full: TraceEvent = {
    transport: 'tcp',
    role: source,
    endpoint: 1,
    step: lectureStep('tcp', source, event.action),
    time: 0,
    monotonicNs: String(BASE + offsetNs),
    ...event,
  };
  return { source, seq, stampNs: BASE + offsetNs, event: full };
}

// A hello run in which the server accepted, wrote and closed before the client saw connect().
const serverFirst: StampedLine[] = [
  at(0n, 'server', 0, { action: 'listen', local: SERVER, backlog: 511 }),
  at(1_000_000n, 'client', 0, { action: 'socket' }),
  at(1_200_000n, 'server', 1, { action: 'accept', connection: 1, remote: PEER }),
  at(1_300_000n, 'server', 2, { action: 'write', connection: 1, bytes: 13 }),
  at(1_350_000n, 'server', 3, { action: 'close', connection: 1 }),
  at(1_412_345n, 'client', 1, { action: 'connect', remote: TARGET, local: PEER }),
  at(1_500_000n, 'client', 2, { action: 'read', bytes: 13 }),
  at(1_600_000n, 'client', 3, { action: 'close' }),
];

/** Every ordering of `items`' indexes as a few fixed shuffles (deterministic, no randomness). */
function shuffles<T>(items: readonly T[]): T[][] {
  const reversed = [...items].reverse();
  const odd = [...items.filter((_, i) => i % 2 === 1), ...items.filter((_, i) => i % 2 === 0)];
  const rotated = [...items.slice(3), ...items.slice(0, 3)];
  return [[...items], reversed, odd, rotated];
}

describe('mergeByStamp', () => {
  test('orders by stamp, whatever order the lines came in', () => {
    const expected = serverFirst.map((l) => l.event?.action);
    for (const input of shuffles(serverFirst)) {
      assert.deepEqual(
        mergeByStamp(input).map((l) => l.event?.action),
        expected,
      );
    }
  });

  test('equal stamps: demo, then server, then client, then each source in its own order', () => {
    const lines: StampedLine[] = [
      { source: 'client', seq: 1, stampNs: 5n, text: 'c1' },
      { source: 'client', seq: 0, stampNs: 5n, text: 'c0' },
      { source: 'server', seq: 0, stampNs: 5n, text: 's0' },
      { source: 'demo', seq: 0, stampNs: 5n, text: 'd0' },
      { source: 'server', seq: 1, stampNs: 4n, text: 's1' },
    ];
    for (const input of shuffles(lines)) {
      assert.deepEqual(
        mergeByStamp(input).map((l) => l.text),
        ['s1', 'd0', 's0', 'c0', 'c1'],
      );
    }
  });
});

describe('formatOffset', () => {
  test('milliseconds with three decimals, rounded to the microsecond', () => {
    assert.equal(formatOffset(0n), '+0.000 ms');
    assert.equal(formatOffset(412_345n), '+0.412 ms');
    assert.equal(formatOffset(412_500n), '+0.413 ms');
    assert.equal(formatOffset(1_234_567_890n), '+1234.568 ms');
  });
});

describe('parseTraceLine', () => {
  test('an event line of --trace-format json, and nothing else', () => {
    const event = serverFirst[2]?.event as TraceEvent;
    assert.deepEqual(parseTraceLine(JSON.stringify(event)), event);
    assert.equal(parseTraceLine('hserver: listening on 0.0.0.0:9190'), undefined);
    assert.equal(parseTraceLine('{not json'), undefined);
    assert.equal(parseTraceLine('{"transport":"tcp","role":"server","action":"accept"}'), undefined);
    assert.equal(parseTraceLine(JSON.stringify({ ...event, monotonicNs: '12.5' })), undefined);
    assert.equal(parseTraceLine('[1,2]'), undefined);
  });
});

describe('formatMerged', () => {
  test('each event with its time since the first, right-aligned; plain lines as they are', () => {
    const lines = formatMerged([
      ...serverFirst.slice(0, 2),
      { source: 'demo', seq: 0, stampNs: BASE + 500_000n, text: '$ bin/hclient 127.0.0.1 9190' },
    ]);
    assert.deepEqual(lines, [
      '+0.000 ms [server] 3 listen(): waiting for connection requests, backlog 511',
      '$ bin/hclient 127.0.0.1 9190',
      '+1.000 ms [client] 1 socket(): TCP socket created',
    ]);
  });

  test('a server that went ahead of connect(): one line says why, just before the connect line', () => {
    for (const lang of ['en', 'ko'] as const) {
      const lines = formatMerged(serverFirst, lang);
      const note = lines.findIndex(
        (l) => l.trim() === earlyServerNote(['accept()', 'write()', 'close()'], lang),
      );
      assert.notEqual(note, -1, lines.join('\n'));
      assert.match(lines[note + 1] ?? '', /^\+1\.412 ms \[(client|클라이언트)\] 2 /);
      assert.equal(lines.length, serverFirst.length + 1);
    }
    assert.equal(
      earlyServerNote(['accept()', 'write()', 'close()'], 'en'),
      "note: the server's accept(), write() and close() came before the client process saw connect() return: the kernel had finished the handshake for both sides, so the server did not wait for the client process to run again.",
    );
    assert.match(
      earlyServerNote(['accept()', 'write()', 'close()'], 'ko'),
      /^참고: .*accept\(\), write\(\), close\(\)/,
    );
  });

  test('no note when connect() came first, nor for another connection', () => {
    const connectFirst = serverFirst.map((l) =>
      l.event?.action === 'connect' && l.source === 'client' ? { ...l, stampNs: BASE + 1_100_000n } : l,
    );
    assert.equal(formatMerged(connectFirst).length, serverFirst.length);
    const otherClient = serverFirst.map((l) =>
      l.event?.action === 'connect' ? { ...l, event: { ...l.event, local: { ...PEER, port: 40001 } } } : l,
    );
    assert.equal(formatMerged(otherClient).length, serverFirst.length);
  });

  test('the same lines give the same text, in any input order', () => {
    const expected = formatMerged(serverFirst);
    for (const input of shuffles(serverFirst)) assert.deepEqual(formatMerged(input), expected);
  });
});
