import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fetchHello } from '../../src/index.js';
import { runBin, startServer } from '../helpers/process.js';

/** PIDs of a process's children, from /proc. */
function children(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

describe('hserver --workers', () => {
  test('two workers share the port: one listening line, every client served, SIGTERM exits 0', async () => {
    const server = await startServer('hserver', ['--workers', '2', '--host', '127.0.0.1', '0']);
    assert.match(server.stderr(), /^hserver: listening on 127\.0\.0\.1:\d+\n$/);
    assert.equal(children(server.child.pid as number).length, 2);
    const replies = await Promise.all(
      Array.from({ length: 200 }, () => fetchHello({ host: '127.0.0.1', port: server.port })),
    );
    assert.equal(replies.filter((r) => r.text === 'Hello World!').length, 200);
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    assert.match(server.stderr(), /^hserver: listening on 127\.0\.0\.1:\d+\n$/);
  });

  test('a worker that dies is replaced', async () => {
    const server = await startServer('hserver', ['--workers', '2', '--host', '127.0.0.1', '0']);
    const [first] = children(server.child.pid as number);
    process.kill(first as number, 'SIGKILL');
    // Wait for the primary to report the replacement (bounded by the stream's own end).
    await new Promise<void>((resolve) => {
      const check = () => {
        if (/starting another/.test(server.stderr())) {
          server.child.stderr?.off('data', check);
          resolve();
        }
      };
      server.child.stderr?.on('data', check);
      server.child.once('exit', () => resolve());
      check();
    });
    assert.match(server.stderr(), /worker \d+ exited \(SIGKILL\); starting another/);
    assert.equal((await fetchHello({ host: '127.0.0.1', port: server.port })).text, 'Hello World!');
    assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
  });

  test('a busy port: one bind() error line, exit 1', async (t) => {
    const other = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => other.stop());
    const result = await runBin('hserver', ['--workers', '2', '--host', '127.0.0.1', String(other.port)]);
    assert.equal(
      result.stderr,
      `bind() error: 127.0.0.1:${other.port}: address already in use (EADDRINUSE)\n`,
    );
    assert.equal(result.code, 1);
  });

  test('--count with --workers is refused', async () => {
    const result = await runBin('hserver', ['--workers', '2', '--count', '1', '0']);
    assert.match(result.stderr, /^hserver: --count cannot be combined with --workers/);
    assert.equal(result.code, 1);
  });
});
