import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import {
  BindError,
  ClosedWithoutDataError,
  ConnectionRefusedError,
  createHelloServer,
  fetchHello,
  InvalidArgumentError,
  InvalidPortError,
  ReadTimeoutError,
  subscribeTrace,
  type TraceEvent,
} from '../../src/index.js';
import { freePort, peerServer } from '../helpers/raw.js';

/** All bytes a raw client receives until the server closes. */
async function rawBytes(port: number, host = '127.0.0.1'): Promise<Buffer> {
  const socket = connect({ host, port });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'end');
  socket.destroy();
  return Buffer.concat(chunks);
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

for (const host of ['127.0.0.1', '::1']) {
  describe(`hello over ${host}`, () => {
    test('fetchHello gets the message from createHelloServer', async (t) => {
      const server = createHelloServer({ host, port: 0 });
      t.after(() => server.close());
      const { port, address } = await server.listen();
      assert.equal(address, host);
      assert.notEqual(port, 0);
      const reply = await fetchHello({ host, port });
      assert.equal(reply.text, 'Hello World!');
      assert.deepEqual(reply.message, Buffer.from('Hello World!'));
      assert.equal(reply.end, 'nul');
    });

    test('the wire carries exactly the C server bytes, then FIN', async (t) => {
      const server = createHelloServer({ host, port: 0 });
      t.after(() => server.close());
      const { port } = await server.listen();
      assert.deepEqual(await rawBytes(port, host), Buffer.from('Hello World!\0', 'latin1'));
    });
  });
}

describe('hello server options', () => {
  test('a custom message, with and without the NUL', async (t) => {
    const a = createHelloServer({ host: '127.0.0.1', port: 0, message: '안녕하세요' });
    const b = createHelloServer({ host: '127.0.0.1', port: 0, message: 'plain', nul: false });
    t.after(() => Promise.all([a.close(), b.close()]));
    const [pa, pb] = await Promise.all([a.listen(), b.listen()]);
    assert.deepEqual(await rawBytes(pa.port), Buffer.concat([Buffer.from('안녕하세요'), Buffer.from([0])]));
    assert.deepEqual(await rawBytes(pb.port), Buffer.from('plain'));
    const reply = await fetchHello({ host: '127.0.0.1', port: pb.port });
    assert.equal(reply.text, 'plain');
    assert.equal(reply.end, 'eof');
  });

  test('maxAccepts: 1 serves one client, then closes like the C program', async () => {
    const server = createHelloServer({ host: '127.0.0.1', port: 0, maxAccepts: 1 });
    const { port } = await server.listen();
    assert.equal((await fetchHello({ host: '127.0.0.1', port })).text, 'Hello World!');
    await server.closed;
    assert.equal(server.accepted, 1);
    await assert.rejects(fetchHello({ host: '127.0.0.1', port }), ConnectionRefusedError);
  });

  test('maxConnections refuses past the limit with the refusal bytes', async (t) => {
    // A server whose handler holds connections open, to fill the limit.
    const held: Socket[] = [];
    const { TcpServer } = await import('../../src/index.js');
    const server = new TcpServer({
      host: '127.0.0.1',
      port: 0,
      maxConnections: 2,
      refusal: Buffer.from('busy\n'),
      onConnection: ({ socket }) => held.push(socket),
    });
    t.after(() => server.destroy());
    const { port } = await server.listen();
    const clients = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    t.after(() => {
      for (const c of clients) c.destroy();
    });
    await Promise.all(clients.map((c) => once(c, 'connect')));
    while (server.connections < 2) await new Promise((r) => setImmediate(r));
    assert.deepEqual(await rawBytes(port), Buffer.from('busy\n'));
    assert.equal(server.refused, 1);
    assert.equal(server.connections, 2);
  });

  test('bad options fail when the server is built, naming the value', () => {
    assert.throws(() => createHelloServer({ port: 65536 }), InvalidPortError);
    assert.throws(() => createHelloServer({ port: -1 }), /invalid port '-1'/);
    assert.throws(() => createHelloServer({ port: 0, backlog: 0 }), InvalidArgumentError);
    assert.throws(() => createHelloServer({ port: 0, host: '' }), /invalid host/);
  });

  test('a port in use is a BindError with EADDRINUSE', async (t) => {
    const first = createHelloServer({ host: '127.0.0.1', port: 0 });
    t.after(() => first.close());
    const { port } = await first.listen();
    const second = createHelloServer({ host: '127.0.0.1', port });
    const error = await second.listen().then(
      () => assert.fail('listen should fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BindError);
    assert.equal(error.code, 'ERR_BIND');
    assert.equal(error.systemCode, 'EADDRINUSE');
    assert.equal(error.call, 'bind');
    await second.close();
  });

  test('close() and destroy() are safe twice, and before listen()', async () => {
    const idle = createHelloServer({ port: 0 });
    await idle.close();
    await idle.close();
    const server = createHelloServer({ host: '127.0.0.1', port: 0 });
    await server.listen();
    await Promise.all([server.close(), server.destroy(), server.close()]);
  });

  test('Symbol.asyncDispose closes the server', async () => {
    let port: number;
    {
      await using server = createHelloServer({ host: '127.0.0.1', port: 0 });
      port = (await server.listen()).port;
    }
    await assert.rejects(fetchHello({ host: '127.0.0.1', port }), ConnectionRefusedError);
  });

  test('close() lets a slow reader finish the whole message', async () => {
    const message = 'x'.repeat(4 * 1024 * 1024);
    const server = createHelloServer({ host: '127.0.0.1', port: 0, message });
    const { port } = await server.listen();
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    while (server.connections < 1) await new Promise((r) => setImmediate(r));
    const closing = server.close();
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'end');
    socket.destroy();
    await closing;
    assert.equal(Buffer.concat(chunks).length, message.length + 1);
  });

  test('close() destroys connections that outlast closeTimeout', async () => {
    const { TcpServer } = await import('../../src/index.js');
    const server = new TcpServer({ host: '127.0.0.1', port: 0, closeTimeout: 50, onConnection: () => {} });
    const { port } = await server.listen();
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const clientClosed = once(socket, 'close');
    socket.resume();
    await once(socket, 'connect');
    while (server.connections < 1) await new Promise((r) => setImmediate(r));
    await server.close();
    assert.equal(server.connections, 0);
    await clientClosed;
  });
});

describe('fetchHello against odd servers', () => {
  test('a message split into one-byte segments is printed whole', async (t) => {
    const port = await peerServer(t, async (socket) => {
      for (const byte of Buffer.from('Hello World!\0')) {
        socket.write(Buffer.from([byte]));
        await new Promise((r) => setTimeout(r, 2));
      }
      socket.end();
    });
    const reply = await fetchHello({ host: '127.0.0.1', port });
    assert.equal(reply.text, 'Hello World!');
    assert.equal(reply.end, 'nul');
  });

  test('a server that closes without sending is ClosedWithoutDataError', async (t) => {
    const port = await peerServer(t, (socket) => socket.end());
    await assert.rejects(fetchHello({ host: '127.0.0.1', port }), ClosedWithoutDataError);
  });

  test('a server that never writes is ReadTimeoutError within the timeout', async (t) => {
    const port = await peerServer(t, () => {});
    const started = performance.now();
    await assert.rejects(fetchHello({ host: '127.0.0.1', port, timeout: 200 }), ReadTimeoutError);
    assert.ok(performance.now() - started < 3000);
  });

  test('nothing listening is ConnectionRefusedError', async (t) => {
    const port = await peerServer(t, () => {});
    const free = await freePort();
    assert.notEqual(free, port);
    const error = await fetchHello({ host: '127.0.0.1', port: free }).catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionRefusedError);
    assert.equal(error.systemCode, 'ECONNREFUSED');
  });

  test('maxBytes bounds what is read from a server that never sends a NUL', async (t) => {
    const port = await peerServer(t, (socket) => socket.write(Buffer.alloc(100_000, 0x41)));
    const reply = await fetchHello({ host: '127.0.0.1', port, maxBytes: 1000 });
    assert.equal(reply.message.length, 1000);
    assert.equal(reply.end, 'limit');
  });

  test('an AbortSignal stops a wait', async (t) => {
    const port = await peerServer(t, () => {});
    await assert.rejects(
      fetchHello({ host: '127.0.0.1', port, signal: AbortSignal.timeout(50) }),
      (e: unknown) => (e as { code?: string }).code === 'ERR_ABORTED',
    );
  });
});

describe('trace events', () => {
  test('one connection publishes the lecture steps in order, on both sides', async () => {
    const events: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((e) => events.push(e));
    try {
      const server = createHelloServer({ host: '127.0.0.1', port: 0, maxAccepts: 1, backlog: 5 });
      const { port } = await server.listen();
      await fetchHello({ host: '127.0.0.1', port });
      await server.closed;
      const serverSteps = events.filter((e) => e.role === 'server').map((e) => `${e.step} ${e.action}`);
      assert.deepEqual(serverSteps, [
        '1 socket',
        '2 bind',
        '3 listen',
        '4a accept',
        '4b write',
        '4c close',
        '5 stop',
      ]);
      // Sockets of earlier tests may still report their close: keep this client's events.
      const client = events.find((e) => e.role === 'client' && e.action === 'socket')?.endpoint;
      const clientSteps = events
        .filter((e) => e.role === 'client' && e.endpoint === client)
        .map((e) => `${e.step} ${e.action}`);
      assert.deepEqual(clientSteps, ['1 socket', '2 connect', '3 read', '4 close']);
      const listen = events.find((e) => e.action === 'listen');
      assert.equal(listen?.backlog, 5);
      assert.equal(listen?.local?.port, port);
      const write = events.find((e) => e.role === 'server' && e.action === 'write');
      assert.equal(write?.bytes, 13);
      const accept = events.find((e) => e.action === 'accept');
      const connectEvent = events.find((e) => e.action === 'connect');
      assert.equal(accept?.remote?.port, connectEvent?.local?.port);
      assert.ok(
        events.every(
          (e, i) => i === 0 || e.time >= (events[i - 1]?.time ?? 0) || e.role !== events[i - 1]?.role,
        ),
      );
    } finally {
      unsubscribe();
    }
  });
});

describe('no leaks', () => {
  test('1,000 clients in a row and 200 at once: every message, no descriptor left', async () => {
    const before = openFds();
    const server = createHelloServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    for (let i = 0; i < 1000; i++) {
      const reply = await fetchHello({ host: '127.0.0.1', port });
      assert.equal(reply.text, 'Hello World!');
    }
    const replies = await Promise.all(
      Array.from({ length: 200 }, () => fetchHello({ host: '127.0.0.1', port })),
    );
    assert.equal(replies.filter((r) => r.text === 'Hello World!').length, 200);
    assert.equal(server.accepted, 1200);
    await server.close();
    assert.equal(server.connections, 0);
    assert.equal(openFds(), before);
  });

  test('clients that reset the connection do not hurt the server', async () => {
    const server = createHelloServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        await once(socket, 'connect');
        socket.resetAndDestroy();
        await once(socket, 'close');
      }),
    );
    assert.equal((await fetchHello({ host: '127.0.0.1', port })).text, 'Hello World!');
    await server.close();
  });
});
