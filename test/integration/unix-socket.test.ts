/**
 * The TCP services on Unix domain stream sockets, through the library: the socket file's life
 * (a dead server's replaced, a live one's EADDRINUSE, anything else left alone, removed on close
 * only while it is still ours), its mode, abstract names, and the trace's steps.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  BindError,
  createEchoServer,
  createGreetServer,
  createHelloServer,
  fetchHello,
  greet,
  openEcho,
  ProxyProtocolStage,
  subscribeTrace,
  type TraceEvent,
} from '../../src/index.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'steps-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// An abstract name no other test (or run) has: the pid and a counter.
let names = 0;
const abstractName = () => `@socket-steps-test-${process.pid}-${++names}`;

describe('TCP services on a Unix domain socket', () => {
  test('hello: the message and its NUL, and the address names the path', async (t) => {
    const path = join(tempDir(t), 'h.sock');
    const server = createHelloServer({ path, message: 'Hi over Unix' });
    t.after(() => server.destroy());
    const address = await server.listen();
    assert.deepEqual(address, { address: path, family: 'unix', port: 0 });
    assert.ok(statSync(path).isSocket());
    const reply = await fetchHello({ path });
    assert.equal(reply.text, 'Hi over Unix');
    assert.equal(reply.end, 'nul');
  });

  test('greet and echo, on an abstract name', async (t) => {
    const greetName = abstractName();
    const greetServer = createGreetServer({ path: greetName });
    t.after(() => greetServer.destroy());
    await greetServer.listen();
    const dialogue = await greet({ path: greetName, name: 'Bob' });
    assert.equal(dialogue.lines.length, 3);
    assert.equal(dialogue.lines[0]?.text, "Hi. I'm Bob.");

    const echoName = abstractName();
    const echoServer = createEchoServer({ path: echoName });
    t.after(() => echoServer.destroy());
    await echoServer.listen();
    const session = await openEcho({ path: echoName });
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
    assert.deepEqual(await session.echo(bytes), bytes);
    await session.close();
  });

  test('a socket file a dead server left is replaced', async (t) => {
    const path = join(tempDir(t), 'stale.sock');
    // A server killed while it listens leaves its socket file, which nothing accepts on.
    const made = spawnSync(process.execPath, [
      '-e',
      `const s=require('net').createServer().listen(${JSON.stringify(path)},()=>process.kill(process.pid,'SIGKILL'))`,
    ]);
    assert.equal(made.signal, 'SIGKILL');
    assert.ok(lstatSync(path).isSocket(), 'a killed server leaves its socket file');
    await assert.rejects(fetchHello({ path }), { code: 'ERR_CONNECTION_REFUSED' });
    const server = createHelloServer({ path });
    t.after(() => server.destroy());
    await server.listen();
    assert.equal((await fetchHello({ path })).text, 'Hello World!');
  });

  test("a live server's socket is EADDRINUSE, and its file stays", async (t) => {
    const path = join(tempDir(t), 'live.sock');
    const first = createHelloServer({ path, message: 'first' });
    t.after(() => first.destroy());
    await first.listen();
    const second = createHelloServer({ path, message: 'second' });
    await assert.rejects(second.listen(), (error: unknown) => {
      assert.ok(error instanceof BindError);
      assert.equal(error.systemCode, 'EADDRINUSE');
      assert.match(error.message, /live\.sock: address already in use \(EADDRINUSE\)/);
      return true;
    });
    await second.destroy();
    assert.equal((await fetchHello({ path })).text, 'first');
  });

  test('a path that is not a socket is refused and left as it was', async (t) => {
    const path = join(tempDir(t), 'notes.txt');
    writeFileSync(path, 'keep me\n');
    const server = createHelloServer({ path });
    await assert.rejects(
      server.listen(),
      /notes\.txt: the path exists and is not a socket \(left as it is\)/,
    );
    await server.destroy();
    assert.equal(readFileSync(path, 'utf8'), 'keep me\n');
  });

  test('on close the file is removed; a file someone else has put there since is kept', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'own.sock');
    const server = createHelloServer({ path });
    await server.listen();
    await server.close();
    assert.equal(existsSync(path), false, 'its own file is removed');

    const again = createHelloServer({ path });
    await again.listen();
    // Someone replaces the file while it runs (another server's, say): closing must not remove it.
    rmSync(path);
    writeFileSync(path, 'not yours\n');
    await again.close();
    assert.equal(readFileSync(path, 'utf8'), 'not yours\n');
  });

  test('mode: the file has it from bind() on', async (t) => {
    const path = join(tempDir(t), 'mode.sock');
    const server = createHelloServer({ path, mode: 0o600 });
    t.after(() => server.destroy());
    await server.listen();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const wide = createHelloServer({ path: join(tempDir(t), 'wide.sock'), mode: 0o666 });
    t.after(() => wide.destroy());
    await wide.listen();
    assert.equal(statSync(wide.unixPath ?? '').mode & 0o777, 0o666);
    assert.throws(
      () => createHelloServer({ path: abstractName(), mode: 0o600 }),
      /an abstract name has no file/,
    );
  });

  test('the trace: socket(), bind() to the path, listen(), accept() and connect() name it', async (t) => {
    const path = join(tempDir(t), 'trace.sock');
    const events: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((event) => events.push(event));
    t.after(unsubscribe);
    const server = createHelloServer({ path, maxAccepts: 1 });
    t.after(() => server.destroy());
    await server.listen();
    await fetchHello({ path });
    await server.closed;
    const server1 = events
      .filter((e) => e.role === 'server')
      .map((e) => `${e.step} ${e.action} ${e.path ?? '-'}`);
    assert.deepEqual(server1.slice(0, 4), [
      `1 socket ${path}`,
      `2 bind ${path}`,
      `3 listen ${path}`,
      `4a accept ${path}`,
    ]);
    const connect = events.find((e) => e.role === 'client' && e.action === 'connect');
    assert.equal(connect?.path, path);
    assert.equal(connect?.remote, undefined);
  });

  test('a PROXY header over a Unix socket names the client (as HAProxy send-proxy to unix@ does)', async (t) => {
    const path = join(tempDir(t), 'proxy.sock');
    const events: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((event) => events.push(event));
    t.after(unsubscribe);
    const server = createHelloServer({
      path,
      maxAccepts: 1,
      stages: [new ProxyProtocolStage({ trusted: [] })],
    });
    t.after(() => server.destroy());
    await server.listen();
    const socket = createConnection({ path });
    socket.end('PROXY TCP4 192.0.2.7 127.0.0.1 50000 9190\r\n');
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), Buffer.from('Hello World!\0'));
    await server.closed;
    const accept = events.find((e) => e.role === 'server' && e.action === 'accept');
    assert.deepEqual(accept?.remote, { address: '192.0.2.7', port: 50000, family: 'IPv4' });
    assert.equal(accept?.path, path);
  });
});
