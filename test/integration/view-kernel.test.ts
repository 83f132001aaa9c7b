/**
 * The kernel reader against the real kernel: `ss` with the view's filter returns only the sockets
 * asked for, though the table holds many more on the same ports; and the two sources, `ss` and
 * /proc/net/tcp{,6}, say the same of the same connections (IPv4, IPv6, dual stack).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { type KernelEnds, KernelReader } from '../../src/view/kernel-reader.js';
import { ssFamily, ssFilter } from '../../src/view/ss.js';
import { needs, TOOLS, toolPath } from '../helpers/tools.js';

async function listening(server: Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function dial(port: number, host: string, allowHalfOpen = false): Promise<Socket> {
  const socket = connect({ port, host, allowHalfOpen });
  await once(socket, 'connect');
  socket.resume();
  return socket;
}

describe('the kernel reader on the real kernel', needs(TOOLS.ss), () => {
  test('the filter: only the rows asked for, among 40 other connections in TIME_WAIT on the same port', async () => {
    const program = toolPath(TOOLS.ss);
    // The server closes first: each of its sides stays in TIME_WAIT, which is what fills tables.
    const server = createServer((c) => {
      c.on('error', () => {});
      c.end('x');
    });
    const port = await listening(server, '127.0.0.1');
    try {
      for (let i = 0; i < 40; i++) {
        const s = await dial(port, '127.0.0.1');
        if (!s.closed) await once(s, 'close');
      }
      const held: Socket[] = [];
      const wanted: KernelEnds[] = [];
      for (let i = 0; i < 2; i++) {
        const s = await dial(port, '127.0.0.1', true);
        held.push(s);
        wanted.push({
          local: { address: '127.0.0.1', port },
          remote: { address: '127.0.0.1', port: s.localPort ?? 0 },
        });
      }
      const listen = [{ address: '127.0.0.1', port }];
      const family = ssFamily(wanted, listen);
      assert.equal(family, '4');
      const out = execFileSync(program, [`-tanH${family}`, ssFilter(wanted, listen)], { encoding: 'latin1' });
      const lines = out.split('\n').filter((l) => l !== '');
      const all = execFileSync(program, ['-tanH', `sport = :${port} or dport = :${port}`], {
        encoding: 'latin1',
      });
      assert.ok(all.split('\n').length > 40, 'the other connections are in the table');
      // Per wanted connection its two sockets (server side, client side), and the listener.
      assert.equal(lines.length, 5, out);
      for (const w of wanted) {
        assert.equal(
          lines.filter((l) => l.includes(`127.0.0.1:${w.remote.port} `) || l.endsWith(`:${w.remote.port}`))
            .length,
          2,
          out,
        );
      }
      assert.equal(lines.filter((l) => l.startsWith('LISTEN')).length, 1);
      for (const s of held) s.destroy();
    } finally {
      server.close();
    }
  });

  test('ss and /proc say the same of the same connections: IPv4, IPv6, dual stack, each stage', async () => {
    const viaSs = new KernelReader({ maxReadsPerSecond: 1000, readSpacing: 0 });
    const viaProc = new KernelReader({ ss: false, maxReadsPerSecond: 1000, readSpacing: 0 });
    assert.equal(viaSs.source, 'ss');
    const servers: Server[] = [];
    const sockets: Socket[] = [];
    try {
      const cases: Array<{ host: string; client: string; ends: KernelEnds }> = [];
      for (const [host, client] of [
        ['127.0.0.1', '127.0.0.1'],
        ['::1', '::1'],
        ['::', '127.0.0.1'],
      ] as const) {
        // The server sends its FIN first; the client stays half-open: FIN_WAIT2 / CLOSE_WAIT.
        const server = createServer((c) => {
          c.on('error', () => {});
          c.end('x');
        });
        servers.push(server);
        const port = await listening(server, host);
        const s = await dial(port, client, true);
        sockets.push(s);
        await once(s, 'end');
        cases.push({
          host,
          client,
          ends: {
            local: {
              address:
                s.remoteAddress === '127.0.0.1' && host === '::'
                  ? '::ffff:127.0.0.1'
                  : (s.remoteAddress ?? ''),
              port,
            },
            remote: {
              address: host === '::' ? `::ffff:${s.localAddress}` : (s.localAddress ?? ''),
              port: s.localPort ?? 0,
            },
          },
        });
      }
      const ends = cases.map((c) => c.ends);
      const listen = cases.map((c) => ({ address: c.host, port: c.ends.local.port }));
      // Waits (bounded) until ss gives every connection the steady pair, then asks /proc, then ss
      // again: a transition between the two reads (FIN_WAIT1 to FIN_WAIT2) would show as a change.
      const compare = async (stage: string, steady: { server: string; client: string }) => {
        const deadline = Date.now() + 5_000;
        let a = await viaSs.read(ends, listen, 0);
        while (
          !cases.every((c) => isDeepStrictEqual(viaSs.states(a, c.ends), steady)) &&
          Date.now() < deadline
        ) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          a = await viaSs.read(ends, listen, 0);
        }
        const b = await viaProc.read(ends, listen, 0);
        assert.equal(a.source, 'ss');
        assert.equal(b.source, 'proc');
        for (const c of cases) {
          assert.deepEqual(viaSs.states(a, c.ends), steady, `${stage} ${c.host} <- ${c.client}: ss`);
          assert.deepEqual(viaProc.states(b, c.ends), steady, `${stage} ${c.host} <- ${c.client}: /proc`);
        }
        for (const l of listen) {
          assert.equal(viaSs.acceptQueue(a, l), 0, `${stage} queue ${l.address}: ss`);
          assert.equal(viaProc.acceptQueue(b, l), 0, `${stage} queue ${l.address}: /proc`);
        }
      };
      // Half-closed, and then closed by the client: the server's side TIME_WAIT, the client's gone.
      await compare('half-closed', { server: 'FIN_WAIT2', client: 'CLOSE_WAIT' });
      for (const s of sockets) {
        s.end();
        if (!s.closed) await once(s, 'close');
      }
      await compare('closed', { server: 'TIME_WAIT', client: 'gone' });
    } finally {
      for (const s of sockets) s.destroy();
      for (const s of servers) s.close();
    }
  });
});
