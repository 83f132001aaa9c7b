/**
 * Listen sources: a server binds a host and port, or takes a socket it inherited as a descriptor.
 * The descriptor comes from Debian's systemd-socket-activate, as under systemd, which binds the
 * port, waits for the first client, then runs the server with the socket as fd 3.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { before, describe, test } from 'node:test';
import { createHelloServer, createUdpHelloServer, fetchHello, fetchUdpHello } from '../../src/index.js';
import { ROOT } from '../helpers/process.js';
import { freePort } from '../helpers/raw.js';

const ACTIVATE = 'systemd-socket-activate';

before(() => {
  const probe = spawnSync(ACTIVATE, ['--version']);
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`${ACTIVATE} is needed for the socket activation tests (apt-get install systemd)`);
  }
});

/** Runs the fixture under systemd-socket-activate on a free port; resolves with the child. */
async function activate(kind: 'tcp' | 'udp', port: number) {
  const args = [...(kind === 'udp' ? ['-d'] : []), '-l', `127.0.0.1:${port}`];
  args.push(process.execPath, `${ROOT}dist/test/fixtures/fd-server.js`, kind);
  const child = spawn(ACTIVATE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const exited = once(child, 'exit').then(([code]) => {
    clearTimeout(killer);
    return { code: code as number | null, stdout, stderr };
  });
  // systemd-socket-activate reports the socket it listens on once it is bound.
  await new Promise<void>((resolve, reject) => {
    const check = () => (/Listening on/.test(stderr) ? resolve() : undefined);
    child.stderr.on('data', check);
    exited.then((r) => reject(new Error(`${ACTIVATE} exited early: ${r.stderr}`)));
    check();
  });
  return { child, exited };
}

describe('a server on an inherited descriptor (socket activation)', () => {
  test('TCP: the hello server serves the client that started it, and the trace says whose socket it is', async () => {
    const port = await freePort();
    const { exited } = await activate('tcp', port);
    const reply = await fetchHello({ host: '127.0.0.1', port });
    assert.equal(reply.text, 'Hello World!');
    const result = await exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `\\[server\\] 2 bind\\(\\): address 127\\.0\\.0\\.1:${port} assigned \\[done by another process: inherited as descriptor 3\\]\\n`,
      ),
    );
    assert.match(result.stderr, /\[server\] 4a accept\(\): #1 connection from 127\.0\.0\.1:\d+\n/);
    const stats = JSON.parse(result.stdout) as { accepted: number; bytesOut: number; service: string };
    assert.deepEqual([stats.service, stats.accepted, stats.bytesOut], ['hello', 1, 13]);
  });

  test('UDP: the datagram that started the server gets its reply', async () => {
    const port = await freePort();
    const { exited } = await activate('udp', port);
    const reply = await fetchUdpHello({ host: '127.0.0.1', port, timeout: 2000 });
    assert.equal(reply.text, 'Hello World!');
    const result = await exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /\[server\] 2 bind\(\): address 127\.0\.0\.1:\d+ assigned \[done by another process: inherited as descriptor 3\]\n/,
    );
    const stats = JSON.parse(result.stdout) as {
      transport: string;
      accepted: number;
      outcomes: { replied: number };
    };
    assert.deepEqual([stats.transport, stats.accepted, stats.outcomes.replied], ['udp', 1, 1]);
  });

  test('a port and a descriptor together, or neither, is refused when the server is built', () => {
    for (const create of [createHelloServer, createUdpHelloServer] as const) {
      assert.throws(() => create({ port: 0, fd: 3 }), {
        code: 'ERR_INVALID_ARG',
        message: /either a port or an inherited descriptor/,
      });
      assert.throws(() => create({}), { code: 'ERR_INVALID_ARG' });
    }
  });

  test('a descriptor that is not a listening socket: listen() rejects with a bind error naming it', async () => {
    const server = createHelloServer({ fd: 987 });
    await assert.rejects(server.listen(), { code: 'ERR_BIND', message: /descriptor 987/ });
  });
});
