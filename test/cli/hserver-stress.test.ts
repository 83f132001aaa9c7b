/**
 * Floods on hserver, driven by the project's C load generator (c/loadgen.c, built with gcc):
 * 10,000 clients at once, and a flood of clients that close with a reset. Every run is bounded
 * (the load generator's -t); afterwards the server must still answer and hold no more descriptors than before.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { buildProgram } from '../../c/build.js';
import { fetchHello } from '../../src/index.js';
import { parseLoadgen } from '../helpers/c-programs.js';
import { runCommand, startServer } from '../helpers/process.js';

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
    for (let i = 0; i < 100 && after !== before; i++) {
      await new Promise((r) => setTimeout(r, 10));
      after = fds();
    }
    assert.equal(after, before);
    assert.equal(server.child.exitCode, null);
  });
});
