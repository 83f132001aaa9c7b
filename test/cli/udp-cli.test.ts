import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, type TestContext, test } from 'node:test';
import { binPath, runBin, type StartedServer, startServer, testEnv } from '../helpers/process.js';
import { openPeer, type TestPeer } from '../helpers/udp.js';

const HOST = '127.0.0.1';

async function server(t: TestContext, args: readonly string[]): Promise<StartedServer> {
  const started = await startServer('userver', args);
  t.after(() => started.stop('SIGKILL'));
  return started;
}

async function peer(t: TestContext, host: '127.0.0.1' | '::1' = HOST): Promise<TestPeer> {
  const p = await openPeer(host);
  t.after(() => p.close());
  return p;
}

/** Waits, bounded, until `count` lines of the server's stderr match `pattern`. */
async function stderrLines(
  s: StartedServer,
  pattern: RegExp,
  count: number,
  timeoutMs = 5_000,
): Promise<string[]> {
  const matching = () =>
    s
      .stderr()
      .split('\n')
      .filter((line) => pattern.test(line));
  const deadline = AbortSignal.timeout(timeoutMs);
  while (matching().length < count) {
    // Each stderr chunk is an event; no fixed sleep.
    await once(s.child.stderr as NodeJS.EventEmitter, 'data', { signal: deadline });
  }
  return matching();
}

function expectFailure(
  result: { code: number | null; stdout: Buffer; stderr: string },
  stderr: string | RegExp,
  stdout = '',
) {
  assert.equal(result.code, 1, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout.toString(), stdout);
  if (typeof stderr === 'string') assert.equal(result.stderr, stderr);
  else assert.match(result.stderr, stderr);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

describe('userver errors', () => {
  test('wrong number of arguments: the usage line on stdout, exit 1', async () => {
    for (const args of [[], ['1', '2']]) {
      expectFailure(await runBin('userver', args), '', 'Usage : userver <port>\n');
    }
  });

  test('a bad port is a bind() error', async () => {
    expectFailure(
      await runBin('userver', ['99999']),
      "bind() error: invalid port '99999': expected a number from 0 to 65535\n",
    );
  });

  test('a port in use is a bind() error with the reason', async (t) => {
    const taken = await peer(t);
    expectFailure(
      await runBin('userver', ['--host', HOST, String(taken.port)]),
      `bind() error: ${HOST}:${taken.port}: address already in use (EADDRINUSE)\n`,
    );
  });

  test('an address not on this machine is a bind() error', async () => {
    expectFailure(
      await runBin('userver', ['--host', '192.0.2.1', '0']),
      /^bind\(\) error: 192\.0\.2\.1:0: .*\n$/,
    );
  });

  test('bad options name the option and the value', async () => {
    const cases: [string[], string][] = [
      [
        ['--service', 'ftp', '0'],
        "userver: invalid --service 'ftp': expected hello, echo, discard, chargen, daytime, time, qotd\n",
      ],
      [
        ['--service', 'greet', '0'],
        "userver: invalid --service 'greet': expected hello, echo, discard, chargen, daytime, time, qotd\n",
      ],
      [['--rate', '0', '0'], "userver: invalid --rate '0': expected a number above 0, at most 1000000\n"],
      [['--burst', 'x', '0'], "userver: invalid --burst 'x': expected a whole number from 1 to 1000000\n"],
      [
        ['--count', '-1', '0'],
        "userver: invalid --count '-1': expected a whole number from 1 to 2147483647\n",
      ],
      [
        ['--no-rate-limit', '--rate', '5', '0'],
        'userver: --no-rate-limit cannot go with --rate or --burst\n',
      ],
      [
        ['--service', 'echo', '--message', 'x', '0'],
        'userver: --message applies to --service hello or qotd, not echo\n',
      ],
      [['--bogus', '0'], "userver: unknown option '--bogus' (see userver --help)\n"],
    ];
    for (const [args, stderr] of cases) expectFailure(await runBin('userver', args), stderr);
  });
});

describe('uclient errors', () => {
  test('wrong number of arguments: the usage line on stdout, exit 1', async () => {
    for (const args of [[], [HOST], [HOST, '1', '2']]) {
      expectFailure(await runBin('uclient', args), '', 'Usage : uclient <IP> <port>\n');
    }
  });

  test('a bad port or address is a sendto() error', async () => {
    expectFailure(
      await runBin('uclient', [HOST, '0']),
      "sendto() error: invalid port '0': expected a number from 1 to 65535\n",
    );
    expectFailure(
      await runBin('uclient', ['no such host', '7']),
      /^sendto\(\) error: invalid host 'no such host'/,
    );
  });

  test('ICMP port unreachable ends it at once with a recvfrom() error', async (t) => {
    const gone = await openPeer(HOST);
    const port = gone.port;
    await gone.close();
    const started = performance.now();
    const result = await runBin('uclient', ['--timeout', '10', '--retries', '5', HOST, String(port)]);
    expectFailure(
      result,
      `recvfrom() error: ${HOST}:${port}: port unreachable, nothing is listening there (ICMP port unreachable, ECONNREFUSED)\n`,
    );
    assert.ok(performance.now() - started < 8_000, 'did not wait for a 10 s timeout');
    t.diagnostic(`took ${Math.round(performance.now() - started)} ms`);
  });

  test('no reply: it retries, then fails with a recvfrom() error', async (t) => {
    const silent = await peer(t);
    const result = await runBin('uclient', ['--timeout', '0.1', '--retries', '1', HOST, String(silent.port)]);
    expectFailure(
      result,
      `uclient: no reply within 100 ms; sending again (attempt 2 of 2)\nrecvfrom() error: ${HOST}:${silent.port}: no reply after 2 attempts of 100 ms each\n`,
    );
    assert.equal((await silent.receive()).message.length, 0);
    assert.equal((await silent.receive()).message.length, 0);
  });

  test('each retry is said on stderr as it goes out, in English and in Korean', async (t) => {
    const silent = await peer(t);
    for (const [lang, first] of [
      ['en', 'uclient: no reply within 400 ms; sending again (attempt 2 of 3)\n'],
      ['ko', 'uclient: 400 ms 안에 응답이 없어 다시 보냄 (3번 중 2번째 시도)\n'],
    ] as const) {
      const child = spawn(
        binPath('uclient'),
        ['--lang', lang, '--timeout', '0.4', '--retries', '2', HOST, String(silent.port)],
        { stdio: ['ignore', 'pipe', 'pipe'], env: testEnv() },
      );
      t.after(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      const exited = once(child, 'exit');
      let err = '';
      child.stderr.setEncoding('utf8');
      const deadline = AbortSignal.timeout(5_000);
      while (!err.includes('\n')) err += (await once(child.stderr, 'data', { signal: deadline }))[0];
      // The first retry is said while the client still waits (two more attempts of 400 ms to go).
      assert.equal(err, first);
      assert.equal(child.exitCode, null, 'uclient still running when it said its first retry');
      for await (const chunk of child.stderr) err += chunk;
      const [code] = await exited;
      assert.equal(code, 1);
      assert.equal(err.split('\n').length, 4, err);
      assert.match(err, /attempt 3 of 3|3번 중 3번째/);
      for (let i = 0; i < 3; i++) assert.equal((await silent.receive()).message.length, 0);
    }
  });

  test('a message too large for a datagram is refused before anything is sent', async (t) => {
    const target = await peer(t);
    const big = 'a'.repeat(65_508);
    expectFailure(
      await runBin('uclient', ['--service', 'echo', '--message', big, HOST, String(target.port)]),
      'sendto() error: message of 65508 bytes is larger than one UDP datagram can carry over IPv4 (65507 bytes at most)\n',
    );
    expectFailure(
      await runBin('uclient', ['--service', 'echo', HOST, String(target.port)], { input: `${big}\n` }),
      'sendto() error: a line of more than 65507 bytes is larger than one UDP datagram can carry (65507 bytes at most)\n',
    );
    // Nothing reached the peer: the first datagram it gets is this marker.
    const marker = await peer(t);
    await marker.send(Buffer.from('marker'), target.port, HOST);
    assert.equal((await target.receive()).message.toString(), 'marker');
  });

  test('bad options name the option and the value', async () => {
    const cases: [string[], string][] = [
      [
        ['--service', 'ftp', HOST, '7'],
        "uclient: invalid --service 'ftp': expected hello, echo, discard, chargen, daytime, time, qotd\n",
      ],
      [
        ['--timeout', '0', HOST, '7'],
        "uclient: invalid --timeout '0': expected a positive number of seconds, from 0.001 to 2147483\n",
      ],
      [
        ['--retries', 'x', HOST, '7'],
        "uclient: invalid --retries 'x': expected a whole number from 0 to 1000\n",
      ],
      [['--lang', 'fr', HOST, '7'], "uclient: invalid --lang 'fr': expected en or ko\n"],
    ];
    for (const [args, stderr] of cases) expectFailure(await runBin('uclient', args), stderr);
  });
});

describe('userver and uclient together', () => {
  test('hello over IPv4: the line hclient prints, byte for byte; --count 1 then exit 0', async (t) => {
    const s = await server(t, ['--host', HOST, '--count', '1', '0']);
    assert.match(s.stderr(), new RegExp(`^userver: listening on ${HOST}:${s.port}\\n$`));
    const result = await runBin('uclient', [HOST, String(s.port)]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString('latin1'), 'Message from server: Hello World! \n');
    assert.equal(result.stderr, '');
    assert.deepEqual(await s.exited(), { code: 0, signal: null });
  });

  test('echo over IPv6 with piped input: reply lines, no prompts; q quits', async (t) => {
    const s = await server(t, ['--service', 'echo', '--host', '::1', '--count', '3', '0']);
    assert.match(s.stderr(), /listening on \[::1\]:\d+\n/);
    const result = await runBin('uclient', ['--service', 'echo', '::1', String(s.port)], {
      input: 'hello\n\n안녕 world\nq\nnot sent\n',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout.toString('utf8'),
      'Message from server: hello\nMessage from server: \nMessage from server: 안녕 world\n',
    );
    assert.deepEqual(await s.exited(), { code: 0, signal: null });
  });

  test('echo: end of input quits too, the last line without a newline is sent', async (t) => {
    const s = await server(t, ['--service', 'echo', '--host', HOST, '0']);
    const result = await runBin('uclient', ['--service', 'echo', HOST, String(s.port)], {
      input: 'a\nQ-not-quit\nlast',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout.toString(),
      'Message from server: a\nMessage from server: Q-not-quit\nMessage from server: last\n',
    );
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} closes the socket and exits 0`, async (t) => {
      const s = await server(t, ['--host', HOST, '0']);
      const result = await runBin('uclient', [HOST, String(s.port)]);
      assert.equal(result.code, 0);
      assert.deepEqual(await s.stop(signal), { code: 0, signal: null });
    });
  }

  test('--rate and --burst: a flood gets the burst, the rest is dropped (seen in the trace)', async (t) => {
    const s = await server(t, [
      '--service',
      'echo',
      '--host',
      HOST,
      '--rate',
      '0.001',
      '--burst',
      '2',
      '--trace',
      '0',
    ]);
    const flooder = await peer(t);
    for (let i = 0; i < 20; i++) await flooder.send(Buffer.from(`${i % 10}`), s.port, HOST);
    const drops = await stderrLines(s, /not sent \(rate limit\)$/, 18);
    assert.equal(drops.length, 18);
    const sent = s
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('[server] 3 sendto(): 1 byte to '));
    assert.equal(sent.length, 2);
    assert.equal((await flooder.receive()).message.toString(), '0');
    assert.equal((await flooder.receive()).message.toString(), '1');
    assert.equal(flooder.queued, 0);
  });

  test('--trace shows the UDP steps in English and Korean', async (t) => {
    const s = await server(t, ['--host', HOST, '--count', '1', '--trace', '0']);
    const result = await runBin('uclient', ['--trace', '--lang', 'ko', HOST, String(s.port)]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      result.stderr.split('\n').map((line) => line.replace(/:\d+/g, ':P')),
      [
        '[클라이언트] 1 UDP 소켓의 생성 socket() [Node에서는 socket.connect() 한 번의 호출 안에서 일어남]',
        '[클라이언트] 2 데이터 송신 sendto(): 127.0.0.1:P로 0바이트',
        '[클라이언트] 3 데이터 수신 recvfrom(): 127.0.0.1:P에서 13바이트',
        '[클라이언트] 4 소켓 종료 close()',
        '',
      ],
    );
    await s.exited();
    const lines = s.stderr().replace(/:\d+/g, ':P').split('\n');
    assert.deepEqual(lines, [
      '[server] 1 socket(): UDP socket created [in Node this happens inside one call, socket.bind()]',
      '[server] 2 bind(): address 127.0.0.1:P assigned',
      'userver: listening on 127.0.0.1:P',
      '[server] 3 recvfrom(): 0 bytes from 127.0.0.1:P',
      '[server] 3 sendto(): 13 bytes to 127.0.0.1:P',
      '[server] 4 close(): socket closed',
      '',
    ]);
  });

  test('--help and --version exit 0', async () => {
    for (const program of ['userver', 'uclient']) {
      const help = await runBin(program, ['--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout.toString(), new RegExp(`^Usage : ${program} `));
      const version = await runBin(program, ['-V']);
      assert.equal(version.code, 0);
      assert.match(version.stdout.toString(), new RegExp(`^${program} \\d+\\.\\d+\\.\\d+\\n$`));
    }
  });
});
