/**
 * The PROXY protocol stage on real loopback sockets: the header names the client, the service
 * starts only once it is complete and never sees its bytes, and whatever is not a header from a
 * trusted proxy is closed unserved, counted by reason.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import {
  createEchoServer,
  createGreetServer,
  createHelloServer,
  ProxyProtocolStage,
} from '../../src/index.js';
import { subscribeTrace, type TraceEvent } from '../../src/trace/events.js';
import type { TcpServer } from '../../src/transport/tcp-server.js';
import { readToEnd } from '../helpers/raw.js';
import { until } from '../helpers/wait.js';

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 PROXY header for TCP over IPv4 from 203.0.113.7:40000 to 198.51.100.1:9190. */
function v2Tcp4(): Buffer {
  const block = Buffer.alloc(12);
  Buffer.from([203, 0, 113, 7]).copy(block, 0);
  Buffer.from([198, 51, 100, 1]).copy(block, 4);
  block.writeUInt16BE(40000, 8);
  block.writeUInt16BE(9190, 10);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0, 12]), block]);
}

const V1 = 'PROXY TCP4 203.0.113.7 198.51.100.1 40000 9190\r\n';
const V2_LOCAL = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0, 0])]);

async function started(server: TcpServer, t: { after(fn: () => unknown): void }): Promise<number> {
  t.after(() => server.destroy());
  return (await server.listen()).port;
}

/** Connects from `localAddress` (another 127.x address stands for a host that is not the proxy). */
async function connectFrom(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', localAddress, allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

/** Collects the trace while `fn` runs. */
async function traced<T>(fn: () => Promise<T>): Promise<{ value: T; events: TraceEvent[] }> {
  const events: TraceEvent[] = [];
  const unsubscribe = subscribeTrace((event) => events.push(event));
  try {
    return { value: await fn(), events };
  } finally {
    unsubscribe();
  }
}

const stage = (options: Partial<ConstructorParameters<typeof ProxyProtocolStage>[0]> = {}) =>
  new ProxyProtocolStage({ trusted: ['127.0.0.1/32'], ...options });

describe('PROXY protocol stage', () => {
  test('v1 and v2: the hello comes after the header, and the trace names the client and the proxy', async (t) => {
    const server = createHelloServer({ port: 0, host: '127.0.0.1', stages: [stage()] });
    const port = await started(server, t);
    for (const header of [Buffer.from(V1), v2Tcp4()]) {
      const { value, events } = await traced(async () => {
        const socket = await connectFrom(port);
        const reply = readToEnd(socket);
        socket.write(header);
        return { reply: await reply, proxyPort: socket.localPort };
      });
      assert.equal(value.reply.toString('latin1'), 'Hello World!\0');
      const accept = events.find((e) => e.action === 'accept');
      assert.deepEqual(accept?.remote, { address: '203.0.113.7', port: 40000, family: 'IPv4' });
      assert.equal(accept?.proxy?.port, value.proxyPort);
    }
    const stats = server.snapshot();
    assert.equal(stats.accepted, 2);
    assert.deepEqual(stats.errors, {});
    assert.deepEqual(stats.stages['proxy-protocol'], { v1: 1, v2: 1 });
  });

  test('nothing is sent before the header is complete, cut at every offset of a v1 line', async (t) => {
    const server = createHelloServer({ port: 0, host: '127.0.0.1', stages: [stage()] });
    const port = await started(server, t);
    for (const cut of [1, 6, 20, V1.length - 1]) {
      const socket = await connectFrom(port);
      let early = 0;
      socket.on('data', (chunk: Buffer) => (early += chunk.length));
      socket.write(V1.slice(0, cut));
      // Nothing is to arrive, so there is no event to wait for: give the server a moment to err.
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(early, 0, `bytes arrived with only ${cut} bytes of the header sent`);
      socket.removeAllListeners('data');
      const reply = readToEnd(socket);
      socket.write(V1.slice(cut));
      assert.equal((await reply).toString('latin1'), 'Hello World!\0');
    }
  });

  test("the header's bytes never reach the service: echo returns what follows it in the same segment", async (t) => {
    const server = createEchoServer({ port: 0, host: '127.0.0.1', stages: [stage()] });
    const port = await started(server, t);
    const socket = await connectFrom(port);
    const reply = readToEnd(socket);
    socket.end(Buffer.concat([v2Tcp4(), Buffer.from('ping\n')]));
    assert.equal((await reply).toString(), 'ping\n');
  });

  test('greet through a v1 header: the dialogue runs as without one', async (t) => {
    const server = createGreetServer({ port: 0, host: '127.0.0.1', stages: [stage()] });
    const port = await started(server, t);
    const socket = await connectFrom(port);
    const reply = readToEnd(socket);
    socket.write(`${V1}Hi. I'm Bob.\n`);
    socket.once('data', () => socket.end('Nice to meet you, Jane.\n'));
    const text = (await reply).toString();
    assert.match(text, /^Hi, Bob\. I'm Jane\n/);
    assert.equal(server.snapshot().outcomes.completed, 1);
  });

  test('a forged header from a host that is not a trusted proxy is not read, and no one is served', async (t) => {
    const server = createHelloServer({ port: 0, host: '127.0.0.1', stages: [stage()] });
    const port = await started(server, t);
    const { value, events } = await traced(async () => {
      // The reset may come before connect() returns here: no waiting for 'connect'.
      const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3', allowHalfOpen: true });
      const reply = readToEnd(socket).catch(() => Buffer.from('(reset)'));
      socket.write('PROXY TCP4 6.6.6.6 127.0.0.1 6666 9190\r\n');
      const bytes = await reply;
      await until(() => server.snapshot().errors.ERR_UNTRUSTED_PROXY === 1, 'the refusal to be counted');
      return bytes;
    });
    assert.ok(!value.toString().includes('Hello'), `served: ${value}`);
    assert.ok(!JSON.stringify(events).includes('6.6.6.6'), 'the forged address reached the trace');
    const stats = server.snapshot();
    assert.deepEqual(stats.errors, { ERR_UNTRUSTED_PROXY: 1 });
    assert.deepEqual(stats.stages['proxy-protocol'], { 'refused:untrusted': 1 });
  });

  test('an untrusted peer is always reset, whether its header arrived before the refusal or after (20 tries)', async (t) => {
    const server = createHelloServer({ port: 0, host: '127.0.0.1', stages: [stage()] });
    const port = await started(server, t);
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      // The reset may come before connect() has returned here: listen for it from the start.
      const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3', allowHalfOpen: true });
      const outcome = new Promise<string>((resolve) => {
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        socket.once('end', () => resolve('clean close'));
        socket.resume();
      });
      // As the README's example does: the header as soon as connected, then read.
      socket.write('PROXY TCP4 6.6.6.6 127.0.0.1 6666 9190\r\n');
      outcomes.push(await outcome);
      socket.destroy();
    }
    assert.deepEqual(new Set(outcomes), new Set(['ECONNRESET']), outcomes.join(', '));
    await until(() => server.snapshot().errors.ERR_UNTRUSTED_PROXY === 20, 'the refusals to be counted');
  });

  test('no header, a cut one, a malformed one, a UDP one and a slow one are refused by reason', async (t) => {
    const server = createHelloServer({
      port: 0,
      host: '127.0.0.1',
      stages: [stage({ timeout: 150 })],
    });
    const port = await started(server, t);
    const udp = v2Tcp4();
    udp[13] = 0x12;
    const cases: [string, Buffer | string, boolean][] = [
      ['not-proxy', 'GET / HTTP/1.0\r\n\r\n', false],
      ['incomplete', 'PROXY TCP4 1.2.3.4', true],
      ['v1-malformed', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n', false],
      ['v1-too-long', `PROXY UNKNOWN ${'x'.repeat(120)}`, false],
      ['wrong-family', udp, false],
      ['timeout', 'PROXY ', false],
    ];
    for (const [reason, bytes, endAfter] of cases) {
      const socket = await connectFrom(port);
      const reply = readToEnd(socket).catch(() => Buffer.alloc(0));
      if (endAfter) socket.end(bytes);
      else socket.write(bytes);
      assert.equal((await reply).length, 0, `${reason}: the service answered`);
      socket.destroy();
    }
    await until(() => server.connections === 0, 'every refused connection to close');
    const stats = server.snapshot();
    assert.equal(stats.accepted, cases.length);
    assert.deepEqual(
      stats.stages['proxy-protocol'],
      Object.fromEntries(
        [...cases.map(([reason]) => [`refused:${reason}`, 1]), ['v2', 1]].sort(([a], [b]) =>
          String(a) < String(b) ? -1 : 1,
        ),
      ),
    );
    assert.equal(stats.errors.ERR_PROXY_HEADER, 4);
  });

  test('LOCAL (a health check) is served but counted apart: not a client, never an error', async (t) => {
    const server = createHelloServer({ port: 0, host: '127.0.0.1', stages: [stage()] });
    const port = await started(server, t);
    const socket = await connectFrom(port);
    const reply = readToEnd(socket);
    socket.write(V2_LOCAL);
    assert.equal((await reply).toString('latin1'), 'Hello World!\0');
    // A check that only connects and hangs up, as HAProxy's do without a header.
    const probe = await connectFrom(port);
    probe.end();
    await once(probe, 'close');
    await until(() => server.snapshot().healthChecks === 2, 'the probe to be counted');
    const stats = server.snapshot();
    assert.equal(stats.accepted, 0);
    assert.equal(stats.healthChecks, 2);
    assert.deepEqual(stats.errors, {});
  });

  test('trusted proxies are checked by CIDR, IPv6 too', async (t) => {
    const server = createHelloServer({
      port: 0,
      host: '::1',
      stages: [new ProxyProtocolStage({ trusted: ['::1/128'] })],
    });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const socket = connect({ port, host: '::1' });
    await once(socket, 'connect');
    const reply = readToEnd(socket);
    socket.write('PROXY TCP6 2001:db8::1 ::1 40000 9190\r\n');
    assert.equal((await reply).toString('latin1'), 'Hello World!\0');
    assert.throws(() => new ProxyProtocolStage({ trusted: ['10.0.0.0/33'] }), /10\.0\.0\.0\/33/);
  });
});
