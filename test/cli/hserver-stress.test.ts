/**
 * Floods on hserver, driven by the project's C load generator (c/loadgen.c, built with gcc):
 * 10,000 clients at once, and a flood of clients that close with a reset. Every run is bounded
 * (the load generator's -t); afterwards the server must still answer and hold no more descriptors than before.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { before, describe, test } from 'node:test';
import { buildProgram } from '../../c/build.js';
import { fetchHello, greet } from '../../src/index.js';
import { parseLoadgen } from '../helpers/c-programs.js';
import { binPath, runCommand, startServer } from '../helpers/process.js';
import { until } from '../helpers/wait.js';

let loadgen: string;
before(() => {
  loadgen = buildProgram('loadgen');
});

describe('hserver under floods', () => {
  test('10,000 clients at once: every one served, none left waiting', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const run = await runCommand(
      loadgen,
      ['-h', '127.0.0.1', '-p', String(server.port), '-c', '10000', '-n', '10000', '-t', '20'],
      { timeoutMs: 30_000 },
    );
    const result = parseLoadgen(run.stdout.toString());
    assert.equal(result.ok, '10000', run.stdout.toString());
    assert.equal(result.timeouts, '0');
    assert.equal(result.bad, '0');
  });

  test('a flood of resets: the server lives on and leaks no descriptor', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const fds = () => readdirSync(`/proc/${server.child.pid}/fd`).length;
    // The baseline once the server has served a client: a descriptor of its start-up may still be
    // open just after its listening line and close during the flood (seen once in CI: 23 after, 24
    // before). A leak is more descriptors after, never fewer.
    await fetchHello({ host: '127.0.0.1', port: server.port });
    const before = fds();
    const run = await runCommand(
      loadgen,
      ['-h', '127.0.0.1', '-p', String(server.port), '-c', '500', '-n', '20000', '-r', '-t', '20'],
      { timeoutMs: 30_000 },
    );
    const result = parseLoadgen(run.stdout.toString());
    assert.equal(result.bad, '0', run.stdout.toString());
    assert.ok(Number(result.ok) > 0);
    assert.equal((await fetchHello({ host: '127.0.0.1', port: server.port })).text, 'Hello World!');
    // The server closes each connection as soon as it has written; give its loop a few turns.
    let after = fds();
    for (let i = 0; i < 100 && after > before; i++) {
      await new Promise((r) => setTimeout(r, 10));
      after = fds();
    }
    assert.ok(after <= before, `${after} descriptors after the flood, ${before} before`);
    assert.equal(server.child.exitCode, null);
  });
});

describe('hserver at its descriptor limit', () => {
  test('ulimit -n 64, 100 greet clients held open: refusals are said on stderr, once, then recovery', async (t) => {
    // The shell sets the limit and execs the server, so the pid and the limit are the server's.
    const server = await startServer('/bin/sh', [
      '-c',
      `ulimit -n 64 && exec "${binPath('hserver')}" --service greet --host 127.0.0.1 0`,
    ]);
    t.after(() => server.stop());
    const sockets: Socket[] = [];
    let refusals = 0;
    let bareCloses = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        const socket = connect({ port: server.port, host: '127.0.0.1' });
        sockets.push(socket);
        socket.on('error', () => {});
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk));
        // Refused: the line, or at worst a bare close. Held: the server waits for a greeting.
        socket.once('close', () => {
          if (text.startsWith('ERROR too-many-connections')) refusals++;
          else bareCloses++;
        });
        await once(socket, 'connect');
      }),
    );
    // The recovery line comes once a second has passed without a refusal: every refusal has been
    // reported by then, and the refused clients have seen their close.
    await until(() => /accepting connections again/.test(server.stderr()), 'the recovery line');
    const held = sockets.filter((s) => !s.destroyed).length;
    assert.ok(held > 0, 'no client was held');
    assert.equal(held + refusals + bareCloses, 100);
    // All 100 came within a second or two: one line a second at most, their counts adding up.
    const counts = [...server.stderr().matchAll(/EMFILE\); (\d+) connection/g)].map((m) => Number(m[1]));
    assert.ok(counts.length >= 1 && counts.length <= 2, server.stderr());
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      refusals + bareCloses,
      server.stderr(),
    );
    assert.match(server.stderr(), /\(descriptor limit 64: raise it with ulimit -n/);
    for (const socket of sockets) socket.destroy();
    assert.equal(server.stderr().match(/accepting connections again/g)?.length, 1, server.stderr());
    // Once the server has seen the held clients go, it has room again: a new client is served.
    await until(
      () =>
        greet({ host: '127.0.0.1', port: server.port }).then(
          ({ lines }) => lines.length > 0,
          () => false,
        ),
      'a greet client served after the others left',
    );
    assert.equal((await server.stop()).code, 0);
  });
});
