import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fetchHello } from '../../src/index.js';
import { childPids, socketInodes, socketRows } from '../helpers/proc-net.js';
import { binPath, runBin, startServer, testEnv } from '../helpers/process.js';
import { freePort, peerServer, rawConnect, readToEnd } from '../helpers/raw.js';
import { until } from '../helpers/wait.js';

const HELLO_LINE = 'Message from server: Hello World! \n';

describe('hserver + hclient', () => {
  test('the lecture run: hserver on a port, hclient prints the message', async (t) => {
    const server = await startServer('hserver', ['0']);
    t.after(() => server.stop());
    assert.match(server.stderr(), /^hserver: listening on 0\.0\.0\.0:\d+\n$/);
    const result = await runBin('hclient', ['127.0.0.1', String(server.port)]);
    assert.equal(result.stdout.toString('latin1'), HELLO_LINE);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
  });

  test('--count 1 serves one client and exits 0, like the C program', async () => {
    const server = await startServer('hserver', ['--count', '1', '0']);
    const result = await runBin('hclient', ['127.0.0.1', String(server.port)]);
    assert.equal(result.stdout.toString(), HELLO_LINE);
    const exit = await server.exited();
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('IPv6: --host ::1 and a bracketed client address', async (t) => {
    const server = await startServer('hserver', ['--host', '::1', '0']);
    t.after(() => server.stop());
    assert.match(server.stderr(), /listening on \[::1\]:\d+\n$/);
    const plain = await runBin('hclient', ['::1', String(server.port)]);
    const bracketed = await runBin('hclient', ['[::1]', String(server.port)]);
    assert.equal(plain.stdout.toString(), HELLO_LINE);
    assert.equal(bracketed.stdout.toString(), HELLO_LINE);
  });

  test('--host :: serves IPv4 and IPv6 clients', async (t) => {
    const server = await startServer('hserver', ['--host', '::', '0']);
    t.after(() => server.stop());
    for (const host of ['127.0.0.1', '::1', 'localhost']) {
      const result = await runBin('hclient', [host, String(server.port)]);
      assert.equal(result.stdout.toString(), HELLO_LINE, host);
    }
  });

  test('--message and --no-nul change the bytes; the client prints up to EOF', async (t) => {
    const server = await startServer('hserver', ['--message', '안녕하세요, 밥!', '--no-nul', '0']);
    t.after(() => server.stop());
    const result = await runBin('hclient', ['127.0.0.1', String(server.port)]);
    assert.equal(result.stdout.toString('utf8'), 'Message from server: 안녕하세요, 밥! \n');
  });

  test('SIGTERM and SIGINT stop the server with exit 0 and a closed port', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const server = await startServer('hserver', ['0']);
      assert.deepEqual(await server.stop(signal), { code: 0, signal: null });
      const result = await runBin('hclient', ['127.0.0.1', String(server.port)]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^connect\(\) error! /);
    }
  });

  test('SIGINT with an idle client connected says at once what it waits for, how long, and that a second drops it', async (t) => {
    const cases = [
      {
        lang: 'en',
        line: 'hserver: stopping: no new connections; waiting up to 30 s for 1 open connection to finish (Ctrl-C again drops it)\n',
      },
      {
        lang: 'ko',
        line: 'hserver: 종료하는 중: 새 연결은 받지 않고, 열린 연결 1개가 끝나기를 최대 30초 기다립니다 (Ctrl-C를 한 번 더 누르면 바로 끊습니다)\n',
      },
    ];
    for (const { lang, line } of cases) {
      // greet waits for the client to speak: an idle client keeps its connection open.
      const server = await startServer('hserver', [
        '--service',
        'greet',
        '--lang',
        lang,
        '--close-timeout',
        '30',
        '--host',
        '127.0.0.1',
        '0',
      ]);
      t.after(() => server.stop());
      const client = await rawConnect(server.port);
      t.after(() => client.destroy());
      // The server's drop ends the stream (rawConnect's socket stays half open: end it there).
      const ended = new Promise<void>((resolve) => {
        client.once('end', resolve);
        client.once('close', resolve);
      });
      client.on('error', () => {});
      client.resume();
      // Connected: the greeting protocol answers nothing until the client speaks, so wait for the
      // server's own count through SIGUSR1's stats line.
      await until(async () => {
        server.child.kill('SIGUSR1');
        await once(server.child.stderr as NodeJS.EventEmitter, 'data');
        return /"open":1/.test(server.stderr());
      }, 'the server to count the client');
      server.child.kill('SIGINT');
      await until(() => server.stderr().includes(line), `the waiting line in ${lang}`);
      assert.equal(server.child.exitCode, null, 'still waiting for the client (30 s)');
      server.child.kill('SIGINT');
      assert.deepEqual(await server.exited(), { code: 1, signal: null });
      assert.match(server.stderr(), /hserver: stopped at once, clients in flight were dropped\n$/);
      await ended;
      client.destroy();
    }
  });

  test('SIGINT with no client connected says nothing more and exits 0', async () => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
    assert.doesNotMatch(server.stderr(), /stopping/);
  });

  test('a second signal just after the first, while the server exits, still ends in our exit code', async () => {
    // Two signals a few milliseconds apart (as `timeout` sends them to a process group): the
    // second may come while the closed server is exiting, and must not kill it with Node's default.
    for (const [program, args] of [
      ['hserver', ['--host', '127.0.0.1', '0']],
      ['hserver', ['--workers', '2', '--host', '127.0.0.1', '0']],
      ['userver', ['--host', '127.0.0.1', '0']],
    ] as const) {
      for (const gap of [0, 1, 2, 3, 5]) {
        const server = await startServer(program, [...args]);
        server.child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, gap));
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
        assert.deepEqual(
          await server.exited(),
          { code: 0, signal: null },
          `${program} ${args.join(' ')}, gap ${gap} ms; its stderr: ${JSON.stringify(server.stderr())}`,
        );
      }
    }
  });

  test('SIGTERM with 100 clients already queued by the kernel: every one is served, none reset', async () => {
    for (const args of [[], ['--workers', '2']]) {
      const server = await startServer('hserver', [...args, '--host', '127.0.0.1', '0']);
      const pid = server.child.pid as number;
      // The processes that accept: the server itself, or its workers.
      const acceptors = args.length === 0 ? [pid] : childPids(pid);
      for (const p of acceptors) process.kill(p, 'SIGSTOP');
      // The kernel completes each handshake and queues the connection; nobody accepts yet.
      const clients = await Promise.all(Array.from({ length: 100 }, () => rawConnect(server.port)));
      const received = clients.map((socket) =>
        readToEnd(socket).then(
          (b) => b.toString('latin1'),
          (e: Error) => `error: ${e.message}`,
        ),
      );
      server.child.kill('SIGTERM');
      for (const p of acceptors) process.kill(p, 'SIGCONT');
      const replies = await Promise.all(received);
      assert.deepEqual(
        replies.filter((r) => r !== 'Hello World!\0'),
        [],
        `${args.join(' ') || 'one process'}: clients queued at the signal`,
      );
      for (const socket of clients) socket.destroy();
      assert.deepEqual(await server.exited(), { code: 0, signal: null });
    }
  });

  test('SIGTERM while slow clients are reading: every client gets the whole message, exit 0', async () => {
    const message = 'm'.repeat(100_000);
    const server = await startServer('hserver', ['--host', '127.0.0.1', '--message', message, '0']);
    const { connect } = await import('node:net');
    const clients = Array.from({ length: 20 }, () => connect(server.port, '127.0.0.1'));
    await Promise.all(clients.map((c) => once(c, 'connect')));
    // The clients have not read anything yet when the signal arrives.
    server.child.kill('SIGTERM');
    const received = await Promise.all(
      clients.map(async (c) => {
        const chunks: Buffer[] = [];
        c.on('data', (d: Buffer) => chunks.push(d));
        await once(c, 'end');
        c.destroy();
        return Buffer.concat(chunks).length;
      }),
    );
    assert.deepEqual(
      received,
      clients.map(() => message.length + 1),
    );
    assert.deepEqual(await server.exited(), { code: 0, signal: null });
  });

  test('1,000 clients in a row and 200 at once against the process: no message lost, no fd left', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const fds = () => readdirSync(`/proc/${server.child.pid}/fd`).length;
    const before = fds();
    for (let i = 0; i < 1000; i++) {
      assert.equal((await fetchHello({ host: '127.0.0.1', port: server.port })).text, 'Hello World!');
    }
    const replies = await Promise.all(
      Array.from({ length: 200 }, () => fetchHello({ host: '127.0.0.1', port: server.port })),
    );
    assert.equal(replies.filter((r) => r.text === 'Hello World!').length, 200);
    // The server closes each connection right after writing; give its loop a turn to finish.
    let after = fds();
    for (let i = 0; i < 100 && after !== before; i++) {
      await new Promise((r) => setTimeout(r, 10));
      after = fds();
    }
    assert.equal(after, before);
  });

  test('--trace prints the lecture steps on stderr, stdout unchanged (English)', async () => {
    const server = await startServer('hserver', [
      '--trace',
      '--count',
      '1',
      '--backlog',
      '5',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    const client = await runBin('hclient', ['--trace', '127.0.0.1', String(server.port)]);
    await server.exited();
    assert.equal(client.stdout.toString(), HELLO_LINE);
    const clientLines = client.stderr.trimEnd().split('\n');
    assert.deepEqual(
      clientLines.map((l) => l.split(' ').slice(0, 3).join(' ')),
      ['[client] 1 socket():', '[client] 2 connect():', '[client] 3 read():', '[client] 4 close():'],
    );
    assert.match(clientLines[2] ?? '', /13 bytes received/);
    const serverLines = server.stderr().trimEnd().split('\n');
    assert.deepEqual(
      serverLines.map((l) => l.split(' ').slice(0, 3).join(' ')),
      [
        '[server] 1 socket():',
        '[server] 2 bind():',
        '[server] 3 listen():',
        'hserver: listening on',
        '[server] 4a accept():',
        '[server] 4b write():',
        '[server] 4c close():',
        '[server] 5 close():',
      ],
    );
    assert.match(serverLines[2] ?? '', /backlog 5$/);
    assert.match(serverLines[5] ?? '', /13 bytes sent/);
  });

  test('--lang ko and a Korean locale print the lecture words', async () => {
    const server = await startServer('hserver', [
      '--trace',
      '--lang',
      'ko',
      '--count',
      '2',
      '--host',
      '127.0.0.1',
      '0',
    ]);
    const byFlag = await runBin('hclient', ['--trace', '--lang', 'ko', '127.0.0.1', String(server.port)]);
    const byLocale = await runBin('hclient', ['--trace', '127.0.0.1', String(server.port)], {
      env: testEnv({ LANG: 'ko_KR.UTF-8' }),
    });
    await server.exited();
    for (const client of [byFlag, byLocale]) {
      assert.equal(client.stdout.toString(), HELLO_LINE);
      assert.match(client.stderr, /\[클라이언트\] 1 TCP 소켓의 생성 socket\(\)/);
      assert.match(client.stderr, /\[클라이언트\] 2 연결의 요청 connect\(\)/);
      assert.match(client.stderr, /\[클라이언트\] 3 데이터 송수신 read\(\): 13바이트 수신/);
      assert.match(client.stderr, /\[클라이언트\] 4 연결 종료 close\(\)/);
    }
    const log = server.stderr();
    for (const words of [
      '1 TCP 소켓의 생성',
      '2 IP와 PORT번호의 할당',
      '3 연결요청 가능상태로 변경',
      '4a 연결요청에 대한 수락',
      '4b 데이터 송수신',
      '4c 연결종료',
      '5 연결 종료',
    ]) {
      assert.ok(log.includes(`[서버] ${words}`), `missing ${words} in ${log}`);
    }
  });
});

describe('usage and argument errors', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['hserver', [], /^$/],
    ['hserver', ['1', '2'], /^$/],
    ['hclient', [], /^$/],
    ['hclient', ['127.0.0.1'], /^$/],
    ['hclient', ['127.0.0.1', '1', '2'], /^$/],
  ];
  for (const [bin, args] of cases) {
    test(`${bin} ${args.join(' ') || '(no arguments)'}: the seed usage line on stdout, exit 1`, async () => {
      const result = await runBin(bin, args);
      const usage = bin === 'hserver' ? 'Usage : hserver <port>\n' : 'Usage : hclient <IP> <port>\n';
      assert.equal(result.stdout.toString(), usage);
      assert.equal(result.stderr, '');
      assert.equal(result.code, 1);
    });
  }

  for (const port of ['abc', '-1', '65536', '', '1e3', '0x10']) {
    test(`hserver with port '${port}': bind() error, exit 1`, async () => {
      const result = await runBin('hserver', [port]);
      assert.equal(result.stdout.length, 0);
      assert.equal(
        result.stderr,
        `bind() error: invalid port '${port}': expected a number from 0 to 65535\n`,
      );
      assert.equal(result.code, 1);
    });
    test(`hclient with port '${port}': connect() error!, exit 1`, async () => {
      const result = await runBin('hclient', ['127.0.0.1', port]);
      assert.equal(result.stdout.length, 0);
      assert.equal(
        result.stderr,
        `connect() error! invalid port '${port}': expected a number from 1 to 65535\n`,
      );
      assert.equal(result.code, 1);
    });
  }

  test('hclient port 0 is refused before connecting', async () => {
    const result = await runBin('hclient', ['127.0.0.1', '0']);
    assert.match(result.stderr, /^connect\(\) error! invalid port '0'/);
    assert.equal(result.code, 1);
  });

  test('unknown options and bad option values name the option, exit 1', async () => {
    const unknown = await runBin('hserver', ['--bogus', '0']);
    assert.equal(unknown.stderr, "hserver: unknown option '--bogus' (see hserver --help)\n");
    assert.equal(unknown.code, 1);
    const timeout = await runBin('hclient', ['--timeout', 'soon', '127.0.0.1', '1']);
    assert.equal(
      timeout.stderr,
      "hclient: invalid --timeout 'soon': expected a positive number of seconds, from 0.001 to 2147483\n",
    );
    assert.equal(timeout.code, 1);
    const negative = await runBin('hclient', ['--timeout', '-1', '127.0.0.1', '1']);
    assert.match(negative.stderr, /invalid --timeout '-1'/);
    const backlog = await runBin('hserver', ['--backlog', '0', '0']);
    assert.match(backlog.stderr, /^hserver: invalid --backlog '0'/);
    const lang = await runBin('hserver', ['--lang', 'fr', '0']);
    assert.equal(lang.stderr, "hserver: invalid --lang 'fr': expected en or ko\n");
    const missing = await runBin('hserver', ['0', '--host']);
    assert.match(missing.stderr, /^hserver: .*--host/);
    for (const r of [unknown, timeout, negative, backlog, lang, missing]) {
      assert.equal(r.code, 1);
      assert.equal(r.stdout.length, 0);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  test('--help and --version print on stdout and exit 0', async () => {
    for (const bin of ['hserver', 'hclient']) {
      const help = await runBin(bin, ['--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout.toString(), /^Usage : /);
      const version = await runBin(bin, ['--version']);
      assert.equal(version.code, 0);
      assert.match(version.stdout.toString(), new RegExp(`^${bin} \\d+\\.\\d+\\.\\d+\\n$`));
    }
  });
});

describe('long messages', () => {
  test('output larger than the pipe and socket buffers is printed whole, even to a slow reader', async (t) => {
    // 4,000 echoed lines of 100 bytes: about 480 KB of output, more than any buffer between us.
    const server = await startServer('hserver', ['--service', 'echo', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const line = `${'z'.repeat(99)}\n`;
    const child = spawn(binPath('hclient'), ['--service', 'echo', '127.0.0.1', String(server.port)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: testEnv(),
    });
    child.stdin.end(line.repeat(4000));
    // A slow reader: nothing is read for a while, so most of the output waits in the program.
    child.stdout.pause();
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    const closed = once(child, 'close');
    // Not read until the client has done its work and would exit.
    const exited = once(child, 'exit');
    const done = await Promise.race([
      exited.then(() => 'exited'),
      new Promise((r) => setTimeout(() => r('waiting'), 2000)),
    ]);
    child.stdout.resume();
    const [code] = (await closed) as [number | null];
    assert.equal(code, 0);
    assert.equal(done, 'waiting', 'the client waits for its output to be read before it exits');
    assert.equal(Buffer.concat(chunks).length, 4000 * ('Message from server: '.length + line.length));
  });

  test('a message cut at --max-bytes is printed as far as it came, and stderr says it was cut', async (t) => {
    const server = await startServer('hserver', [
      '--host',
      '127.0.0.1',
      '--message',
      'y'.repeat(70_000),
      '0',
    ]);
    t.after(() => server.stop());
    const result = await runBin('hclient', ['127.0.0.1', String(server.port)]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.toString(), `Message from server: ${'y'.repeat(65_536)} \n`);
    assert.equal(
      result.stderr,
      'hclient: the message was cut at --max-bytes (65536 bytes): no NUL and no end of stream by then\n',
    );
  });

  test('the echo client against a server that is not an echo server says so, exit 1', async (t) => {
    const server = await startServer('hserver', ['--service', 'greet', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const result = await runBin('hclient', ['--service', 'echo', '127.0.0.1', String(server.port)], {
      input: 'hello\n',
    });
    assert.equal(result.stdout.length, 0);
    assert.match(
      result.stderr,
      /^read\(\) error! 127\.0\.0\.1:\d+ is not an echo server: it answered "ERROR " to "hello\\n"\n$/,
    );
    assert.equal(result.code, 1);
  });
});

describe('durations, repeated options and SIGHUP', () => {
  test('a duration is quoted as typed, with its bounds, whatever makes it wrong', async () => {
    for (const text of ['0.0001', '0', '1e3', '2147484', 'soon']) {
      const result = await runBin('hserver', ['--close-timeout', text, '0']);
      assert.equal(
        result.stderr,
        `hserver: invalid --close-timeout '${text}': expected a positive number of seconds, from 0.001 to 2147483\n`,
      );
      assert.equal(result.code, 1);
    }
    const help = await runBin('hserver', ['--help']);
    assert.match(help.stdout.toString(), /SECS is a number of seconds from 0\.001 to 2147483/);
  });

  test('an option with one value given twice is refused, the same way in every program', async () => {
    for (const [program, args] of [
      ['hserver', ['--host', '127.0.0.1', '--host', '::1', '0']],
      ['hclient', ['--timeout', '1', '--timeout', '2', '127.0.0.1', '9']],
      ['userver', ['--rate', '5', '--rate', '6', '0']],
      ['uclient', ['--retries', '1', '--retries=2', '127.0.0.1', '9']],
      ['hbench', ['-c', '1', '--concurrency', '2', '127.0.0.1', '9']],
    ] as const) {
      const result = await runBin(program, [...args]);
      assert.match(
        result.stderr,
        new RegExp(`^${program}: --\\w+ given more than once \\('[^']*', '[^']*'\\): give it once\\n$`),
      );
      assert.equal(result.code, 1, program);
    }
    // A flag given twice asks for the same thing twice: accepted.
    const flags = await runBin('hclient', ['--trace', '--trace', '--help']);
    assert.equal(flags.code, 0);
  });

  test('SIGHUP: a server closes gracefully and exits 0; a waiting client exits 129', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    assert.deepEqual(await server.stop('SIGHUP'), { code: 0, signal: null });
    let connected!: () => void;
    const arrived = new Promise<void>((resolve) => {
      connected = resolve;
    });
    const port = await peerServer(t, () => connected()); // accepts, never writes
    const client = spawn(binPath('hclient'), ['--timeout', '30', '127.0.0.1', String(port)], {
      stdio: 'ignore',
    });
    const exited = once(client, 'exit');
    // Once the peer has the connection, the client is waiting in read().
    await arrived;
    client.kill('SIGHUP');
    const [code, signal] = (await exited) as [number | null, string | null];
    assert.deepEqual({ code, signal }, { code: 129, signal: null });
  });
});

describe('socket errors', () => {
  test('a port already in use: bind() error with the reason, exit 1', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const second = await runBin('hserver', ['--host', '127.0.0.1', String(server.port)]);
    assert.equal(
      second.stderr,
      `bind() error: 127.0.0.1:${server.port}: address already in use (EADDRINUSE)\n`,
    );
    assert.equal(second.code, 1);
    assert.equal(second.stdout.length, 0);
  });

  test('an address not on this machine: bind() error, exit 1', async () => {
    const result = await runBin('hserver', ['--host', '192.0.2.1', '0']);
    assert.match(
      result.stderr,
      /^bind\(\) error: 192\.0\.2\.1:0: address not available on this machine \(EADDRNOTAVAIL\)\n$/,
    );
    assert.equal(result.code, 1);
  });

  test('a refused connection: connect() error!, exit 1', async () => {
    const port = await freePort();
    const result = await runBin('hclient', ['127.0.0.1', String(port)]);
    assert.equal(result.stderr, `connect() error! 127.0.0.1:${port}: connection refused (ECONNREFUSED)\n`);
    assert.equal(result.code, 1);
    assert.equal(result.stdout.length, 0);
  });

  test('an unknown host name: connect() error!, exit 1', async () => {
    const result = await runBin('hclient', ['no-such-host.invalid', '9190']);
    assert.match(result.stderr, /^connect\(\) error! cannot resolve 'no-such-host\.invalid'/);
    assert.equal(result.code, 1);
  });

  test('a peer that closes without sending: read() error!, exit 1', async (t) => {
    const port = await peerServer(t, (s) => s.end());
    const result = await runBin('hclient', ['127.0.0.1', String(port)]);
    assert.equal(
      result.stderr,
      `read() error! 127.0.0.1:${port} closed the connection without sending anything\n`,
    );
    assert.equal(result.code, 1);
    assert.equal(result.stdout.length, 0);
  });

  test('a peer that accepts and never writes: read() error! after --timeout, exit 1', async (t) => {
    const port = await peerServer(t, () => {});
    const started = performance.now();
    const result = await runBin('hclient', ['--timeout', '0.3', '127.0.0.1', String(port)]);
    assert.equal(
      result.stderr,
      `read() error! 127.0.0.1:${port} sent nothing within 300 ms\nhclient: a greet or echo server waits for the client to speak first: try --service greet or --service echo (a TLS server: --tls)\n`,
    );
    assert.equal(result.code, 1);
    assert.ok(performance.now() - started < 5000);
  });

  test('against a greet or echo server, "sent nothing" hints at --service (English and Korean)', async (t) => {
    for (const service of ['greet', 'echo']) {
      const server = await startServer('hserver', ['--host', '127.0.0.1', '--service', service, '0']);
      t.after(() => server.stop());
      const en = await runBin('hclient', ['--timeout', '0.3', '127.0.0.1', String(server.port)]);
      assert.equal(en.code, 1);
      assert.equal(en.stdout.length, 0);
      assert.match(
        en.stderr,
        /sent nothing within 300 ms\nhclient: a greet or echo server waits for the client to speak first: try --service greet or --service echo \(a TLS server: --tls\)\n$/,
      );
      const ko = await runBin('hclient', [
        '--lang',
        'ko',
        '--timeout',
        '0.3',
        '127.0.0.1',
        String(server.port),
      ]);
      assert.match(
        ko.stderr,
        /\nhclient: greet나 echo 서버는 클라이언트가 먼저 말하기를 기다립니다: --service greet 또는 --service echo를 쓰십시오 \(TLS 서버라면 --tls\)\n$/,
      );
      assert.equal((await server.stop()).code, 0);
    }
  });

  test('a peer that sends 13 bytes without a NUL and stays open: the bytes are printed, then the error', async (t) => {
    const port = await peerServer(t, (s) => s.write('Hello World!\n'));
    const result = await runBin('hclient', ['--timeout', '0.3', '127.0.0.1', String(port)]);
    assert.equal(result.stdout.toString(), 'Message from server: Hello World!\n \n');
    assert.equal(
      result.stderr,
      `read() error! 127.0.0.1:${port} stopped sending for 300 ms after 13 bytes\n`,
    );
    assert.equal(result.code, 1);
  });

  test('a peer that resets: read() error! with the reason, exit 1', async (t) => {
    const port = await peerServer(t, (s) => s.resetAndDestroy());
    const result = await runBin('hclient', ['127.0.0.1', String(port)]);
    // The reset can beat the client's connect() completion: either call may report it.
    assert.match(result.stderr, /^(read|connect)\(\) error! .*connection reset by peer \(ECONNRESET\)\n$/);
    assert.equal(result.code, 1);
  });

  test('SIGINT while the client waits: exit 130, nothing printed', async (t) => {
    let connected!: () => void;
    const arrived = new Promise<void>((resolve) => {
      connected = resolve;
    });
    const port = await peerServer(t, () => connected());
    const { spawn } = await import('node:child_process');
    const { binPath } = await import('../helpers/process.js');
    const child = spawn(binPath('hclient'), ['--timeout', '30', '127.0.0.1', String(port)], {
      env: testEnv(),
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    // Once the server has the connection, the client is waiting in read().
    await arrived;
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    assert.equal(code, 130);
    assert.equal(out, '');
  });
});

describe('SIGUSR1', () => {
  test('opens no debugger: the server keeps its one listening socket, prints its stats and serves on', async (t) => {
    for (const [program, args] of [
      ['hserver', ['--host', '127.0.0.1', '0']],
      ['hserver', ['--workers', '2', '--host', '127.0.0.1', '0']],
      ['userver', ['--host', '127.0.0.1', '0']],
    ] as const) {
      const server = await startServer(program, [...args]);
      t.after(() => server.stop('SIGKILL'));
      const pid = server.child.pid as number;
      if (program === 'hserver')
        for (let i = 0; i < 3; i++) await fetchHello({ host: '127.0.0.1', port: server.port });
      server.child.kill('SIGUSR1');
      const statsLine = new RegExp(`^${program}: stats (\\{.*\\})$`, 'm');
      await new Promise<void>((resolve) => {
        const check = () => statsLine.test(server.stderr()) && resolve();
        server.child.stderr?.on('data', check);
        check();
      });
      const stats = JSON.parse(statsLine.exec(server.stderr())?.[1] ?? '{}') as {
        accepted: number;
        transport: string;
      };
      assert.equal(stats.transport, program === 'hserver' ? 'tcp' : 'udp');
      if (program === 'hserver') assert.equal(stats.accepted, 3);
      // Node's debugger would listen on a TCP port of its own (127.0.0.1:9229).
      assert.equal(
        socketRows('tcp').filter(
          (r) => r.state === '0A' && r.localPort !== server.port && socketInodes(pid).has(r.inode),
        ).length,
        0,
        `${program} ${args.join(' ')}: no listening socket but the server's own`,
      );
      assert.doesNotMatch(server.stderr(), /Debugger listening/);
      if (program === 'hserver') {
        assert.equal((await fetchHello({ host: '127.0.0.1', port: server.port })).text, 'Hello World!');
      }
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    }
  });
});
