import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionClosedError, ProtocolError } from '../../src/errors.js';
import {
  createGreetServer,
  type GreetLine,
  type GreetServerOptions,
  greet,
} from '../../src/services/greet.js';
import { subscribeTrace, type TraceEvent } from '../../src/trace/events.js';
import { TcpServer } from '../../src/transport/tcp-server.js';
import { closeSocket, rawConnect, rawExchange, readLine, readToEnd, waitForTrace } from '../helpers/raw.js';
import { until } from '../helpers/wait.js';

async function startGreet(
  t: { after(fn: () => Promise<void>): void },
  options: Partial<GreetServerOptions> = {},
): Promise<{ server: TcpServer; port: number }> {
  const server = createGreetServer({ host: '127.0.0.1', port: 0, ...options });
  const { port } = await server.listen();
  t.after(() => server.destroy());
  return { server, port };
}

describe('greet service on real sockets', { timeout: 60_000 }, () => {
  test('the full dialogue, each line with who said it', async (t) => {
    const { server, port } = await startGreet(t);
    const seen: GreetLine[] = [];
    const result = await greet({ host: '127.0.0.1', port, onLine: (line) => seen.push(line) });
    assert.deepEqual(result.lines, [
      { speaker: 'client', name: 'Bob', text: "Hi. I'm Bob." },
      { speaker: 'server', name: 'Jane', text: "Hi, Bob. I'm Jane" },
      { speaker: 'client', name: 'Bob', text: 'Nice to meet you, Jane.' },
    ]);
    assert.deepEqual(seen, result.lines);
    assert.equal(result.serverName, 'Jane');
    assert.equal(server.accepted, 1);
  });

  test('Korean names on both sides, over IPv6 ::1 when available', async (t) => {
    const server = createGreetServer({ host: '::1', port: 0, name: '제인' });
    let port: number;
    try {
      ({ port } = await server.listen());
    } catch (error) {
      t.skip(`no IPv6 loopback here: ${(error as Error).message}`);
      return;
    }
    t.after(() => server.destroy());
    const result = await greet({ host: '::1', port, name: '밥' });
    assert.deepEqual(
      result.lines.map((l) => l.text),
      ["Hi. I'm 밥.", "Hi, 밥. I'm 제인", 'Nice to meet you, 제인.'],
    );
  });

  test('a person with a raw TCP tool: CRLF lines, then the server closes', async (t) => {
    const { port } = await startGreet(t);
    const reply = await rawExchange(port, "Hi. I'm Bob.\r\nNice to meet you, Jane.\r\n");
    assert.equal(reply, "Hi, Bob. I'm Jane\n");
  });

  test('a malformed first line gets one error line, then close', async (t) => {
    const { port } = await startGreet(t);
    const reply = await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n');
    assert.match(reply, /^ERROR malformed-greeting: expected "Hi\. I'm <your name>\." .*\n$/);
    assert.equal(reply.split('\n').length, 2);
  });

  test('a client that says nothing is dropped after the idle timeout, with a line saying so', async (t) => {
    const { server, port } = await startGreet(t, { idleTimeout: 150 });
    const socket = await rawConnect(port);
    t.after(() => closeSocket(socket));
    const started = performance.now();
    const reply = (await readToEnd(socket, 5_000)).toString();
    const waited = performance.now() - started;
    assert.equal(reply, 'ERROR idle-timeout: you said nothing for 0.15 seconds, goodbye\n');
    assert.ok(waited >= 100 && waited < 4_000, `dropped after ${waited} ms`);
    await closeSocket(socket);
    await server.close();
  });

  test('a line longer than the limit gets an error and close; memory stays bounded', async (t) => {
    const { port } = await startGreet(t, { maxLineBytes: 256 });
    const socket = await rawConnect(port);
    t.after(() => closeSocket(socket));
    const received = readToEnd(socket);
    // 1 MiB without a newline, then more: the server answers and closes after the first 257 bytes.
    socket.write(Buffer.alloc(1024 * 1024, 0x41));
    socket.on('error', () => {});
    const reply = (await received).toString();
    assert.equal(reply, 'ERROR line-too-long: that line is too long, goodbye\n');
  });

  test('connection limit: past --max-connections a clear refusal line, then close', async (t) => {
    const { server, port } = await startGreet(t, { maxConnections: 2 });
    const held = [await rawConnect(port), await rawConnect(port)];
    t.after(() => Promise.all(held.map(closeSocket)).then(() => {}));
    // Both are accepted and in the dialogue once they have their answers.
    for (const socket of held) socket.write("Hi. I'm Bob.\n");
    for (const socket of held) assert.equal(await readLine(socket), "Hi, Bob. I'm Jane");
    assert.equal(server.connections, 2);
    const refused = await rawExchange(port, "Hi. I'm Eve.\n");
    assert.equal(refused, 'ERROR too-many-connections: the server is busy, try again later\n');
    assert.equal(server.refused, 1);
    await assert.rejects(greet({ host: '127.0.0.1', port }), (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.match(error.message, /too-many-connections/);
      return true;
    });
    // One finishes: a new client gets in.
    const first = held[0];
    assert.ok(first);
    const serverClosed = waitForTrace(
      (e) => e.role === 'server' && e.action === 'close' && e.connection === 1,
    );
    const end = readToEnd(first);
    first.end('Nice to meet you, Jane.\n');
    assert.equal((await end).toString(), '');
    await serverClosed;
    assert.equal(server.connections, 1);
    const result = await greet({ host: '127.0.0.1', port, name: 'Carol' });
    assert.equal(result.serverName, 'Jane');
  });

  test('the client reports an error line, and a server that closes before answering', async (t) => {
    const { port } = await startGreet(t, { maxLineBytes: 4 });
    // Our greeting is longer than 4 bytes: the server says line-too-long and closes.
    await assert.rejects(greet({ host: '127.0.0.1', port }), (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.equal(error.code, 'ERR_PROTOCOL');
      assert.match(error.message, /ERROR line-too-long/);
      return true;
    });
    const mute = new TcpServer({ host: '127.0.0.1', port: 0, onConnection: ({ socket }) => socket.end() });
    const { port: mutePort } = await mute.listen();
    t.after(() => mute.destroy());
    await assert.rejects(greet({ host: '127.0.0.1', port: mutePort }), ConnectionClosedError);
  });

  test('1,000 concurrent dialogues, each answered correctly', async (t) => {
    const { server, port } = await startGreet(t);
    const count = 1_000;
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        greet({ host: '127.0.0.1', port, name: `Bob${i}`, timeout: 30_000 }),
      ),
    );
    const elapsed = performance.now() - started;
    results.forEach((result, i) => {
      assert.equal(result.lines[1]?.text, `Hi, Bob${i}. I'm Jane`);
    });
    assert.equal(server.accepted, count);
    t.diagnostic(`${count} concurrent dialogues in ${Math.round(elapsed)} ms`);
    assert.ok(elapsed < 30_000);
  });

  test('--trace events: each read and write of the dialogue with its byte count, in the lecture steps', async (t) => {
    const { port } = await startGreet(t);
    const events: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((event) => {
      if (event.action === 'read' || event.action === 'write') events.push(event);
    });
    try {
      await greet({ host: '127.0.0.1', port });
    } finally {
      unsubscribe();
    }
    const summary = events.map((e) => `${e.role} ${e.step} ${e.action} ${e.bytes}`);
    // Client 3 write 13 (greeting), server 4b read 13, write 18 (answer), client read 18, ...
    for (const expected of [
      'client 3 write 13',
      'server 4b read 13',
      'server 4b write 18',
      'client 3 read 18',
      'client 3 write 24',
      'server 4b read 24',
    ]) {
      assert.ok(summary.includes(expected), `${expected} in ${summary.join(', ')}`);
    }
  });

  test('slowloris: one byte at a time keeps the idle timer alive, but not past the dialogue timeout', async (t) => {
    const server = createGreetServer({ host: '127.0.0.1', port: 0, idleTimeout: 5000, dialogueTimeout: 300 });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const socket = await rawConnect(port);
    const started = Date.now();
    const greeting = Buffer.from("Hi. I'm Bob.\n");
    // One byte every 20 ms, bounded: the whole greeting would take 260 ms, the closing line more.
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < greeting.length && !socket.destroyed) socket.write(greeting.subarray(sent, ++sent));
    }, 20);
    t.after(() => clearInterval(drip));
    assert.equal(await readLine(socket), "Hi, Bob. I'm Jane");
    const lines = (await readToEnd(socket)).toString();
    clearInterval(drip);
    assert.equal(lines, 'ERROR dialogue-timeout: the dialogue took longer than 0.3 seconds, goodbye\n');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 290 && elapsed < 5000, `closed after ${elapsed} ms, before the idle timeout`);
    socket.destroy();
    await server.close();
    assert.deepEqual(server.snapshot().outcomes, { 'dialogue-timeout': 1 });
  });
  test('the dialogue timeout also fires when the idle timeout is the shorter, however often the client sends', async (t) => {
    // The one timer is armed for the idle timeout first, and for what is left of the dialogue once
    // that is less: a byte every 20 ms would keep an idle timer of 1 s alive for the whole drip.
    const { server, port } = await startGreet(t, { idleTimeout: 1000, dialogueTimeout: 1500 });
    const socket = await rawConnect(port);
    t.after(() => closeSocket(socket));
    socket.on('error', () => {});
    const started = Date.now();
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < 250 && !socket.destroyed) {
        socket.write('x');
        sent++;
      }
    }, 20);
    t.after(() => clearInterval(drip));
    const reply = (await readToEnd(socket)).toString();
    clearInterval(drip);
    assert.equal(reply, 'ERROR dialogue-timeout: the dialogue took longer than 1.5 seconds, goodbye\n');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1490, `closed after ${elapsed} ms, before the dialogue timeout`);
    await closeSocket(socket);
    await server.close();
    assert.deepEqual(server.snapshot().outcomes, { 'dialogue-timeout': 1 });
  });

  test('a client that goes quiet after a few bytes gets the idle timeout while the dialogue has time left', async (t) => {
    const { server, port } = await startGreet(t, { idleTimeout: 150, dialogueTimeout: 60_000 });
    const socket = await rawConnect(port);
    t.after(() => closeSocket(socket));
    socket.write('Hi. I');
    const reply = (await readToEnd(socket, 5_000)).toString();
    assert.equal(reply, 'ERROR idle-timeout: you said nothing for 0.15 seconds, goodbye\n');
    await closeSocket(socket);
    await server.close();
    assert.deepEqual(server.snapshot().outcomes, { 'idle-timeout': 1 });
  });

  test('with equal timeouts, a client that says nothing is told it said nothing', async (t) => {
    const { server, port } = await startGreet(t, { idleTimeout: 150, dialogueTimeout: 150 });
    const socket = await rawConnect(port);
    t.after(() => closeSocket(socket));
    const reply = (await readToEnd(socket, 5_000)).toString();
    assert.equal(reply, 'ERROR idle-timeout: you said nothing for 0.15 seconds, goodbye\n');
    await closeSocket(socket);
    await server.close();
  });

  test('after its last line the server waits at most the idle timeout for the client to close, bytes or not', async (t) => {
    const { server, port } = await startGreet(t, { idleTimeout: 300 });
    const socket = await rawConnect(port);
    t.after(() => closeSocket(socket));
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.0\n');
    assert.match(await readLine(socket), /^ERROR malformed-greeting: /);
    // The client never shuts down its side and keeps sending: what it sends is dropped, and does
    // not buy it more time.
    const finished = Date.now();
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < 200 && !socket.destroyed) {
        socket.write('x');
        sent++;
      }
    }, 20);
    t.after(() => clearInterval(drip));
    await until(() => server.connections === 0, 'the server to close the connection', 5_000);
    const waited = Date.now() - finished;
    const stillSending = sent < 200;
    clearInterval(drip);
    assert.ok(waited >= 250, `closed ${waited} ms after the last line`);
    assert.ok(stillSending, `the client had stopped sending (${sent} bytes) before the server closed`);
    assert.deepEqual(server.snapshot().errors, { ERR_IDLE_TIMEOUT: 1 });
  });
});
