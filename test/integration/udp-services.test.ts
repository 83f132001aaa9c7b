import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, type TestContext, test } from 'node:test';
import { createUdpEchoServer, openUdpEchoClient } from '../../src/services/udp-echo.js';
import { createUdpHelloServer, fetchUdpHello } from '../../src/services/udp-hello.js';
import type { UdpServer } from '../../src/transport/udp-server.js';
import { openPeer, type TestPeer } from '../helpers/udp.js';

const HOSTS = ['127.0.0.1', '::1'] as const;

async function started(t: TestContext, server: UdpServer): Promise<number> {
  const { port } = await server.listen();
  t.after(() => server.destroy());
  return port;
}

async function peer(t: TestContext, host: (typeof HOSTS)[number]): Promise<TestPeer> {
  const p = await openPeer(host);
  t.after(() => p.close());
  return p;
}

for (const host of HOSTS) {
  const family = host === '::1' ? 'IPv6' : 'IPv4';

  describe(`UDP services over ${family} (${host})`, () => {
    test('hello: the reply is the message and its NUL, sent to the port it came from', async (t) => {
      const port = await started(t, createUdpHelloServer({ port: 0, host }));
      const reply = await fetchUdpHello({ host, port });
      assert.equal(reply.text, 'Hello World!');
      assert.equal(reply.end, 'nul');

      const raw = await peer(t, host);
      for (const request of [Buffer.alloc(0), Buffer.from('anything at all')]) {
        await raw.send(request, port, host);
        const { message, remote } = await raw.receive();
        assert.deepEqual(message, Buffer.from('Hello World!\0', 'latin1'));
        assert.equal(remote.port, port);
      }
    });

    test('hello: --message and --no-nul change the bytes', async (t) => {
      const port = await started(t, createUdpHelloServer({ port: 0, host, message: '안녕', nul: false }));
      const reply = await fetchUdpHello({ host, port });
      assert.equal(reply.text, '안녕');
      assert.equal(reply.end, 'eof');
    });

    const sizes = family === 'IPv6' ? [0, 1, 1_400, 65_507, 65_527] : [0, 1, 1_400, 65_507];
    test(`echo: datagrams of ${sizes.join(', ')} bytes come back byte for byte`, async (t) => {
      const port = await started(t, createUdpEchoServer({ port: 0, host }));
      const client = await openUdpEchoClient({ host, port });
      t.after(() => client.close());
      const raw = await peer(t, host);
      for (const size of sizes) {
        const payload = randomBytes(size);
        assert.deepEqual(await client.echo(payload), payload, `library client, ${size} bytes`);
        await raw.send(payload, port, host);
        const { message } = await raw.receive();
        assert.equal(message.length, size);
        assert.deepEqual(message, payload, `raw peer, ${size} bytes`);
      }
    });

    test('datagram boundaries are kept across a burst: N in, N replies out, none merged or split', async (t) => {
      const server = createUdpEchoServer({ port: 0, host });
      const port = await started(t, server);
      const raw = await peer(t, host);
      const sent = Array.from({ length: 40 }, (_, i) => Buffer.from(`${i}:${'x'.repeat((i * 97) % 1_500)}`));
      // All sent before any reply is read.
      for (const datagram of sent) await raw.send(datagram, port, host);
      const received: Buffer[] = [];
      for (let i = 0; i < sent.length; i++) received.push((await raw.receive()).message);
      const key = (b: Buffer) => b.toString('latin1');
      assert.deepEqual(received.map(key).sort(), sent.map(key).sort());
      assert.equal(server.received, sent.length);
      assert.equal(server.replied, sent.length);
    });

    test('two clients interleaved: the second is answered while the first is still sending', async (t) => {
      const server = createUdpEchoServer({ port: 0, host });
      const port = await started(t, server);
      const first = await peer(t, host);
      const second = await peer(t, host);
      for (let i = 0; i < 10; i++) {
        await first.send(Buffer.from(`first-${i}`), port, host);
        if (i === 3 || i === 6) {
          // The first client is mid-burst and has read nothing yet: the second must still get its reply.
          await second.send(Buffer.from(`second-${i}`), port, host);
          assert.equal((await second.receive()).message.toString(), `second-${i}`);
        }
      }
      const firstReplies = [];
      for (let i = 0; i < 10; i++) firstReplies.push((await first.receive()).message.toString());
      assert.deepEqual(firstReplies.sort(), Array.from({ length: 10 }, (_, i) => `first-${i}`).sort());
      assert.equal(second.queued, 0);
      assert.equal(server.replied, 12);
    });

    test('rate limit: a flood from one source gets at most the burst, another source is still answered', async (t) => {
      let now = 0; // the limiter's clock stands still unless the test moves it
      const burst = 5;
      // Tests have one address per family, so sources are told apart by port here; the default key
      // (the address alone) is checked in the next test.
      const key = (r: { address: string; port: number }) => `${r.address}:${r.port}`;
      const server = createUdpEchoServer({
        port: 0,
        host,
        rateLimit: { rate: 1, burst, now: () => now, key },
      });
      const port = await started(t, server);
      const flooder = await peer(t, host);
      const flood = 200;
      for (let i = 0; i < flood; i++) await flooder.send(Buffer.from(`flood-${i}`), port, host);

      // Another source, after the whole flood: the server is still answering.
      const other = await openUdpEchoClient({ host, port, timeout: 2_000, retries: 2 });
      t.after(() => other.close());
      assert.equal((await other.echo(Buffer.from('other'))).toString(), 'other');
      assert.equal(server.replied, burst + 1);
      assert.ok(server.dropped > 0, 'some flood replies were dropped');
      assert.equal(server.dropped, server.received - burst - 1);

      // One second later the flooder has one token: its marker's reply comes after every earlier
      // reply to it (same path, in order), so counting up to the marker counts them all.
      now += 1_000;
      await flooder.send(Buffer.from('marker'), port, host);
      const replies: string[] = [];
      for (let i = 0; i <= burst + 1; i++) {
        const text = (await flooder.receive()).message.toString();
        if (text === 'marker') break;
        replies.push(text);
      }
      assert.equal(replies.length, burst);
      assert.ok(replies.every((r) => r.startsWith('flood-')));
      assert.equal(server.trackedSources, 2);
    });

    test('rate limit: by default a source is an address, so new ports do not get new buckets', async (t) => {
      const server = createUdpEchoServer({ port: 0, host, rateLimit: { rate: 1, burst: 3, now: () => 0 } });
      const port = await started(t, server);
      const first = await peer(t, host);
      for (let i = 0; i < 3; i++) {
        await first.send(Buffer.from(`${i}`), port, host);
        assert.equal((await first.receive()).message.toString(), `${i}`);
      }
      // Same address, another port (what a spoofer varies freely): the bucket is already empty.
      const client = await openUdpEchoClient({ host, port, timeout: 100, retries: 1 });
      t.after(() => client.close());
      await assert.rejects(client.echo(Buffer.from('again')), { code: 'ERR_NO_REPLY' });
      assert.equal(server.replied, 3);
      assert.equal(server.dropped, 2);
      assert.equal(server.trackedSources, 1);
    });
  });
}
