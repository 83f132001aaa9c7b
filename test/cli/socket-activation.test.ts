/**
 * systemd socket activation, with the real `systemd-socket-activate` (Debian's systemd package):
 * it binds the socket, waits for the first client, then starts the server with the socket as
 * descriptor 3. That first client arrived before Node started, and must be served.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connectTcp, fetchHello, fetchUdpHello } from '../../src/index.js';
import { activatedSockets, clearActivationEnv } from '../../src/transport/socket-activation.js';
import { binPath, ROOT, runCommand, startServer, testEnv } from '../helpers/process.js';
import { freePort } from '../helpers/raw.js';
import { needs, socketActivator, systemdAnalyze, TOOLS } from '../helpers/tools.js';

/**
 * Starts `systemd-socket-activate ARGS... bin/PROGRAM PROGRAM_ARGS...` (PROGRAM may be an absolute
 * path instead); resolves once it listens.
 */
async function activate(socketArgs: string[], program: string, args: string[]) {
  const command = program.startsWith('/') ? program : binPath(program);
  const child = spawn(socketActivator(), [...socketArgs, command, ...args], {
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
    /** Stops systemd-socket-activate (by its PID) and waits for it. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return this.exited();
    },
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
      count: 2,
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

describe('hserver and userver under systemd-socket-activate', needs(TOOLS.socketActivate), () => {
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

describe(
  'a passed socket the program cannot serve: one line in our words, exit 1',
  needs(TOOLS.socketActivate),
  () => {
    /** The run of an activated program that refused its socket: exit 1, the lines it printed. */
    async function refused(run: Awaited<ReturnType<typeof activate>>): Promise<string[]> {
      const { code } = await run.exited();
      assert.equal(code, 1, run.stderr());
      // systemd-socket-activate's own lines are not ours.
      return run
        .stderr()
        .split('\n')
        .filter((line) => /^[hu]server: /.test(line));
    }

    test('userver given a Unix stream socket (with and without --trace); hserver serves one (test/cli/unix-cli.test.ts)', async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'socket-steps-unix-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      for (const [i, args] of [[], ['--trace']].entries()) {
        const path = join(dir, `s${i}`);
        const run = await activate(['-l', path], 'userver', args);
        // The first connection is what starts the server.
        const socket = createConnection(path);
        socket.on('error', () => {});
        assert.deepEqual(await refused(run), [
          'userver: descriptor 3 from systemd is a Unix stream socket; userver serves UDP sockets only (Node.js has no Unix datagram sockets)',
        ]);
        socket.destroy();
      }
    });

    test('userver given a TCP socket, hserver given a UDP one', async () => {
      const port = await freePort();
      const tcp = await activate(['-l', `127.0.0.1:${port}`], 'userver', []);
      await fetchHello({ host: '127.0.0.1', port, timeout: 2000 }).catch(() => undefined);
      assert.deepEqual(await refused(tcp), [
        'userver: descriptor 3 from systemd is a TCP socket; userver serves UDP sockets only (hserver serves TCP)',
      ]);
      const udpPort = await freePort();
      const udp = await activate(['-d', '-l', `127.0.0.1:${udpPort}`], 'hserver', []);
      await fetchUdpHello({ host: '127.0.0.1', port: udpPort, timeout: 500, retries: 0 }).catch(
        () => undefined,
      );
      assert.deepEqual(await refused(udp), [
        'hserver: descriptor 3 from systemd is a UDP socket; hserver serves TCP sockets only (userver serves UDP)',
      ]);
    });

    test('hserver given a connection (Accept=yes) instead of a listening socket', async (t) => {
      const port = await freePort();
      const run = await activate(['--accept', '-l', `127.0.0.1:${port}`], 'hserver', []);
      // systemd-socket-activate --accept runs until stopped.
      t.after(() => run.stop());
      const client = await connectTcp({ host: '127.0.0.1', port });
      // The server refuses and exits; the connection then ends, unserved (bounded: 5 s).
      const timer = setTimeout(() => client.socket.destroy(), 5000);
      try {
        for await (const _ of client.socket) {
          /* nothing is sent */
        }
      } catch {
        // destroyed by the timer: the lines below say what went wrong
      }
      clearTimeout(timer);
      await new Promise((resolve) => setImmediate(resolve));
      const lines = run
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith('hserver: '));
      assert.deepEqual(lines, [
        'hserver: descriptor 3 from systemd is a TCP socket that is not listening (Accept=yes passes connections; hserver needs Accept=no)',
      ]);
    });

    test('LISTEN_FDS larger than what was passed, or than a process may hold', async () => {
      // One real listening socket, and a shell that raises the count before it becomes hserver
      // (exec keeps its pid, which is LISTEN_PID).
      const port = await freePort();
      const run = await activate(['-l', `127.0.0.1:${port}`], '/bin/sh', [
        '-c',
        `LISTEN_FDS=5 exec "${binPath('hserver')}"`,
      ]);
      await fetchHello({ host: '127.0.0.1', port, timeout: 2000 }).catch(() => undefined);
      assert.deepEqual(await refused(run), [
        'hserver: LISTEN_FDS=5 says 5 sockets were passed, but descriptor 4 is not a socket',
      ]);
      const script = (fds: string, program = 'hserver') => [
        '-c',
        `LISTEN_PID=$$ LISTEN_FDS=${fds} exec "${binPath(program)}" 3</dev/null`,
      ];
      // Which of the two a machine says depends on its descriptor limit; never "1024 sockets".
      const many = await runCommand('/bin/sh', script('99999'));
      assert.equal(many.code, 1);
      assert.match(
        many.stderr,
        /^hserver: (descriptor 3 from systemd is not a socket|LISTEN_FDS=99999 is more sockets than this process may have open \(its limit is \d+ descriptors\))\n$/,
      );
      const huge = await runCommand('/bin/sh', script('99999999999', 'userver'));
      assert.equal(huge.code, 1);
      assert.match(
        huge.stderr,
        /^userver: LISTEN_FDS=99999999999 is more sockets than this process may have open \(its limit is \d+ descriptors\)\n$/,
      );
      const notSocket = await runCommand('/bin/sh', script('1'));
      assert.deepEqual(
        [notSocket.code, notSocket.stderr],
        [1, 'hserver: descriptor 3 from systemd is not a socket\n'],
      );
    });
  },
);

describe('deploy/systemd units', needs(TOOLS.socketActivate, TOOLS.systemdAnalyze), () => {
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
