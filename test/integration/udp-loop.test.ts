/**
 * UDP loops between answering servers, with the rate limit off: a datagram from one of this
 * process's own servers is never answered, and two echo servers made to talk by one spoofed
 * datagram stop within a bounded count. Spoofing is done for real, on loopback: a socket of the
 * test joins the victim's port with SO_REUSEPORT and sends from its address.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { createUdpEchoServer } from '../../src/services/udp-echo.js';
import { childPids } from '../helpers/proc-net.js';
import { startServer } from '../helpers/process.js';
import { until } from '../helpers/wait.js';

// DEFAULT_UDP_MAX_BOUNCES: written out, so that this test also runs against a tree without it.
const MAX_BOUNCES = 16;

/**
 * Sends `payload` to 127.0.0.1:`to` from `fromHost`:`from` (a port whose sockets set
 * SO_REUSEPORT), then closes the socket, so that the answer goes to the port's other sockets.
 */
async function sendAs(from: number, to: number, payload: string, fromHost = '127.0.0.1'): Promise<void> {
  const socket = createSocket({ type: 'udp4', reusePort: true });
  socket.bind({ address: fromHost, port: from });
  await once(socket, 'listening');
  await new Promise<void>((resolve, reject) =>
    socket.send(payload, to, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
  );
  socket.close();
  await once(socket, 'close');
}

/** Resolves once `read()` has kept one value for 5 polls in a row (bounded); returns it. */
async function settled(read: () => Promise<number> | number, what: string): Promise<number> {
  let last = -1;
  let same = 0;
  await until(
    async () => {
      const now = await read();
      same = now === last ? same + 1 : 0;
      last = now;
      return same >= 5;
    },
    what,
    10_000,
  );
  return last;
}

describe('UDP loop guard, with no rate limit', { timeout: 60_000 }, () => {
  test("a datagram from the server's own address is never answered", async (t) => {
    // Bound to every address: 127.0.0.2 with its port is its own address too. The test's socket
    // binds exactly that (SO_REUSEPORT on both lets it), and sends to 127.0.0.1.
    const server = createUdpEchoServer({ host: '0.0.0.0', port: 0, rateLimit: false, reusePort: true });
    const { port } = await server.listen();
    t.after(() => server.close());
    await sendAs(port, port, 'self', '127.0.0.2');
    await until(() => server.received > 0, 'the datagram to reach the server');
    const received = await settled(() => server.received, 'the server to stop receiving');
    assert.deepEqual([received, server.replied, server.snapshot().outcomes['loop:own-address']], [1, 0, 1]);
  });

  test('two userver --service echo processes, one spoofed datagram: the bouncing stops', async (t) => {
    const args = ['--service', 'echo', '--no-rate-limit', '--host', '127.0.0.1', '0'];
    // B's workers bind with SO_REUSEPORT, which lets the test send from B's own address.
    const b = await startServer('userver', ['--workers', '2', ...args]);
    t.after(() => b.stop('SIGKILL'));
    const a = await startServer('userver', ['--metrics', '127.0.0.1:0', ...args]);
    t.after(() => a.stop('SIGKILL'));
    const metrics = /metrics on (http:\/\/\S+\/metrics)\n/.exec(a.stderr())?.[1] as string;
    const sample = async (name: string) => {
      const text = await (await fetch(metrics)).text();
      return Number(new RegExp(`^socket_steps_${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    };
    assert.equal(childPids(b.child.pid as number).length, 2);
    let received = 0;
    // A's answer goes to B's workers, or (by the port's hash) to our socket if it is still open
    // then: try again, bounded, until A and B talk.
    for (let i = 0; i < 20 && received < 2; i++) {
      await sendAs(b.port, a.port, `spoofed ${i}`);
      received = await settled(() => sample('datagrams_received_total'), 'A to stop receiving');
    }
    assert.ok(received >= 2, `the loop never started (A received ${received})`);
    // Each side answers at most maxBounces bounces in a row; one spoofed datagram that failed to
    // start a loop may have come before.
    const bound = 2 * MAX_BOUNCES + 20;
    assert.ok(received <= bound, `A received ${received} datagrams, more than ${bound}`);
    const text = await (await fetch(metrics)).text();
    assert.match(text, /^socket_steps_replies_loop_dropped_total\{reason="bounce"\} [1-9]\d*$/m);
  });
});
