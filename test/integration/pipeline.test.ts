/**
 * The connection pipeline: stages that run before the service, read their own bytes (split at
 * every offset), hold the service until they finish and name the real client; and the stats
 * snapshot every server gives.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ProtocolError } from '../../src/errors.js';
import {
  createEchoServer,
  createGreetServer,
  createHelloServer,
  fetchHello,
  greet,
} from '../../src/index.js';
import { subscribeTrace, type TraceEvent } from '../../src/trace/events.js';
import {
  type Connection,
  type ConnectionStage,
  type PrefixResult,
  readPrefix,
} from '../../src/transport/connection.js';
import { closeSocket, rawConnect, readToEnd } from '../helpers/raw.js';

/**
 * A test stage: the connection starts with `PEER <address> <port>\n`, which names the client (as a
 * proxy's header would). `seen` reports how many bytes the parser has taken so far.
 */
function peerLineStage(
  options: { timeout?: number; onBytes?: (total: number) => void; log?: string[] } = {},
) {
  return {
    name: 'peer-line',
    async run(connection: Connection) {
      let buffered = Buffer.alloc(0);
      const parse = (chunk: Buffer): PrefixResult<{ address: string; port: number }> => {
        const before = buffered.length;
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf(0x0a);
        options.onBytes?.(end === -1 ? buffered.length : end + 1);
        if (end === -1) {
          if (buffered.length > 64) throw new ProtocolError('PEER line too long');
          return { done: false };
        }
        const match = /^PEER (\S+) (\d+)$/.exec(buffered.subarray(0, end).toString('latin1'));
        if (match === null) throw new ProtocolError('malformed PEER line');
        // The bytes of this chunk after the line belong to the service.
        const used = end + 1 - before;
        return {
          done: true,
          value: { address: match[1] as string, port: Number(match[2]) },
          unused: chunk.length - used,
        };
      };
      const peer = await readPrefix(connection.socket, parse, {
        timeout: options.timeout ?? 5000,
        what: 'PEER line',
      });
      connection.setClient({ ...peer, family: peer.address.includes(':') ? 'IPv6' : 'IPv4' });
      options.log?.push('stage done');
    },
  } satisfies ConnectionStage;
}

/** Resolves when `count()` reaches `n` (checked on each call of the returned notifier). */
function waiter(): { notify(total: number): void; until(n: number): Promise<void> } {
  let total = 0;
  let pending: { n: number; resolve: () => void } | undefined;
  return {
    notify(value) {
      total = value;
      if (pending !== undefined && total >= pending.n) {
        pending.resolve();
        pending = undefined;
      }
    },
    until(n) {
      return total >= n ? Promise.resolve() : new Promise((resolve) => (pending = { n, resolve }));
    },
  };
}

function collectTrace(): { events: TraceEvent[]; stop(): void } {
  const events: TraceEvent[] = [];
  const stop = subscribeTrace((event) => events.push(event));
  return { events, stop };
}

describe('a pipeline stage before the service', () => {
  const header = Buffer.from('PEER 203.0.113.7 40123\n');
  const payload = Buffer.from('hello through the stage\n');

  test('reads its header split at every offset; the service sees only what follows', async (t) => {
    const seen = waiter();
    const server = createEchoServer({
      host: '127.0.0.1',
      port: 0,
      stages: [peerLineStage({ onBytes: seen.notify })],
    });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const all = Buffer.concat([header, payload]);
    for (let cut = 1; cut < all.length; cut++) {
      const socket = await rawConnect(port);
      socket.setNoDelay(true);
      socket.write(all.subarray(0, cut));
      // The server has taken the first part before the rest is sent: two chunks, split at `cut`.
      await seen.until(Math.min(cut, header.length));
      socket.end(all.subarray(cut));
      const echoed = await readToEnd(socket);
      assert.deepEqual(echoed, payload, `split at ${cut}`);
      socket.destroy();
      seen.notify(0);
    }
    const stats = server.snapshot();
    assert.equal(stats.accepted, all.length - 1);
    assert.deepEqual(stats.errors, {});
    assert.equal(stats.outcomes['bytes-echoed'], payload.length * (all.length - 1));
  });

  test('header and data in one chunk: the bytes past the header go to the service', async (t) => {
    const server = createEchoServer({ host: '127.0.0.1', port: 0, stages: [peerLineStage()] });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const socket = await rawConnect(port);
    socket.end(Buffer.concat([header, payload]));
    assert.deepEqual(await readToEnd(socket), payload);
  });

  test('the trace and the accept show the client the stage named, and the proxy', async (t) => {
    const trace = collectTrace();
    t.after(() => trace.stop());
    const server = createEchoServer({ host: '127.0.0.1', port: 0, stages: [peerLineStage()] });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const socket = await rawConnect(port);
    const clientPort = socket.localPort;
    socket.end(Buffer.concat([header, payload]));
    await readToEnd(socket);
    await server.close();
    const accept = trace.events.find((e) => e.action === 'accept' && e.endpoint === server.endpoint);
    assert.deepEqual(accept?.remote, { address: '203.0.113.7', port: 40123, family: 'IPv4' });
    assert.equal(accept?.proxy?.address, '127.0.0.1');
    assert.equal(accept?.proxy?.port, clientPort);
  });

  test('a server that speaks first (hello) says nothing until the stage is done', async (t) => {
    const log: string[] = [];
    const seen = waiter();
    const trace = subscribeTrace((event) => {
      if (event.action === 'write' && event.role === 'server') log.push('hello written');
    });
    t.after(trace);
    const server = createHelloServer({
      host: '127.0.0.1',
      port: 0,
      stages: [peerLineStage({ log, onBytes: seen.notify })],
    });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const socket = await rawConnect(port);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write(header.subarray(0, 10));
    await seen.until(10);
    assert.deepEqual(log, []);
    assert.equal(server.snapshot().bytesOut, 0);
    socket.write(header.subarray(10));
    await once(socket, 'end');
    assert.deepEqual(log, ['stage done', 'hello written']);
    assert.equal(Buffer.concat(received).toString('latin1'), 'Hello World!\0');
    socket.destroy();
  });

  test('a stage that fails closes the connection unserved; its code is counted and traced', async (t) => {
    const trace = collectTrace();
    t.after(() => trace.stop());
    const server = createHelloServer({
      host: '127.0.0.1',
      port: 0,
      stages: [peerLineStage({ timeout: 200 })],
    });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const closed = (socket: Socket) => readToEnd(socket).catch(() => Buffer.alloc(0));

    const malformed = await rawConnect(port);
    malformed.write('GET / HTTP/1.0\r\n');
    assert.equal((await closed(malformed)).length, 0, 'a malformed header gets nothing');

    const silent = await rawConnect(port);
    assert.equal((await closed(silent)).length, 0, 'no header within the timeout gets nothing');

    const cut = await rawConnect(port);
    cut.end('PEER 1.2.3.4');
    assert.equal((await closed(cut)).length, 0, 'a cut header gets nothing');

    for (const socket of [malformed, silent, cut]) await closeSocket(socket);
    await server.close();
    const stats = server.snapshot();
    assert.equal(stats.accepted, 3);
    assert.equal(stats.bytesOut, 0);
    assert.deepEqual(stats.errors, { ERR_PROTOCOL: 2, ERR_READ_TIMEOUT: 1 });
    const reasons = trace.events
      .filter((e) => e.action === 'close' && e.endpoint === server.endpoint && e.connection !== undefined)
      .map((e) => e.reason)
      .sort();
    assert.deepEqual(reasons, ['ERR_PROTOCOL', 'ERR_PROTOCOL', 'ERR_READ_TIMEOUT']);
  });
});

describe('stats snapshot', () => {
  test('hello: accepted, open, bytes out after a known run', async (t) => {
    const server = createHelloServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const before = server.snapshot();
    assert.deepEqual(before, {
      transport: 'tcp',
      service: 'hello',
      accepted: 0,
      refused: 0,
      open: 0,
      errors: {},
      bytesIn: 0,
      bytesOut: 0,
      outcomes: {},
      healthChecks: 0,
      stages: {},
    });
    for (let i = 0; i < 5; i++) await fetchHello({ host: '127.0.0.1', port });
    await server.close();
    const after = server.snapshot();
    assert.equal(after.accepted, 5);
    assert.equal(after.open, 0);
    assert.equal(after.bytesOut, 5 * 13);
    assert.deepEqual(after.errors, {});
  });

  test("greet: each dialogue's outcome, bytes both ways, refusals", async (t) => {
    const server = createGreetServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    await greet({ host: '127.0.0.1', port, name: 'Bob' });
    await greet({ host: '127.0.0.1', port, name: 'Alice' });
    const rude = await rawConnect(port);
    rude.end('hey\n');
    await readToEnd(rude);
    rude.destroy();
    await server.close();
    const stats = server.snapshot();
    assert.equal(stats.service, 'greet');
    assert.equal(stats.accepted, 3);
    assert.deepEqual(stats.outcomes, { completed: 2, 'malformed-greeting': 1 });
    assert.equal(
      stats.bytesIn,
      Buffer.byteLength(
        "Hi. I'm Bob.\nNice to meet you, Jane.\nHi. I'm Alice.\nNice to meet you, Jane.\nhey\n",
      ),
    );
    assert.ok(stats.bytesOut > 0);
  });
});
