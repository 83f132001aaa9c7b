/**
 * hserver and hclient with `--unix`: the lines they print, their exit codes, the socket file's
 * mode and removal, and the refusals (a port too, options that need a port, the UDP programs).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { binPath, runBin, startServer, testEnv } from '../helpers/process.js';
import { needs, socat, socketActivator, TOOLS } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const READY = /listening on (.+)\n/;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'steps-unix-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('hserver --unix and hclient --unix', { timeout: 60_000 }, () => {
  test('serve, fetch, stop on SIGTERM: the file has its mode while it runs and is gone after', async (t) => {
    const path = join(tempDir(t), 'h.sock');
    const server = await startServer('hserver', ['--unix', path, '--unix-mode', '660', '--message', '안녕'], {
      readyPattern: READY,
    });
    t.after(() => server.stop());
    assert.equal(server.stderr(), `hserver: listening on ${path}\n`);
    assert.equal(statSync(path).mode & 0o777, 0o660);
    const client = await runBin('hclient', ['--unix', path]);
    assert.deepEqual(
      [client.code, client.stderr, client.stdout.toString('utf8')],
      [0, '', 'Message from server: 안녕 \n'],
    );
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    assert.equal(existsSync(path), false);
  });

  test('a second server on the same path: bind() error! ... EADDRINUSE, exit 1', async (t) => {
    const path = join(tempDir(t), 'busy.sock');
    const first = await startServer('hserver', ['--unix', path], { readyPattern: READY });
    t.after(() => first.stop());
    const second = await runBin('hserver', ['--unix', path]);
    assert.equal(second.code, 1);
    assert.equal(
      second.stderr,
      `bind() error: ${path}: address already in use (EADDRINUSE): a server accepts connections on it\n`,
    );
    assert.ok(statSync(path).isSocket(), "the live server's file is still there");
  });

  test('a regular file at the path is refused and kept', async (t) => {
    const path = join(tempDir(t), 'file');
    writeFileSync(path, 'data');
    const result = await runBin('hserver', ['--unix', path]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `bind() error: ${path}: the path exists and is not a socket (left as it is)\n`,
    );
    assert.equal(statSync(path).size, 4);
  });

  test('the trace names the path, in English and in Korean', async (t) => {
    const path = join(tempDir(t), 't.sock');
    for (const [lang, bind, accept] of [
      [
        'en',
        `[server] 2 bind(): path ${path} assigned (Unix domain socket)`,
        `[server] 4a accept(): #1 connection from a client of ${path} (Unix domain socket)`,
      ],
      [
        'ko',
        `[서버] 2 경로의 할당 bind(): ${path} (유닉스 도메인 소켓)`,
        `[서버] 4a 연결요청에 대한 수락 accept(): #1 ${path}의 클라이언트 (유닉스 도메인 소켓)`,
      ],
    ] as const) {
      const server = await startServer(
        'hserver',
        ['--unix', path, '--count', '1', '--trace', '--lang', lang],
        {
          readyPattern: READY,
        },
      );
      t.after(() => server.stop());
      const client = await runBin('hclient', ['--unix', path, '--trace', '--lang', lang]);
      assert.equal(client.code, 0);
      assert.ok(
        client.stderr.includes(
          lang === 'en'
            ? `[client] 2 connect(): connected to ${path} (Unix domain socket)\n`
            : `[클라이언트] 2 연결의 요청 connect(): ${path}에 연결됨 (유닉스 도메인 소켓)\n`,
        ),
        client.stderr,
      );
      assert.deepEqual(await server.exited(), { code: 0, signal: null });
      const lines = server.stderr().split('\n');
      assert.ok(lines.includes(bind), server.stderr());
      assert.ok(lines.includes(accept), server.stderr());
    }
  });

  test('usage errors: each one line, exit 1', async (t) => {
    const dir = tempDir(t);
    const long = `${dir}/${'x'.repeat(120)}`;
    const cases: Array<[string, string[], string]> = [
      [
        'hserver',
        ['--unix', join(dir, 'a'), '9190'],
        "hserver: --unix PATH takes no <port> ('9190' given): give one or the other",
      ],
      [
        'hserver',
        ['--unix', join(dir, 'a'), '--host', '::1'],
        'hserver: --host does not apply to --unix (a Unix socket has no address or port)',
      ],
      [
        'hserver',
        ['--unix', join(dir, 'a'), '--workers', '2'],
        'hserver: --workers does not apply to --unix (SO_REUSEPORT shares ports, not Unix socket paths: one process serves a Unix socket)',
      ],
      [
        'hserver',
        ['--unix', join(dir, 'a'), '--unix-mode', '9'],
        "hserver: invalid --unix-mode '9': expected an octal mode such as 660, 600 or 0666",
      ],
      [
        'hserver',
        ['--unix', '@x', '--unix-mode', '600'],
        'hserver: --unix-mode does not apply to an abstract name (@x has no file)',
      ],
      ['hserver', ['--unix-mode', '600', '0'], 'hserver: --unix-mode needs --unix PATH'],
      [
        'hserver',
        ['--unix', long],
        `bind() error: invalid Unix socket path '${long}': it is ${Buffer.byteLength(long)} bytes long, and the kernel's limit is 107 (sun_path holds 108 bytes with the terminating NUL)`,
      ],
      [
        'hclient',
        ['--unix', join(dir, 'a'), '127.0.0.1', '1'],
        "hclient: --unix PATH takes no <IP> <port> ('127.0.0.1 1' given): give one or the other",
      ],
      [
        'hclient',
        ['--unix', join(dir, 'none')],
        `connect() error! ${join(dir, 'none')}: no such file or directory (ENOENT)`,
      ],
      [
        'userver',
        ['--unix', join(dir, 'a')],
        'userver: --unix is not available: Node.js has no Unix datagram sockets (AF_UNIX, SOCK_DGRAM); hserver --unix serves a Unix stream socket',
      ],
      [
        'uclient',
        ['--unix', join(dir, 'a')],
        'uclient: --unix is not available: Node.js has no Unix datagram sockets (AF_UNIX, SOCK_DGRAM); hclient --unix connects to a Unix stream socket',
      ],
    ];
    for (const [program, args, line] of cases) {
      const result = await runBin(program, args, { env: testEnv() });
      assert.deepEqual(
        [result.code, result.stderr, result.stdout.toString()],
        [1, `${line}\n`, ''],
        `${program} ${args.join(' ')}`,
      );
    }
  });

  test(
    'systemd ListenStream=/path: hserver serves the Unix socket it was passed, and leaves its file',
    needs(TOOLS.socketActivate),
    async (t) => {
      const path = join(tempDir(t), 'activated.sock');
      const child = spawn(socketActivator(), ['-l', path, binPath('hserver'), '--count', '1', '--trace'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: testEnv(),
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      const exit = once(child, 'exit');
      t.after(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exit;
      });
      await until(() => stderr.includes('Listening on '), 'systemd-socket-activate to listen');
      // The first client is what makes systemd-socket-activate start the server.
      const client = await runBin('hclient', ['--unix', path]);
      assert.deepEqual([client.code, client.stdout.toString()], [0, 'Message from server: Hello World! \n']);
      await exit;
      assert.equal(child.exitCode, 0, stderr);
      assert.match(
        stderr,
        new RegExp(`hserver: listening on ${path} \\(socket from systemd, descriptor 3\\)\n`),
      );
      assert.match(
        stderr,
        new RegExp(
          `\\[server\\] 2 bind\\(\\): path ${path} assigned \\(Unix domain socket\\) \\[done by another process: inherited as descriptor 3\\]`,
        ),
      );
      assert.ok(statSync(path).isSocket(), "systemd's socket file is systemd's to remove");
    },
  );

  test('hbench --unix loads hserver --unix (one loop and two), every payload checked', async (t) => {
    const name = `@socket-steps-hbench-${process.pid}`;
    const server = await startServer('hserver', ['--unix', name, '--message', 'bench me'], {
      readyPattern: READY,
    });
    t.after(() => server.stop());
    for (const threads of ['1', '2']) {
      const result = await runBin('hbench', [
        '--unix',
        name,
        '-n',
        '200',
        '-c',
        '8',
        '-j',
        threads,
        '--message',
        'bench me',
        '--json',
      ]);
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout.toString()) as {
        target: string;
        ok: number;
        failed: number;
        threads: number;
      };
      assert.deepEqual([json.target, json.ok, json.failed, json.threads], [name, 200, 0, Number(threads)]);
    }
    // The wrong message: every exchange fails as bad-payload, exit 1.
    const wrong = await runBin('hbench', ['--unix', name, '-n', '20', '--message', 'bench us', '--json']);
    assert.equal(wrong.code, 1);
    assert.deepEqual((JSON.parse(wrong.stdout.toString()) as { errors: object }).errors, {
      'bad-payload': 20,
    });
    const none = await runBin('hbench', ['--unix', `${name}-none`, '-n', '5', '--json']);
    assert.deepEqual((JSON.parse(none.stdout.toString()) as { errors: object }).errors, { refused: 5 });
  });

  test(
    "--view: /state shows the socket's path and the peer's pid and uid, and no TCP states",
    needs(TOOLS.socat),
    async (t) => {
      const path = join(tempDir(t), 'viewed.sock');
      const server = await startServer('hserver', ['--service', 'echo', '--unix', path, '--view', '0'], {
        readyPattern: READY,
      });
      t.after(() => server.stop());
      const view = /view on (http:\/\/\S+?)\/?\n/.exec(server.stderr())?.[1];
      assert.ok(view !== undefined, server.stderr());
      // A client that stays connected (its stdin stays open) until the test ends it.
      const peer = spawn(socat(), ['-', `UNIX-CONNECT:${path}`], { stdio: ['pipe', 'ignore', 'ignore'] });
      const peerExit = once(peer, 'exit');
      t.after(async () => {
        peer.stdin.end();
        await peerExit;
      });
      type State = {
        listen?: { address: string };
        listeners: Array<{ path?: string }>;
        connections: Array<{ unix?: { path: string; peer: unknown }; kernel: unknown }>;
      };
      let state: State | undefined;
      await until(async () => {
        state = (await (await fetch(`${view}/state`)).json()) as State;
        const peerOf = state.connections[0]?.unix?.peer;
        return typeof peerOf === 'object' && peerOf !== null;
      }, "the peer's process in /state");
      assert.equal(state?.listen?.address, path);
      assert.equal(state?.listeners[0]?.path, path);
      const connection = state?.connections[0];
      assert.deepEqual(connection?.unix?.path, path);
      assert.deepEqual(connection?.unix?.peer, { pid: peer.pid, uid: process.getuid?.(), command: 'socat' });
      assert.deepEqual(connection?.kernel, { server: 'unknown', client: 'unknown' });
    },
  );

  test('TLS over a Unix socket: hclient and hbench verify the certificate for localhost', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'tls.sock');
    const ca = join(dir, 'ca.pem');
    const server = await startServer('hserver', ['--unix', path, '--tls', '--cert-out', ca], {
      readyPattern: READY,
    });
    t.after(() => server.stop());
    const client = await runBin('hclient', ['--unix', path, '--tls', '--ca', ca, '--trace']);
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout.toString('utf8'), 'Message from server: Hello World! \n');
    assert.match(client.stderr, /\[client\] 2 connect\(\): connected to .+ \(Unix domain socket\)\n/);
    assert.match(client.stderr, /TLS handshake: TLSv1\.3, .+ SNI localhost; certificate verified: localhost/);
    // A name the certificate does not have fails the verification, in one line.
    const wrongName = await runBin('hclient', [
      '--unix',
      path,
      '--tls',
      '--ca',
      ca,
      '--servername',
      'example.test',
    ]);
    assert.equal(wrongName.code, 1);
    assert.equal(wrongName.stderr.trim().split('\n').length, 1, wrongName.stderr);
    assert.match(wrongName.stderr, /TLS handshake with .+tls\.sock failed: .*example\.test/);
    const bench = await runBin('hbench', [
      '--unix',
      path,
      '--tls',
      '--ca',
      ca,
      '-n',
      '40',
      '-c',
      '4',
      '--json',
    ]);
    assert.equal(bench.code, 0, bench.stderr);
    const json = JSON.parse(bench.stdout.toString()) as { ok: number; tls: { handshakes: number } };
    assert.deepEqual([json.ok, json.tls.handshakes], [40, 40]);
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    assert.equal(existsSync(path), false);
  });

  test("--metrics: the info metric's listener label is the socket's path", async (t) => {
    const name = `@socket-steps-metrics-${process.pid}`;
    const server = await startServer('hserver', ['--unix', name, '--metrics', '0'], { readyPattern: READY });
    t.after(() => server.stop());
    const url = /metrics on (http:\/\/\S+)\n/.exec(server.stderr())?.[1];
    assert.ok(url !== undefined, server.stderr());
    assert.equal((await runBin('hclient', ['--unix', name])).code, 0);
    const text = await (await fetch(url)).text();
    assert.match(
      text,
      new RegExp(`^socket_steps_info\\{[^}]*transport="tcp",service="hello",listener="${name}"\\} 1$`, 'm'),
    );
    assert.match(text, /^socket_steps_connections_accepted_total 1$/m);
  });

  test('the classic services on a Unix socket, with hclient --unix as their client', async (t) => {
    const cases: Array<[string, string[], RegExp]> = [
      ['daytime', [], /^Daytime from server: \d{2} [A-Z]{3} \d{4} \d{2}:\d{2}:\d{2} UTC /],
      ['time', [], /^Time from server: \d{4}-\d{2}-\d{2}T/],
      ['qotd', [], /^Quote from server: /],
      ['chargen', ['--bytes', '148'], /\n148 bytes read, every one as the pattern \(rfc864\) has it\n$/],
      ['discard', [], /^Sent 11 bytes to the discard server\n$/],
    ];
    for (const [service, args, shown] of cases) {
      const name = `@socket-steps-${service}-${process.pid}`;
      const server = await startServer('hserver', ['--service', service, '--unix', name, '--count', '1'], {
        readyPattern: READY,
      });
      t.after(() => server.stop());
      const client = await runBin('hclient', ['--service', service, '--unix', name, ...args], {
        input: 'some bytes\n',
      });
      assert.equal(client.code, 0, `${service}: ${client.stderr}`);
      assert.match(client.stdout.toString(), shown, service);
      assert.deepEqual(await server.exited(), { code: 0, signal: null });
    }
  });
});
