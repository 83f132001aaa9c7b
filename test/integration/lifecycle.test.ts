/**
 * Regression tests for the servers' and clients' lifecycle edges: counts, close and destroy
 * timing, refusals, listen after close, resets between reads, handler failures, odd datagrams.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { buildProgram } from '../../c/build.js';
import {
  createHelloServer,
  createUdpHelloServer,
  fetchUdpHello,
  openEcho,
  TcpServer,
} from '../../src/index.js';
import { runCommand } from '../helpers/process.js';
import { peerServer, waitForTrace } from '../helpers/raw.js';

async function connected(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Waits, turn by turn, for a condition on the server's state, bounded by 5 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!condition() && performance.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.ok(condition());
}

describe('TcpServer lifecycle', () => {
  test('maxAccepts does not cut the sessions short: they end on their own time', async () => {
    const server = new TcpServer({
      host: '127.0.0.1',
      port: 0,
      maxAccepts: 2,
      closeTimeout: 50,
      onConnection: ({ socket }) => socket.on('data', (d: Buffer) => socket.write(d)),
    });
    const { port } = await server.listen();
    const a = await connected(port);
    const b = await connected(port);
    await until(() => server.connections === 2);
    // Far past closeTimeout, both sessions are still served.
    await new Promise((r) => setTimeout(r, 200));
    b.write('still here');
    const [echoed] = await once(b, 'data');
    assert.equal(String(echoed), 'still here');
    assert.equal(server.connections, 2);
    a.end();
    b.end();
    await server.closed;
  });

  test('close() after maxAccepts bounds the sessions by closeTimeout', async () => {
    const server = new TcpServer({
      host: '127.0.0.1',
      port: 0,
      maxAccepts: 1,
      closeTimeout: 50,
      onConnection: () => {},
    });
    const { port } = await server.listen();
    const client = await connected(port);
    const clientClosed = once(client, 'close');
    client.resume();
    await until(() => server.connections === 1);
    const started = performance.now();
    await server.close();
    assert.ok(performance.now() - started < 2000);
    await clientClosed;
  });

  test('destroy() stops accepting at once: nothing reaches the handler afterwards', async () => {
    let handled = 0;
    const server = new TcpServer({ host: '127.0.0.1', port: 0, onConnection: () => handled++ });
    const { port } = await server.listen();
    const closing = server.destroy();
    const late = connect(port, '127.0.0.1');
    late.on('error', () => {});
    await closing;
    late.destroy();
    assert.equal(handled, 0);
    assert.equal(server.connections, 0);
  });

  test('refused sockets live at most closeTimeout even when the client keeps sending', async () => {
    const server = new TcpServer({
      host: '127.0.0.1',
      port: 0,
      maxConnections: 1,
      refusal: Buffer.from('busy\n'),
      closeTimeout: 100,
      allowHalfOpen: true,
      onConnection: () => {},
    });
    const { port } = await server.listen();
    const holder = await connected(port);
    await until(() => server.connections === 1);
    const refused = await connected(port);
    const refusedClosed = once(refused, 'close');
    refused.resume();
    const ticker = setInterval(() => refused.write('x'), 20);
    const started = performance.now();
    await refusedClosed;
    clearInterval(ticker);
    assert.ok(performance.now() - started < 2000, 'the refused socket outlived its bound');
    holder.destroy();
    await server.destroy();
  });

  test('listen() after close() rejects with ERR_SERVER_CLOSED, for TCP and UDP', async () => {
    const tcp = createHelloServer({ host: '127.0.0.1', port: 0 });
    await tcp.close();
    await assert.rejects(tcp.listen(), { code: 'ERR_SERVER_CLOSED' });
    const udp = createUdpHelloServer({ host: '127.0.0.1', port: 0 });
    await udp.close();
    await assert.rejects(udp.listen(), { code: 'ERR_SERVER_CLOSED' });
  });

  test('a handler that throws costs one connection, not the server', async () => {
    let calls = 0;
    const server = new TcpServer({
      host: '127.0.0.1',
      port: 0,
      onConnection: ({ socket }) => {
        calls++;
        if (calls === 1) throw new Error('bug in a service');
        socket.end('ok');
      },
    });
    const { port } = await server.listen();
    const first = await connected(port);
    first.resume();
    await once(first, 'close');
    const second = await connected(port);
    const [data] = await once(second, 'data');
    assert.equal(String(data), 'ok');
    second.destroy();
    await server.close();
  });

  test('a hello client that never reads a long message is dropped after idleTimeout', async () => {
    const server = createHelloServer({
      host: '127.0.0.1',
      port: 0,
      message: 'x'.repeat(8 * 1024 * 1024),
      idleTimeout: 100,
    });
    const { port } = await server.listen();
    const dropped = waitForTrace(
      (e) => e.role === 'server' && e.action === 'close' && e.endpoint === server.endpoint,
    );
    const client = await connected(port);
    client.pause();
    const started = performance.now();
    const event = await dropped;
    assert.equal(event.reason, 'ERR_IDLE_TIMEOUT');
    assert.ok(performance.now() - started < 4000);
    assert.equal(server.connections, 0);
    client.destroy();
    await server.close();
  });
});

describe('clients between reads', () => {
  test('an echo session reset while idle reports a read error, not a crash', async (t) => {
    let serverSide: Socket | undefined;
    const port = await peerServer(t, (socket) => {
      serverSide = socket;
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    const session = await openEcho({ host: '127.0.0.1', port });
    assert.equal(String(await session.echo(Buffer.from('one\n'))), 'one\n');
    // The reset arrives while nobody reads: the client's socket closes (its trace says so).
    const clientClosed = waitForTrace((e) => e.role === 'client' && e.action === 'close');
    serverSide?.resetAndDestroy();
    await clientClosed;
    await assert.rejects(session.echo(Buffer.from('two\n')), { code: 'ERR_READ' });
    await session.close().catch(() => {});
  });
});

describe('UdpServer against odd datagrams', () => {
  test('a datagram from source port 0 is dropped, and the server keeps answering', async (t) => {
    const sender = buildProgram('udp_port0');
    const server = createUdpHelloServer({ host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { port } = await server.listen();
    const sent = await runCommand(sender, [String(port)]);
    if (sent.code === 77) {
      t.skip('forging a source port 0 needs a raw socket (CAP_NET_RAW, e.g. root)');
      return;
    }
    assert.equal(sent.code, 0, sent.stderr);
    // The forged datagram reached the server before this request (same socket, in order).
    const reply = await fetchUdpHello({ host: '127.0.0.1', port });
    assert.equal(reply.text, 'Hello World!');
  });
});
