/**
 * systemd socket activation, with the real `systemd-socket-activate` (Debian's systemd package):
 * it binds the socket, waits for the first client, then starts the server with the socket as
 * descriptor 3. That first client arrived before Node started, and must be served.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connectTcp, fetchHello, fetchUdpHello } from '../../src/index.js';
import { activatedSockets, clearActivationEnv } from '../../src/transport/socket-activation.js';
import { binPath, ROOT, runCommand, startServer, testEnv } from '../helpers/process.js';
import { freePort } from '../helpers/raw.js';
import { socketActivator, systemdAnalyze } from '../helpers/tools.js';

/** Starts `systemd-socket-activate ARGS... bin/PROGRAM PROGRAM_ARGS...`; resolves once it listens. */
async function activate(socketArgs: string[], program: string, args: string[]) {
  const child = spawn(socketActivator(), [...socketArgs, binPath(program), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: testEnv(),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`systemd-socket-activate did not listen; stderr: ${stderr}`));
    }, 10_000);
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (/Listening on /.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    stderr: () => stderr,
    async exited(timeoutMs = 10_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code, signal] = await exit;
      clearTimeout(timer);
      return { code, signal };
    },
  };
}

describe('socket activation: which variables count', () => {
  test('only sockets meant for this pid, counted from descriptor 3; names when given', () => {
    assert.deepEqual(activatedSockets({ LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' }, 42), {
      fds: [3, 4],
      names: ['a', 'b'],
    });
    assert.equal(activatedSockets({ LISTEN_PID: '41', LISTEN_FDS: '1' }, 42), undefined);
    assert.equal(activatedSockets({ LISTEN_FDS: '1' }, 42), undefined);
    assert.equal(activatedSockets({ LISTEN_PID: '42', LISTEN_FDS: '0' }, 42), undefined);
    assert.equal(activatedSockets({ LISTEN_PID: '42x', LISTEN_FDS: '1' }, 42), undefined);
    assert.equal(activatedSockets({ LISTEN_PID: '42', LISTEN_FDS: '-1' }, 42), undefined);
    const env: Record<string, string | undefined> = {
      LISTEN_PID: '1',
      LISTEN_FDS: '1',
      LISTEN_FDNAMES: 'x',
      HOME: '/h',
    };
    clearActivationEnv(env);
    assert.deepEqual(env, { HOME: '/h' });
  });

  test('variables meant for another process are ignored: hserver binds its own port', async () => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0'], {
      env: testEnv({ LISTEN_PID: '1', LISTEN_FDS: '1' }),
    });
    assert.match(server.stderr(), /^hserver: listening on 127\.0\.0\.1:\d+\n$/);
    assert.equal((await fetchHello({ host: '127.0.0.1', port: server.port })).text, 'Hello World!');
    assert.equal((await server.stop()).code, 0);
  });
});

describe('hserver and userver under systemd-socket-activate', () => {
  test('hserver: the client that started it is served, then the next; the line names the descriptor', async () => {
    const port = await freePort();
    const run = await activate(['-l', `127.0.0.1:${port}`], 'hserver', ['--count', '2']);
    // Node is not running yet: this connection is what makes systemd-socket-activate start it.
    assert.equal((await fetchHello({ host: '127.0.0.1', port })).text, 'Hello World!');
    assert.equal((await fetchHello({ host: '127.0.0.1', port })).text, 'Hello World!');
    const { code } = await run.exited();
    assert.equal(code, 0, run.stderr());
    assert.match(
      run.stderr(),
      new RegExp(`hserver: listening on 127\\.0\\.0\\.1:${port} \\(socket from systemd, descriptor 3\\)\\n`),
    );
  });

  test('hserver --service echo on a passed socket, with the matching <port> given', async () => {
    const port = await freePort();
    const run = await activate(['-l', `127.0.0.1:${port}`], 'hserver', [
      '--service',
      'echo',
      '--count',
      '1',
      String(port),
    ]);
    const client = await connectTcp({ host: '127.0.0.1', port });
    client.socket.end('ping\n');
    const chunks: Buffer[] = [];
    for await (const chunk of client.socket) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'ping\n');
    assert.equal((await run.exited()).code, 0, run.stderr());
  });

  test('userver -d: the first datagram arrives before Node starts, and is answered', async () => {
    const port = await freePort();
    const run = await activate(['-d', '-l', `127.0.0.1:${port}`], 'userver', ['--count', '1']);
    const reply = await fetchUdpHello({ host: '127.0.0.1', port });
    assert.equal(reply.text, 'Hello World!');
    assert.equal((await run.exited()).code, 0, run.stderr());
    assert.match(
      run.stderr(),
      /userver: listening on 127\.0\.0\.1:\d+ \(socket from systemd, descriptor 3\)/,
    );
  });

  test('options that bind a socket themselves are refused with a passed socket, exit 1', async () => {
    // LISTEN_PID must be the server's own pid: the shell's exec keeps its pid ($$). The options
    // are refused before the descriptor is used, so fd 3 here need not be a socket.
    const script = (args: string) => [
      '-c',
      `LISTEN_PID=$$ LISTEN_FDS=1 exec "${binPath('hserver')}" ${args} 3>&2`,
    ];
    const host = await runCommand('/bin/sh', script('--host 127.0.0.1'));
    assert.equal(host.code, 1);
    assert.match(host.stderr, /^hserver: --host does not apply to the socket systemd passed/);
    const workers = await runCommand('/bin/sh', script('--workers 2'));
    assert.equal(workers.code, 1);
    assert.match(workers.stderr, /^hserver: --workers does not apply to the socket systemd passed/);
  });

  test('a <port> other than the passed socket’s is refused once listening, exit 1', async () => {
    const port = await freePort();
    const other = port === 65535 ? port - 1 : port + 1;
    const run = await activate(['-l', `127.0.0.1:${port}`], 'hserver', [String(other)]);
    await fetchHello({ host: '127.0.0.1', port }).catch(() => undefined);
    const { code } = await run.exited();
    assert.equal(code, 1);
    assert.match(
      run.stderr(),
      new RegExp(`hserver: the socket systemd passed is bound to 127\\.0\\.0\\.1:${port}, not port ${other}`),
    );
  });
});

describe('deploy/systemd units', () => {
  /** The unit files with ExecStart pointing at this checkout's bin/ (as `npm install -g` would put them). */
  function units(dir: string): string[] {
    const names = ['hserver.socket', 'hserver.service', 'userver.socket', 'userver.service'];
    for (const name of names) {
      const text = readFileSync(join(ROOT, 'deploy', 'systemd', name), 'utf8');
      writeFileSync(join(dir, name), text.replaceAll('/usr/local/bin/', `${ROOT}bin/`));
    }
    return names.map((name) => join(dir, name));
  }

  /** The arguments of a service's ExecStart, after the program. */
  function execArgs(name: string): string[] {
    const text = readFileSync(join(ROOT, 'deploy', 'systemd', name), 'utf8');
    const line = /^ExecStart=(\S+)(.*)$/m.exec(text);
    assert.ok(line, `${name} has no ExecStart`);
    return (line[2] as string).trim().split(/\s+/).filter(Boolean);
  }

  test('systemd-analyze verify finds nothing wrong with them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-steps-units-'));
    try {
      const result = spawnSync(systemdAnalyze(), ['verify', ...units(dir)], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr.trim(), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the services' own command lines serve the passed socket, with metrics", async () => {
    const port = await freePort();
    // The metrics port of the unit, replaced by a free one.
    const args = execArgs('hserver.service').map((a) => a.replace(/^127\.0\.0\.1:\d+$/, '127.0.0.1:0'));
    const run = await activate(['-l', `127.0.0.1:${port}`], 'hserver', [...args, '--count', '1']);
    assert.equal((await fetchHello({ host: '127.0.0.1', port })).text, 'Hello World!');
    assert.equal((await run.exited()).code, 0, run.stderr());
    assert.match(run.stderr(), /hserver: metrics on http:\/\/127\.0\.0\.1:\d+\/metrics\n/);
    const udpPort = await freePort();
    const udpArgs = execArgs('userver.service').map((a) => a.replace(/^127\.0\.0\.1:\d+$/, '127.0.0.1:0'));
    const udp = await activate(['-d', '-l', `127.0.0.1:${udpPort}`], 'userver', [...udpArgs, '--count', '1']);
    assert.equal((await fetchUdpHello({ host: '127.0.0.1', port: udpPort })).text, 'Hello World!');
    assert.equal((await udp.exited()).code, 0, udp.stderr());
  });
});
