/**
 * The bytes channel on real sockets: every byte each way, in order, with offsets per connection
 * and direction, for each service and the clients; and holdReading, which must compose with a
 * service's own pause()/resume() so that a slow dump never resumes what the service paused.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import {
  createEchoServer,
  createGreetServer,
  createHelloServer,
  createUdpEchoServer,
  fetchHello,
  greet,
  holdReading,
  openEcho,
  openUdpEchoClient,
  subscribeBytes,
  type TraceBytes,
} from '../../src/index.js';
import { until } from '../helpers/wait.js';

/** Collects every message of the bytes channel (with its data copied) until the test ends. */
function collect(t: { after(fn: () => void): void }): TraceBytes[] {
  const seen: TraceBytes[] = [];
  const stop = subscribeBytes((m) => seen.push({ ...m, data: Buffer.from(m.data) }));
  t.after(stop);
  return seen;
}

const joined = (messages: TraceBytes[], role: string, direction: string) =>
  Buffer.concat(messages.filter((m) => m.role === role && m.direction === direction).map((m) => m.data));

describe('the bytes channel', () => {
  test('echo: every byte each way on both sides, offsets counting on per direction', async (t) => {
    const seen = collect(t);
    const server = createEchoServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    t.after(() => server.destroy());
    const session = await openEcho({ host: '127.0.0.1', port });
    const first = Buffer.from('hello\n');
    const second = Buffer.alloc(100_000, 0x61);
    assert.deepEqual(await session.echo(first), first);
    assert.deepEqual(await session.echo(second), second);
    await session.close();
    const all = Buffer.concat([first, second]);
    await until(() => joined(seen, 'server', 'write').length === all.length, 'the server to write all');
    for (const [role, direction] of [
      ['client', 'write'],
      ['server', 'read'],
      ['server', 'write'],
      ['client', 'read'],
    ] as const) {
      assert.deepEqual(joined(seen, role, direction), all, `${role} ${direction}`);
      // Each message starts where the one before in its direction ended.
      let expected = 0;
      for (const m of seen.filter((m) => m.role === role && m.direction === direction)) {
        assert.equal(m.offset, expected);
        expected += m.data.length;
      }
    }
    const serverRead = seen.find((m) => m.role === 'server' && m.direction === 'read');
    assert.equal(serverRead?.connection, 1);
    assert.equal(serverRead?.remote?.address, '127.0.0.1');
    assert.equal(typeof serverRead?.hold, 'function');
    const clientRead = seen.find((m) => m.role === 'client' && m.direction === 'read');
    assert.equal(clientRead?.remote?.port, port);
  });

  test("hello and greet: the server's writes, the client's reads and writes", async (t) => {
    const seen = collect(t);
    const hello = createHelloServer({ host: '127.0.0.1', port: 0, message: 'Hi' });
    const { port } = await hello.listen();
    t.after(() => hello.destroy());
    await fetchHello({ host: '127.0.0.1', port });
    assert.deepEqual(joined(seen, 'server', 'write'), Buffer.from('Hi\0'));
    assert.deepEqual(joined(seen, 'client', 'read'), Buffer.from('Hi\0'));
    const written = seen.find((m) => m.role === 'server');
    assert.equal(written?.remote?.address, '127.0.0.1', 'the peer, although hello writes within the accept');

    seen.length = 0;
    const greeter = createGreetServer({ host: '127.0.0.1', port: 0 });
    const g = await greeter.listen();
    t.after(() => greeter.destroy());
    await greet({ host: '127.0.0.1', port: g.port, name: 'Jane' });
    await until(() => joined(seen, 'server', 'write').length > 0, 'the greet server to answer');
    assert.deepEqual(joined(seen, 'server', 'read'), joined(seen, 'client', 'write'));
    assert.match(joined(seen, 'client', 'write').toString(), /Jane/);
  });

  test('UDP: each datagram at offset 0, received and sent on both sides', async (t) => {
    const seen = collect(t);
    const server = createUdpEchoServer({ host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    t.after(() => server.close());
    const client = await openUdpEchoClient({ host: '127.0.0.1', port });
    t.after(() => client.close());
    await client.echo(Buffer.from('one'));
    await client.echo(Buffer.from('two'));
    await until(() => seen.filter((m) => m.role === 'server').length === 4, 'the server to send both');
    for (const m of seen) {
      assert.equal(m.transport, 'udp');
      assert.equal(m.offset, 0);
      assert.equal(m.hold, undefined);
    }
    assert.deepEqual(joined(seen, 'server', 'read'), Buffer.from('onetwo'));
    assert.deepEqual(joined(seen, 'client', 'read'), Buffer.from('onetwo'));
  });
});

/** A connected pair on loopback: our accepted socket and the peer that writes to it. */
async function pair(t: { after(fn: () => void): void }): Promise<{ ours: Socket; peer: Socket }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const peer = connect(address.port, '127.0.0.1');
  const [ours] = (await once(server, 'connection')) as [Socket];
  server.close();
  t.after(() => {
    ours.destroy();
    peer.destroy();
  });
  return { ours, peer };
}

describe('holdReading', () => {
  test('no data while held; flowing again once every hold is released', async (t) => {
    const { ours, peer } = await pair(t);
    let received = 0;
    ours.on('data', (c: Buffer) => (received += c.length));
    peer.write('a');
    await until(() => received === 1, 'the first byte');
    const first = holdReading(ours);
    const second = holdReading(ours);
    assert.equal(ours.isPaused(), true);
    // The service resumes (its drain) while held: recorded, not obeyed.
    ours.resume();
    assert.equal(ours.isPaused(), true);
    peer.write('bc');
    await until(() => ours.readableLength === 2, 'the bytes to wait in the buffer');
    assert.equal(received, 1);
    first();
    first(); // a second call does nothing
    assert.equal(ours.isPaused(), true, 'one hold is still on');
    second();
    await until(() => received === 3, 'the held bytes once released');
    assert.equal(Object.hasOwn(ours, 'pause'), false, 'the socket has its own methods back');
  });

  test('a socket the service paused while held stays paused on release', async (t) => {
    const { ours, peer } = await pair(t);
    let received = 0;
    ours.on('data', (c: Buffer) => (received += c.length));
    const release = holdReading(ours);
    ours.pause(); // the service's own flow control: its peer stopped reading
    release();
    peer.write('x');
    await until(() => ours.readableLength === 1, 'the byte to wait in the buffer');
    assert.equal(received, 0);
    assert.equal(ours.isPaused(), true);
    ours.resume();
    await until(() => received === 1, 'the byte once the service resumes');
  });
});
