/**
 * The classic services on real loopback sockets: chargen's backpressure (a client that stops
 * reading costs a bounded buffer, and the stream ends when the client goes), discard's count,
 * qotd's turns, time at the 2036 wrap with an injected clock, and over UDP the rate limit, the
 * low-port rule and discard's silence.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { chargenLine } from '../../src/protocol/chargen.js';
import {
  createChargenServer,
  createUdpChargenServer,
  fetchUdpChargen,
  readChargen,
} from '../../src/services/chargen.js';
import { createDaytimeServer, fetchDaytime } from '../../src/services/daytime.js';
import {
  createDiscardServer,
  createUdpDiscardServer,
  sendDiscard,
  sendUdpDiscard,
} from '../../src/services/discard.js';
import { createQotdServer, createUdpQotdServer, fetchQuote, fetchUdpQuote } from '../../src/services/qotd.js';
import { createTimeServer, createUdpTimeServer, fetchTime } from '../../src/services/time.js';
import { subscribeTrace, type TraceEvent } from '../../src/trace/events.js';
import { formatTraceEvent } from '../../src/trace/schema.js';
import type { TcpServer } from '../../src/transport/tcp-server.js';
import type { UdpServer } from '../../src/transport/udp-server.js';
import { openPeer } from '../helpers/udp.js';
import { until } from '../helpers/wait.js';

const HOSTS = ['127.0.0.1', '::1'] as const;

async function started(t: TestContext, server: TcpServer | UdpServer): Promise<number> {
  const { port } = await server.listen();
  t.after(() => server.destroy());
  return port;
}

describe('TCP chargen', () => {
  test('a client that stops reading: the server waits for drain, its queue stays bounded; closing ends it', async (t) => {
    const highWaterMark = 16 * 1024;
    const pauses: number[] = [];
    const server = createChargenServer({
      port: 0,
      host: '127.0.0.1',
      highWaterMark,
      onPause: (_id, buffered) => pauses.push(buffered),
    });
    const port = await started(t, server);
    const socket = connect({ port, host: '127.0.0.1' });
    t.after(() => socket.destroy());
    await once(socket, 'connect');
    socket.pause(); // reads nothing: the kernel's buffers fill, then the server's queue
    await until(() => pauses.length > 0, 'the server to wait for drain');
    const generated = server.stats.bytesGenerated;
    // One write of 95 lines past the mark at most, never more: the server waits.
    assert.ok(
      server.stats.peakBufferedBytes <= highWaterMark + 95 * 74,
      `peak ${server.stats.peakBufferedBytes}`,
    );
    assert.ok(pauses.every((b) => b <= highWaterMark + 95 * 74));
    // While the client is stopped, the server makes nothing more (checked over many loop turns).
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.equal(server.stats.bytesGenerated, generated);
    socket.destroy();
    await until(() => server.connections === 0, 'the server to drop the connection once the client closed');
    assert.equal(server.snapshot().outcomes['bytes-generated'], server.stats.bytesGenerated);
  });

  test("close() ends each reading client's stream with a FIN at once, not after the close timeout", async (t) => {
    // A close timeout longer than the test's own: only a FIN sent at close() lets this pass.
    const server = createChargenServer({ port: 0, host: '127.0.0.1', closeTimeout: 600_000 });
    const port = await started(t, server);
    const socket = connect({ port, host: '127.0.0.1' });
    t.after(() => socket.destroy());
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (chunks.length < 4) chunks.push(chunk);
    });
    await until(() => received > 10_000, 'the stream to start');
    const ended = once(socket, 'end');
    const closed = server.close();
    await ended; // the FIN, not a reset (which would be 'error')
    await closed;
    assert.equal(server.connections, 0);
    // What came before the FIN is whole lines of the pattern.
    const head = Buffer.concat(chunks);
    assert.deepEqual(head.subarray(0, 74), chargenLine('rfc864', 0));
    assert.equal(received % 74, 0, `${received} bytes: whole lines only`);
  });

  for (const host of HOSTS) {
    test(`readChargen over ${host}: 1 MB checked byte by byte; the server stops when the client closes`, async (t) => {
      const server = createChargenServer({ port: 0, host });
      const port = await started(t, server);
      const reading = await readChargen({ host, port, bytes: 1_000_000 });
      assert.equal(reading.bytes, 1_000_000);
      assert.deepEqual(reading.patterns, ['rfc864']);
      assert.equal(
        reading.firstLine.toString('latin1'),
        chargenLine('rfc864', 0).subarray(0, 72).toString('latin1'),
      );
      await until(() => server.connections === 0, 'the chargen session to end');
      assert.ok(server.stats.bytesGenerated >= 1_000_000);
    });
  }

  test('a server whose bytes are no chargen: the client says at which offset it broke', async (t) => {
    // Line 40 starts with H: the first byte fits, the second cannot.
    const port = await started(t, createQotdServer({ port: 0, host: '127.0.0.1', quotes: ['Hello'] }));
    await assert.rejects(readChargen({ host: '127.0.0.1', port, bytes: 100 }), {
      code: 'ERR_PATTERN_MISMATCH',
      offset: 1,
      message: /byte offset 1: 0x65 where 0x49 was due/,
    });
  });

  test('a reply whose line ends too soon: the CR where a character was due is the offset', async (t) => {
    const port = await started(t, createQotdServer({ port: 0, host: '127.0.0.1', quotes: [' !"#'] }));
    await assert.rejects(readChargen({ host: '127.0.0.1', port, bytes: 100 }), {
      code: 'ERR_PATTERN_MISMATCH',
      offset: 4,
    });
  });
});

describe('TCP discard, time, daytime, qotd', () => {
  test('discard: every byte counted, the server closes after the client, trace and stats agree', async (t) => {
    const events: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((e) => events.push(e));
    t.after(unsubscribe);
    const server = createDiscardServer({ port: 0, host: '127.0.0.1' });
    const port = await started(t, server);
    async function* input() {
      for (let i = 0; i < 20; i++) yield Buffer.alloc(50_000, i);
    }
    assert.deepEqual(await sendDiscard({ host: '127.0.0.1', port, input: input() }), { bytes: 1_000_000 });
    await until(() => server.connections === 0, 'the discard session to close');
    assert.equal(server.bytesDiscarded, 1_000_000);
    assert.equal(server.snapshot().outcomes['bytes-discarded'], 1_000_000);
    const reads = events.filter((e) => e.role === 'server' && e.action === 'read');
    assert.equal(
      reads.reduce((n, e) => n + (e.bytes ?? 0), 0),
      1_000_000,
    );
    const actions = events.filter((e) => e.role === 'server' && e.transport === 'tcp').map((e) => e.action);
    assert.ok(
      actions.indexOf('eof') < actions.indexOf('shutdown') &&
        actions.indexOf('shutdown') < actions.lastIndexOf('close'),
    );
  });

  test('time at the 2036 wrap (an injected clock): 00 00 00 00, decoded as 2036-02-07T06:28:16Z', async (t) => {
    const wrap = Date.UTC(2036, 1, 7, 6, 28, 16);
    const port = await started(t, createTimeServer({ port: 0, host: '::1', now: () => wrap + 500 }));
    const time = await fetchTime({ host: '::1', port });
    assert.equal(time.seconds, 0);
    assert.equal(time.date.toISOString(), '2036-02-07T06:28:16.000Z');
  });

  test('daytime with an injected clock: the line and its moment', async (t) => {
    const port = await started(
      t,
      createDaytimeServer({ port: 0, host: '127.0.0.1', now: () => Date.UTC(2026, 11, 7, 5, 48, 23) }),
    );
    const reply = await fetchDaytime({ host: '127.0.0.1', port });
    assert.equal(reply.text, '07 DEC 2026 05:48:23 UTC');
    assert.equal(reply.date?.toISOString(), '2026-12-07T05:48:23.000Z');
  });

  test('qotd: each client the next quote, multi-line ones with CR LF on the wire', async (t) => {
    const port = await started(
      t,
      createQotdServer({ port: 0, host: '127.0.0.1', quotes: ['one', 'two lines\n  -- someone'] }),
    );
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await fetchQuote({ host: '127.0.0.1', port }));
    assert.deepEqual(got, ['one\n', 'two lines\n  -- someone\n', 'one\n']);
    assert.throws(() => createQotdServer({ port: 0, quotes: ['x'.repeat(600)] }), {
      code: 'ERR_INVALID_ARG',
    });
  });
});

describe('UDP chargen, qotd, time, discard', () => {
  test('chargen rfc864: each reply as long as the size source says (at most 512), lines going on between replies', async (t) => {
    const sizes = [0, 512, 100, 9_999, 3];
    const server = createUdpChargenServer({ port: 0, host: '127.0.0.1', size: () => sizes.shift() ?? 0 });
    const port = await started(t, server);
    const lengths = [];
    for (let i = 0; i < 5; i++)
      lengths.push((await fetchUdpChargen({ host: '127.0.0.1', port })).datagram.length);
    assert.deepEqual(lengths, [0, 512, 100, 512, 3]);
  });

  test('the amplifiers keep the rate limit: past the burst, nothing comes back', async (t) => {
    const server = createUdpQotdServer({ port: 0, host: '127.0.0.1', rateLimit: { burst: 3, rate: 0.001 } });
    const port = await started(t, server);
    for (let i = 0; i < 3; i++) assert.match(await fetchUdpQuote({ host: '127.0.0.1', port }), /the lecture/);
    await assert.rejects(fetchUdpQuote({ host: '127.0.0.1', port, timeout: 200, retries: 0 }), {
      code: 'ERR_NO_REPLY',
    });
    assert.equal(server.dropped, 1);
  });

  test('no reply to a source port below minSourcePort (xinetd answers none below 1024)', async (t) => {
    const events: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((e) => events.push(e));
    t.after(unsubscribe);
    // Every port is below 65535 but that one: the test's own port stands for a low one.
    const server = createUdpTimeServer({ port: 0, host: '127.0.0.1', minSourcePort: 65535 });
    const port = await started(t, server);
    const peer = await openPeer('127.0.0.1');
    t.after(() => peer.close());
    await peer.send(Buffer.alloc(0), port, '127.0.0.1');
    await until(() => server.loopDropped.lowPort === 1, 'the datagram to be dropped');
    assert.equal(peer.queued, 0);
    assert.equal(server.snapshot().outcomes['loop:low-port'], 1);
    const drop = events.find((e) => e.action === 'drop');
    assert.ok(drop !== undefined);
    assert.match(formatTraceEvent(drop, 'en'), /not sent \(low port\)/);
    assert.match(formatTraceEvent(drop, 'ko'), /1024 미만의 포트/);
  });

  test('discard: datagrams counted, none answered', async (t) => {
    const server = createUdpDiscardServer({ port: 0, host: '::1' });
    const port = await started(t, server);
    const datagrams = [Buffer.from('one'), Buffer.alloc(0), Buffer.alloc(1_400, 1)];
    assert.deepEqual(await sendUdpDiscard({ host: '::1', port, datagrams }), { datagrams: 3, bytes: 1_403 });
    await until(() => server.received === 3, 'three datagrams to arrive');
    assert.equal(server.replied, 0);
    assert.equal(server.snapshot().bytesIn, 1_403);
  });
});
