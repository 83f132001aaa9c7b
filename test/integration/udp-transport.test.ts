import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { BindError, MessageTooLongError, NoReplyError, PortUnreachableError } from '../../src/errors.js';
import { createUdpEchoServer, openUdpEchoClient } from '../../src/services/udp-echo.js';
import { createUdpHelloServer, fetchUdpHello } from '../../src/services/udp-hello.js';
import { subscribeTrace, type TraceEvent } from '../../src/trace/events.js';
import { connectUdp } from '../../src/transport/udp-client.js';
import { UdpServer } from '../../src/transport/udp-server.js';
import { openPeer, type TestPeer } from '../helpers/udp.js';

const HOST = '127.0.0.1';

async function peer(t: TestContext, host: '127.0.0.1' | '::1' = HOST): Promise<TestPeer> {
  const p = await openPeer(host);
  t.after(() => p.close());
  return p;
}

/** A port with nothing bound to it: bound, then released. */
async function closedPort(host: '127.0.0.1' | '::1'): Promise<number> {
  const p = await openPeer(host);
  const { port } = p;
  await p.close();
  return port;
}

describe('UdpClient', () => {
  for (const host of ['127.0.0.1', '::1'] as const) {
    test(`ICMP port unreachable ends the request at once, not after the retries (${host})`, async () => {
      const port = await closedPort(host);
      const started = performance.now();
      await assert.rejects(
        fetchUdpHello({ host, port, timeout: 10_000, retries: 5 }),
        (error: unknown) =>
          error instanceof PortUnreachableError &&
          error.code === 'ERR_PORT_UNREACHABLE' &&
          error.systemCode === 'ECONNREFUSED' &&
          error.message.includes('port unreachable'),
      );
      // One timeout alone would be 10 s: the answer came from ICMP.
      assert.ok(performance.now() - started < 5_000);
    });
  }

  test('with no reply it sends 1 + retries times, then fails with ERR_NO_REPLY', async (t) => {
    const silent = await peer(t);
    await assert.rejects(
      fetchUdpHello({ host: HOST, port: silent.port, timeout: 50, retries: 2 }),
      (error: unknown) =>
        error instanceof NoReplyError &&
        error.code === 'ERR_NO_REPLY' &&
        error.call === 'recvfrom' &&
        error.message.includes('no reply after 3 attempts of 50 ms each'),
    );
    for (let i = 0; i < 3; i++) assert.equal((await silent.receive()).message.length, 0);
    // Nothing else was sent: a marker sent now is the next datagram to arrive.
    const marker = await peer(t);
    await marker.send(Buffer.from('marker'), silent.port, HOST);
    assert.equal((await silent.receive()).message.toString(), 'marker');
  });

  test('echo: a reply after a retry is taken; its late duplicate is not taken for the next reply', async (t) => {
    const slow = await peer(t);
    const client = await openUdpEchoClient({ host: HOST, port: slow.port, timeout: 50, retries: 5 });
    t.after(() => client.close());
    const one = client.echo(Buffer.from('one'));
    // A slow echo server: it answers only the second copy of 'one'...
    await slow.receive();
    const copy = await slow.receive();
    assert.equal(copy.message.toString(), 'one');
    await slow.send(copy.message, copy.remote.port, HOST);
    assert.equal((await one).toString(), 'one');
    // ...then the first copy too, late, while the client already waits for 'two'.
    const two = client.echo(Buffer.from('two'));
    await slow.send(Buffer.from('one'), copy.remote.port, HOST);
    for (let i = 0; i < 8; i++) {
      const { message, remote } = await slow.receive();
      if (message.toString() === 'two') {
        await slow.send(message, remote.port, HOST);
        break;
      }
    }
    assert.equal((await two).toString(), 'two');
  });

  test('a request gives up after the retries with ERR_NO_REPLY even when only wrong datagrams come', async (t) => {
    const wrong = await peer(t);
    const client = await connectUdp({ host: HOST, port: wrong.port });
    t.after(() => client.close());
    const pending = client.request(Buffer.from('ask'), {
      timeout: 50,
      retries: 1,
      accept: (r) => r.toString() === 'right',
    });
    const { remote } = await wrong.receive();
    await wrong.send(Buffer.from('wrong'), remote.port, HOST);
    await assert.rejects(pending, NoReplyError);
  });

  for (const [host, size] of [
    ['127.0.0.1', 65_508],
    ['::1', 65_528],
  ] as const) {
    test(`a ${size}-byte message over ${host} is refused before anything is sent`, async (t) => {
      const target = await peer(t, host);
      const client = await connectUdp({ host, port: target.port });
      t.after(() => client.close());
      await assert.rejects(
        client.request(Buffer.alloc(size), { timeout: 100, retries: 0 }),
        (error: unknown) =>
          error instanceof MessageTooLongError &&
          error.call === 'sendto' &&
          error.message.includes(`${size} bytes`),
      );
      await client.send(Buffer.from('after'));
      assert.equal((await target.receive()).message.toString(), 'after');
    });
  }

  test('one request at a time: a second concurrent request is refused, the first goes on', async (t) => {
    const target = await peer(t);
    const client = await connectUdp({ host: HOST, port: target.port });
    t.after(() => client.close());
    const first = client.request(Buffer.from('first'), { timeout: 5_000, retries: 0 });
    const { remote } = await target.receive();
    await assert.rejects(client.request(Buffer.from('second'), { retries: 0 }), { code: 'ERR_INVALID_ARG' });
    await target.send(Buffer.from('reply'), remote.port, HOST);
    assert.equal((await first).toString(), 'reply');
  });

  test('an aborted request rejects with ERR_ABORTED and leaves no timer behind', async (t) => {
    const silent = await peer(t);
    const abort = new AbortController();
    const pending = fetchUdpHello({ host: HOST, port: silent.port, timeout: 60_000, signal: abort.signal });
    await silent.receive();
    abort.abort();
    await assert.rejects(pending, (error: unknown) => (error as { code?: string }).code === 'ERR_ABORTED');
  });
});

describe('UdpServer', () => {
  test('maxReplies: closes itself after N replies', async (t) => {
    const server = createUdpHelloServer({ port: 0, host: HOST, maxReplies: 2 });
    const { port } = await server.listen();
    const raw = await peer(t);
    await raw.send(Buffer.from('1'), port, HOST);
    await raw.send(Buffer.from('2'), port, HOST);
    await server.closed;
    assert.equal(server.replied, 2);
    assert.equal((await raw.receive()).message.toString('latin1'), 'Hello World!\0');
    assert.equal((await raw.receive()).message.toString('latin1'), 'Hello World!\0');
  });

  test('a handler that throws or returns nothing does not stop the server', async (t) => {
    const server = new UdpServer({
      port: 0,
      host: HOST,
      onMessage: (message) => {
        const text = message.toString();
        if (text === 'boom') throw new Error('bad datagram');
        return text === 'ignore' ? undefined : message;
      },
    });
    const { port } = await server.listen();
    t.after(() => server.close());
    const raw = await peer(t);
    for (const text of ['boom', 'ignore', 'ok']) await raw.send(Buffer.from(text), port, HOST);
    assert.equal((await raw.receive()).message.toString(), 'ok');
    assert.equal(server.received, 3);
    assert.equal(server.replied, 1);
  });

  test('bind() on a port in use fails with ERR_BIND and EADDRINUSE', async (t) => {
    const taken = await peer(t);
    const server = createUdpEchoServer({ port: taken.port, host: HOST });
    await assert.rejects(
      server.listen(),
      (error: unknown) =>
        error instanceof BindError &&
        error.code === 'ERR_BIND' &&
        error.call === 'bind' &&
        error.systemCode === 'EADDRINUSE',
    );
    await server.close();
  });

  test('close() is safe twice and before listen(); destroy() after close() too', async () => {
    const never = createUdpEchoServer({ port: 0, host: HOST });
    await never.close();
    await never.close();
    const server = createUdpEchoServer({ port: 0, host: HOST });
    await server.listen();
    assert.ok(server.address()?.port);
    await Promise.all([server.close(), server.close()]);
    await server.destroy();
    assert.equal(server.address(), undefined);
  });

  test('options are validated when the server is built', () => {
    assert.throws(() => createUdpEchoServer({ port: 70_000 }), /invalid port '70000'/);
    assert.throws(() => createUdpEchoServer({ port: 0, maxReplies: 0 }), /invalid count '0'/);
    assert.throws(() => createUdpEchoServer({ port: 0, rateLimit: { rate: 0 } }), /invalid rate '0'/);
    assert.throws(() => createUdpHelloServer({ port: 0, message: 'x'.repeat(65_507) }), /do not fit/);
  });
});

describe('UDP trace', () => {
  test('the flow publishes socket, bind, recvfrom, sendto, close in order', async (t) => {
    const events: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((event) => {
      if (event.transport === 'udp') events.push(event);
    });
    t.after(unsubscribe);
    const server = createUdpHelloServer({ port: 0, host: HOST });
    const { port } = await server.listen();
    await fetchUdpHello({ host: HOST, port });
    await server.close();
    const steps = (role: string) =>
      events
        .filter((e) => e.role === role)
        .map((e) => `${e.step} ${e.action}${e.bytes === undefined ? '' : ` ${e.bytes}`}`);
    assert.deepEqual(steps('server'), ['1 socket', '2 bind', '3 recvfrom 0', '3 sendto 13', '4 close']);
    assert.deepEqual(steps('client'), ['1 socket', '2 sendto 0', '3 recvfrom 13', '4 close']);
    const recv = events.find((e) => e.role === 'server' && e.action === 'recvfrom');
    assert.equal(recv?.remote?.address, HOST);
    assert.equal(recv?.endpoint, server.endpoint);
  });

  test('a reply over the rate limit shows as a drop', async (t) => {
    const events: TraceEvent[] = [];
    const unsubscribe = subscribeTrace((event) => {
      if (event.transport === 'udp' && event.role === 'server') events.push(event);
    });
    t.after(unsubscribe);
    const server = createUdpEchoServer({
      port: 0,
      host: HOST,
      // One bucket per address and port, so that a second socket on 127.0.0.1 is another source.
      rateLimit: { rate: 1, burst: 1, now: () => 0, key: (r) => `${r.address}:${r.port}` },
    });
    const { port } = await server.listen();
    t.after(() => server.close());
    const raw = await peer(t);
    await raw.send(Buffer.from('a'), port, HOST);
    await raw.send(Buffer.from('b'), port, HOST);
    assert.equal((await raw.receive()).message.toString(), 'a');
    // The server handles datagrams in arrival order: once a later one is answered, 'b' was handled.
    const other = await peer(t);
    await other.send(Buffer.from('m'), port, HOST);
    assert.equal((await other.receive()).message.toString(), 'm');
    assert.equal(server.dropped, 1);
    const drop = events.find((e) => e.action === 'drop');
    assert.equal(drop?.step, '3');
    assert.equal(drop?.reason, 'rate limit');
  });
});
