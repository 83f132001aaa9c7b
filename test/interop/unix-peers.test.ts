/**
 * Our Unix socket servers and clients against real peers: OpenBSD's `nc -U` and socat's
 * `UNIX-CONNECT:`/`UNIX-LISTEN:` (and `ABSTRACT-` twins), byte for byte.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runBin, runCommand, startServer, testEnv } from '../helpers/process.js';
import { freePort } from '../helpers/raw.js';
import { haproxy, ncOpenbsd, needs, socat, TOOLS } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const READY = /listening on (.+)\n/;
const HELLO = Buffer.from('Hello World!\0');

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'steps-unix-peers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let names = 0;
const abstractName = () => `socket-steps-peers-${process.pid}-${++names}`;

/** Starts socat with `args`; resolves once `ready()` holds; stops it (by its PID) after the test. */
async function startSocat(
  t: { after(fn: () => Promise<unknown>): void },
  args: string[],
  ready: () => boolean,
) {
  const child = spawn(socat(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: testEnv() });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exit = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exit;
  });
  await until(() => ready() || child.exitCode !== null, 'socat to listen', 5_000);
  assert.equal(child.exitCode, null, `socat exited early: ${stderr}`);
  return { exit, stderr: () => stderr };
}

// Listening once /proc/net/unix lists the path (`@name` for an abstract one) with __SO_ACCEPTCON
// in its flags: a file alone is there from bind() on, a moment before listen().
const listening = (path: string) => () =>
  readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[7] === path && (Number.parseInt(fields[3] ?? '0', 16) & 0x10000) !== 0;
    });

describe('Unix sockets with real peers', { timeout: 60_000 }, () => {
  test('nc -U reads the hello bytes from hserver --unix', needs(TOOLS.ncOpenbsd), async (t) => {
    const path = join(tempDir(t), 'h.sock');
    const server = await startServer('hserver', ['--unix', path, '--count', '1'], { readyPattern: READY });
    t.after(() => server.stop());
    const nc = await runCommand(ncOpenbsd(), ['-U', '-N', path], { input: '' });
    assert.equal(nc.stderr, '');
    assert.deepEqual(nc.stdout, HELLO);
    assert.deepEqual(await server.exited(), { code: 0, signal: null });
    assert.equal(existsSync(path), false, 'the server removed its socket file');
  });

  test(
    'socat UNIX-CONNECT: gets its bytes back from hserver --service echo',
    needs(TOOLS.socat),
    async (t) => {
      const path = join(tempDir(t), 'echo.sock');
      const server = await startServer('hserver', ['--service', 'echo', '--unix', path], {
        readyPattern: READY,
      });
      t.after(() => server.stop());
      const input = Buffer.from('hello\n안녕하세요\n\0\xff raw\n', 'latin1');
      const result = await runCommand(socat(), ['-t', '5', '-', `UNIX-CONNECT:${path}`], { input });
      assert.equal(result.stderr, '');
      assert.deepEqual(result.stdout, input);
      assert.equal(result.code, 0);
    },
  );

  test('socat ABSTRACT-CONNECT: reads hello from hserver --unix @name', needs(TOOLS.socat), async (t) => {
    const name = abstractName();
    const server = await startServer('hserver', ['--unix', `@${name}`, '--count', '1'], {
      readyPattern: READY,
    });
    t.after(() => server.stop());
    assert.match(server.stderr(), new RegExp(`listening on @${name}\\n`));
    const result = await runCommand(socat(), ['-u', `ABSTRACT-CONNECT:${name}`, '-']);
    assert.deepEqual(result.stdout, HELLO);
    assert.deepEqual(await server.exited(), { code: 0, signal: null });
  });

  test('hclient --unix prints what socat UNIX-LISTEN: serves', needs(TOOLS.socat), async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'socat.sock');
    const message = join(dir, 'message');
    writeFileSync(message, Buffer.from('Hello from socat\0ignored'));
    const peer = await startSocat(t, ['-u', `OPEN:${message}`, `UNIX-LISTEN:${path}`], () =>
      existsSync(path),
    );
    const result = await runBin('hclient', ['--unix', path]);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout.toString(), 'Message from server: Hello from socat \n');
    assert.equal(result.code, 0);
    await peer.exit;
  });

  test(
    'hclient --service echo --unix @name talks with socat ABSTRACT-LISTEN: and cat',
    needs(TOOLS.socat),
    async (t) => {
      const name = abstractName();
      const peer = await startSocat(t, [`ABSTRACT-LISTEN:${name}`, 'EXEC:cat'], listening(`@${name}`));
      const result = await runBin('hclient', ['--service', 'echo', '--unix', `@${name}`], {
        input: 'one\n둘\nq\n',
      });
      assert.equal(result.stderr, '');
      assert.equal(result.stdout.toString('utf8'), 'Message from server: one\nMessage from server: 둘\n');
      assert.equal(result.code, 0);
      await peer.exit;
    },
  );

  test(
    'HAProxy in front, server unix@PATH send-proxy-v2: each client named, the checks counted apart',
    needs(TOOLS.haproxy),
    async (t) => {
      const dir = tempDir(t);
      const path = join(dir, 'backend.sock');
      const server = await startServer('hserver', ['--unix', path, '--proxy-protocol', '--trace'], {
        readyPattern: READY,
      });
      t.after(() => server.stop());
      const frontend = await freePort();
      const config = join(dir, 'haproxy.cfg');
      writeFileSync(
        config,
        `defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n` +
          `frontend hello\n    bind 127.0.0.1:${frontend}\n    default_backend hellos\n` +
          `backend hellos\n    server hello1 unix@${path} send-proxy-v2 check inter 200ms\n`,
      );
      const engine = spawn(haproxy(), ['-f', config, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
      const engineExit = once(engine, 'exit');
      t.after(async () => {
        if (engine.exitCode === null && engine.signalCode === null) engine.kill('SIGTERM');
        await engineExit;
      });
      const fetchOne = async () => {
        const socket = createConnection({ host: '127.0.0.1', port: frontend });
        await once(socket, 'connect');
        const port = socket.localPort as number;
        const chunks: Buffer[] = [];
        for await (const chunk of socket) chunks.push(chunk as Buffer);
        return { port, reply: Buffer.concat(chunks) };
      };
      // HAProxy is up once a client through it gets the greeting; and its check has run once the
      // backend has seen a LOCAL header (a health check in its stats).
      await until(
        async () => (await fetchOne().catch(() => ({ reply: Buffer.alloc(0) }))).reply.equals(HELLO),
        'HAProxy to pass a client through',
      );
      const clients = [await fetchOne(), await fetchOne(), await fetchOne()];
      for (const c of clients) assert.deepEqual(c.reply, HELLO);
      await until(
        () =>
          clients.every((c) =>
            server
              .stderr()
              .includes(`connection from 127.0.0.1:${c.port} via a proxy on ${path} (Unix domain socket)\n`),
          ),
        "the backend's trace to name each client",
      );
      server.child.kill('SIGUSR1');
      await until(() => /stats \{.*"healthChecks":[1-9]/.test(server.stderr()), 'a health check counted');
      assert.doesNotMatch(server.stderr(), /"errors":\{"/, 'no errors');
    },
  );
});
