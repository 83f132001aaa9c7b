import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { runEchoClient, TCP_ECHO_PROMPT } from '../../src/cli/talk-client.js';
import { ConnectionClosedError } from '../../src/errors.js';
import {
  createEchoServer,
  type EchoServer,
  type EchoServerOptions,
  openEcho,
} from '../../src/services/echo.js';
import {
  closeSocket,
  rawConnect,
  rawExchange,
  rawExchangeBytes,
  readToEnd,
  waitForTrace,
} from '../helpers/raw.js';

async function startEcho(
  t: { after(fn: () => Promise<void>): void },
  options: Partial<EchoServerOptions> = {},
): Promise<{ server: EchoServer; port: number }> {
  const server = createEchoServer({ host: '127.0.0.1', port: 0, ...options });
  const { port } = await server.listen();
  t.after(() => server.destroy());
  return { server, port };
}

/** Writes `data` in pieces, respecting the socket's backpressure, then half-closes. */
async function writeAll(socket: Socket, data: Buffer, piece = 256 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += piece) {
    if (!socket.write(data.subarray(offset, offset + piece))) await once(socket, 'drain');
  }
  socket.end();
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('echo service on real sockets', { timeout: 60_000 }, () => {
  test('echoes bytes, not lines, and closes after the client half-closes', async (t) => {
    const { port } = await startEcho(t);
    // No newline, a NUL, invalid UTF-8: all come back as they were.
    const bytes = Buffer.from([0x61, 0x00, 0xff, 0x0d, 0x62]);
    assert.deepEqual(await rawExchangeBytes(port, bytes), bytes);
    const empty = await rawExchange(port, Buffer.alloc(0));
    assert.equal(empty, '');
  });

  test('32 MiB with half-close: every byte comes back, in order', async (t) => {
    const { server, port } = await startEcho(t);
    const data = randomBytes(32 * 1024 * 1024);
    const socket = await rawConnect(port);
    t.after(() => closeSocket(socket));
    const received = readToEnd(socket, 30_000);
    await writeAll(socket, data);
    const back = await received;
    assert.equal(back.length, data.length);
    assert.equal(sha256(back), sha256(data));
    assert.equal(server.stats.bytesEchoed, data.length);
  });

  test('a client that reads slowly costs the server a bounded buffer (backpressure)', async (t) => {
    const highWaterMark = 64 * 1024;
    let pausedAt: number | undefined;
    let paused!: () => void;
    const pausedOnce = new Promise<void>((resolve) => {
      paused = resolve;
    });
    const { server, port } = await startEcho(t, {
      highWaterMark,
      onPause: (_id, buffered) => {
        pausedAt ??= buffered;
        paused();
      },
    });
    // More than all the kernel buffers on the way (a few MiB each direction on loopback).
    const data = randomBytes(24 * 1024 * 1024);
    const socket = await rawConnect(port);
    t.after(() => closeSocket(socket));
    socket.pause();
    const writing = writeAll(socket, data);
    // The client reads nothing until the server has stopped reading from it.
    await pausedOnce;
    assert.ok(pausedAt !== undefined);
    // Now read slowly: at most 16 KiB per turn of the event loop.
    const chunks: Buffer[] = [];
    let length = 0;
    while (length < data.length) {
      const chunk: Buffer | null = socket.read(16 * 1024) ?? socket.read();
      if (chunk === null) {
        await once(socket, 'readable');
        continue;
      }
      chunks.push(chunk);
      length += chunk.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writing;
    assert.equal(sha256(Buffer.concat(chunks).subarray(0, data.length)), sha256(data));
    const bound = highWaterMark + 64 * 1024;
    assert.ok(server.stats.pauses >= 1);
    assert.ok(
      server.stats.peakBufferedBytes <= bound,
      `server buffered up to ${server.stats.peakBufferedBytes} bytes for one client; bound ${bound}`,
    );
  });

  test('the echo client reads until the whole message is back, across segments', async (t) => {
    const { port } = await startEcho(t);
    const session = await openEcho({ host: '127.0.0.1', port });
    try {
      assert.equal((await session.echo(Buffer.from('hello\n'))).toString(), 'hello\n');
      assert.equal(
        (await session.echo(Buffer.from('안녕하세요\n', 'utf8'))).toString('utf8'),
        '안녕하세요\n',
      );
      const big = randomBytes(3 * 1024 * 1024);
      assert.equal(sha256(await session.echo(big)), sha256(big));
      assert.equal((await session.echo(Buffer.alloc(0))).length, 0);
    } finally {
      await session.close();
    }
  });

  test('the interactive echo client prompts only when its input is a terminal', async (t) => {
    const { port } = await startEcho(t);
    const run = async (isTTY: boolean) => {
      const input = Object.assign(new PassThrough(), { isTTY });
      const output = new PassThrough();
      const chunks: Buffer[] = [];
      output.on('data', (c: Buffer) => chunks.push(c));
      input.end('hi\nQ\n');
      await runEchoClient(
        { host: '127.0.0.1', port, timeout: 5_000, signal: new AbortController().signal },
        { input, output },
      );
      return Buffer.concat(chunks).toString();
    };
    assert.equal(TCP_ECHO_PROMPT, 'Input message(Q to quit): ');
    assert.equal(await run(true), `${TCP_ECHO_PROMPT}Message from server: hi\n${TCP_ECHO_PROMPT}`);
    assert.equal(await run(false), 'Message from server: hi\n');
  });

  test('the echo client reports a server that closes before echoing everything', async (t) => {
    const { port } = await startEcho(t, { maxConnections: 1 });
    const blocker = await rawConnect(port);
    t.after(() => closeSocket(blocker));
    // The blocker is accepted once its echo comes back.
    blocker.write('x');
    await once(blocker, 'data');
    const session = await openEcho({ host: '127.0.0.1', port });
    await assert.rejects(session.echo(Buffer.from('hello\n')), (error: unknown) => {
      assert.ok(error instanceof ConnectionClosedError);
      assert.match(error.message, /after echoing 0 of 6 bytes/);
      return true;
    });
    await session.close();
  });

  test('connection limit: past it a connection is closed without a byte', async (t) => {
    const { server, port } = await startEcho(t, { maxConnections: 1 });
    const first = await rawConnect(port);
    t.after(() => closeSocket(first));
    first.write('a');
    await once(first, 'data');
    assert.equal(await rawExchange(port, 'b'), '');
    assert.equal(server.refused, 1);
  });

  test('an idle client is dropped after the idle timeout', async (t) => {
    const { port } = await startEcho(t, { idleTimeout: 150 });
    const socket = await rawConnect(port);
    t.after(() => closeSocket(socket));
    const started = performance.now();
    assert.equal((await readToEnd(socket, 5_000)).length, 0);
    const waited = performance.now() - started;
    assert.ok(waited >= 100 && waited < 5_000, `dropped after ${waited} ms`);
  });

  test('trace: read, write, eof and shutdown of the exchange with byte counts', async (t) => {
    const { port } = await startEcho(t);
    const shutdown = waitForTrace((e) => e.role === 'server' && e.action === 'shutdown');
    const read = waitForTrace((e) => e.role === 'server' && e.action === 'read');
    const write = waitForTrace((e) => e.role === 'server' && e.action === 'write');
    await rawExchange(port, 'ping\n');
    const [r, w, s] = await Promise.all([read, write, shutdown]);
    assert.equal(r.bytes, 5);
    assert.equal(r.step, '4b');
    assert.equal(w.bytes, 5);
    assert.equal(s.step, '4b');
  });
});
