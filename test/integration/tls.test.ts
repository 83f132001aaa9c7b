/**
 * TLS in the library: the server's stage on every service, after a PROXY header, with a handshake
 * that never completes holding nothing past its timeout; the client's handshake through the
 * services' own clients; and the load engine's handshakes, resumed or not.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { TlsHandshakeError } from '../../src/errors.js';
import {
  createEchoServer,
  createHelloServer,
  createSelfSignedCredentials,
  fetchHello,
  openEcho,
  ProxyProtocolStage,
  runLoad,
  subscribeTrace,
  TlsServerStage,
  type TraceEvent,
} from '../../src/index.js';

const credentials = createSelfSignedCredentials();
const trust = { ca: credentials.cert, servername: 'localhost' };

describe('the TLS stage', () => {
  test('hello over TLS, traced: accept, handshake, write, in that order', async (t) => {
    const stage = new TlsServerStage({ credentials });
    const server = createHelloServer({ port: 0, host: '127.0.0.1', stages: [stage] });
    const { port } = await server.listen();
    t.after(() => server.close());
    const events: TraceEvent[] = [];
    const stop = subscribeTrace((e) => events.push(e));
    try {
      const reply = await fetchHello({ host: '127.0.0.1', port, tls: trust });
      assert.equal(reply.text, 'Hello World!');
    } finally {
      stop();
    }
    const server4 = events
      .filter((e) => e.role === 'server' && e.connection !== undefined)
      .map((e) => e.action);
    assert.deepEqual(server4.slice(0, 3), ['accept', 'handshake', 'write']);
    const client = events.filter((e) => e.role === 'client').map((e) => e.action);
    assert.deepEqual(client.slice(0, 3), ['socket', 'connect', 'handshake']);
    assert.equal(stage.stats().handshakes, 1);
    assert.equal(server.snapshot().stages.tls?.handshakes, 1);
  });

  test('echo over TLS, byte for byte, in chunks of every size', async (t) => {
    const server = createEchoServer({
      port: 0,
      host: '127.0.0.1',
      stages: [new TlsServerStage({ credentials })],
    });
    const { port } = await server.listen();
    t.after(() => server.close());
    const session = await openEcho({ host: '127.0.0.1', port, tls: trust });
    for (const size of [1, 100, 16_384, 100_000]) {
      const data = Buffer.alloc(size, size % 251);
      assert.ok((await session.echo(data)).equals(data));
    }
    await session.close();
  });

  test("after a PROXY header: the client is the header's, the bytes after it are TLS", async (t) => {
    const server = createHelloServer({
      port: 0,
      host: '127.0.0.1',
      stages: [new ProxyProtocolStage({ trusted: ['127.0.0.1'] }), new TlsServerStage({ credentials })],
    });
    const { port } = await server.listen();
    t.after(() => server.close());
    const events: TraceEvent[] = [];
    const stop = subscribeTrace((e) => events.push(e));
    const raw = connect(port, '127.0.0.1');
    await once(raw, 'connect');
    raw.write('PROXY TCP4 192.0.2.7 127.0.0.1 40000 9190\r\n');
    const { startTls } = await import('../../src/transport/tls-client.js');
    const { socket } = await startTls(raw, '127.0.0.1', trust);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.resume();
    await once(socket, 'end');
    socket.destroy();
    stop();
    assert.equal(Buffer.concat(chunks).toString('latin1'), 'Hello World!\0');
    const accept = events.find((e) => e.role === 'server' && e.action === 'accept');
    assert.equal(accept?.remote?.address, '192.0.2.7');
  });

  test('a handshake that never completes holds nothing past the timeout, and is counted', async (t) => {
    const failures: string[] = [];
    const stage = new TlsServerStage({
      credentials,
      handshakeTimeout: 200,
      onFailure: (_connection, error) => failures.push(error.reason),
    });
    const server = createHelloServer({ port: 0, host: '127.0.0.1', stages: [stage] });
    const { port } = await server.listen();
    t.after(() => server.close());
    const silent = connect(port, '127.0.0.1');
    silent.on('error', () => {});
    silent.resume();
    await once(silent, 'connect');
    const started = Date.now();
    await once(silent, 'close');
    const held = Date.now() - started;
    assert.ok(held >= 150 && held < 3000, `held ${held} ms`);
    assert.deepEqual(failures, ['timeout']);
    assert.equal(stage.stats()['failed:timeout'], 1);
    // Closed on the server too: nothing left open.
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(server.connections, 0);
    assert.equal(server.snapshot().errors.ERR_TLS_HANDSHAKE, 1);
  });

  test('the client: a certificate that is not trusted rejects with its reason', async (t) => {
    const server = createHelloServer({
      port: 0,
      host: '127.0.0.1',
      stages: [new TlsServerStage({ credentials })],
    });
    const { port } = await server.listen();
    t.after(() => server.close());
    const error = await fetchHello({ host: '127.0.0.1', port, tls: {} }).catch((e: unknown) => e);
    assert.ok(error instanceof TlsHandshakeError);
    assert.equal(error.reason, 'self-signed');
    const wrong = await fetchHello({
      host: '127.0.0.1',
      port,
      tls: { ca: credentials.cert, servername: 'example.org' },
    }).catch((e: unknown) => e);
    assert.ok(wrong instanceof TlsHandshakeError);
    assert.equal(wrong.reason, 'wrong-name');
  });
});

describe('the load engine over TLS', () => {
  test('an empty script is the handshake alone; with resume the tickets are used', async (t) => {
    const stage = new TlsServerStage({ credentials });
    const server = createHelloServer({ port: 0, host: '127.0.0.1', stages: [stage] });
    const { port } = await server.listen();
    t.after(() => server.close());
    const loadTrust = { ca: [credentials.cert], servername: 'localhost' };
    const full = await runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 2,
      requests: 20,
      script: [],
      tls: loadTrust,
    });
    assert.equal(full.ok, 20, JSON.stringify(full.errors));
    assert.equal(full.tls?.handshakes, 20);
    assert.equal(full.tls?.resumed, 0);
    assert.equal(full.tls?.latency.count, 20);
    const resumed = await runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 2,
      requests: 20,
      script: [],
      tls: { ...loadTrust, resume: true },
    });
    assert.equal(resumed.ok, 20, JSON.stringify(resumed.errors));
    assert.ok((resumed.tls?.resumed ?? 0) >= 15, `resumed ${resumed.tls?.resumed}`);
    assert.ok((stage.stats().resumed ?? 0) >= 15);
    const threads = await runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 2,
      threads: 2,
      requests: 10,
      script: [],
      tls: loadTrust,
    });
    assert.equal(threads.tls?.handshakes, 10);
  });
});
