/**
 * hserver --tls and hclient --tls as a user runs them: verification failures in one line naming
 * the reason (self-signed, wrong name, expired), --insecure's fingerprint, the handshake in the
 * trace (English, Korean, JSON), every TCP service over TLS, the misuse both ways (plain against
 * TLS, TLS against plain) ending in one line on each side within the handshake timeout, and the
 * options' own errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { runBin, type StartedServer, startServer } from '../helpers/process.js';
import { certDir } from '../helpers/tls.js';
import { needs, TOOLS, toolPath } from '../helpers/tools.js';
import { request, startViewedServer, waitForState } from '../helpers/view.js';

const certs = certDir();
after(() => certs.remove());

async function tlsServer(args: string[]) {
  const certOut = `${certs.dir}/out-${Math.random().toString(36).slice(2)}.pem`;
  const server = await startServer('hserver', [
    '--tls',
    '--cert-out',
    certOut,
    '--host',
    '127.0.0.1',
    ...args,
    '0',
  ]);
  const fingerprint = /SHA-256 fingerprint ([0-9A-F:]{95})\n/.exec(server.stderr())?.[1] ?? '';
  return { server, certOut, fingerprint };
}

describe('hclient --tls verifies the server', () => {
  test('trusted with --ca: the hello, and nothing on stderr', async (t) => {
    const { server, certOut } = await tlsServer([]);
    t.after(() => server.stop());
    for (const host of ['127.0.0.1', 'localhost']) {
      const result = await runBin('hclient', ['--tls', '--ca', certOut, host, String(server.port)]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), 'Message from server: Hello World! \n');
      assert.equal(result.stderr, '');
    }
  });

  test('self-signed without --ca: one line, exit 1', async (t) => {
    const { server } = await tlsServer([]);
    t.after(() => server.stop());
    const result = await runBin('hclient', ['--tls', '127.0.0.1', String(server.port)]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout.length, 0);
    assert.equal(
      result.stderr,
      `connect() error! TLS handshake with 127.0.0.1:${server.port} failed: unknown issuer: the server's certificate (CN=localhost) is self-signed and not trusted (DEPTH_ZERO_SELF_SIGNED_CERT) (trust it with --ca FILE, or skip the check with --insecure)\n`,
    );
    // The server says the client went away during the handshake (it saw no data).
    assert.match(server.stderr(), /hserver: TLS handshake with 127\.0\.0\.1:\d+ failed: /);
  });

  test('wrong name: the names the certificate is for, and the one asked for', async (t) => {
    const { server, certOut } = await tlsServer([]);
    t.after(() => server.stop());
    const result = await runBin('hclient', [
      '--tls',
      '--ca',
      certOut,
      '--servername',
      'example.com',
      '127.0.0.1',
      String(server.port),
    ]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `connect() error! TLS handshake with 127.0.0.1:${server.port} failed: wrong name: the server's certificate is for DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, not example.com (ERR_TLS_CERT_ALTNAME_INVALID) (--servername NAME names another)\n`,
    );
  });

  test('an address the certificate does not name is a wrong name too', async (t) => {
    const files = certs.make('only-localhost', { dnsNames: ['localhost'], ipAddresses: ['::1'] });
    const server = await startServer('hserver', [
      '--tls',
      '--cert',
      files.cert,
      '--key',
      files.key,
      '--host',
      '127.0.0.1',
      '0',
    ]);
    t.after(() => server.stop());
    const result = await runBin('hclient', ['--tls', '--ca', files.cert, '127.0.0.1', String(server.port)]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^connect\(\) error! .* wrong name: .*, not 127\.0\.0\.1 \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
    );
    assert.equal(result.stderr.split('\n').length, 2);
  });

  test('expired: the date it expired on', async (t) => {
    const files = certs.make('expired', {
      notBefore: new Date(Date.UTC(2020, 0, 1)),
      notAfter: new Date(Date.UTC(2021, 0, 1)),
    });
    const server = await startServer('hserver', [
      '--tls',
      '--cert',
      files.cert,
      '--key',
      files.key,
      '--host',
      '127.0.0.1',
      '0',
    ]);
    t.after(() => server.stop());
    assert.match(
      server.stderr(),
      new RegExp(`hserver: TLS certificate, SHA-256 fingerprint ${files.fingerprint}\n`),
    );
    const result = await runBin('hclient', ['--tls', '--ca', files.cert, 'localhost', String(server.port)]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `connect() error! TLS handshake with localhost:${server.port} failed: the server's certificate (CN=localhost) expired on Jan  1 00:00:00 2021 GMT (CERT_HAS_EXPIRED)\n`,
    );
  });

  test('--insecure: served, and the fingerprint accepted is the one the server printed', async (t) => {
    const { server, fingerprint } = await tlsServer([]);
    t.after(() => server.stop());
    const result = await runBin('hclient', ['--tls', '--insecure', '127.0.0.1', String(server.port)]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'Message from server: Hello World! \n');
    assert.equal(
      result.stderr,
      `hclient: TLS not verified (--insecure): accepted the certificate with SHA-256 fingerprint ${fingerprint}\n`,
    );
  });
});

describe('--view with --tls', () => {
  test("the page's button speaks TLS to its own server, and the handshake is in /state", async (t) => {
    const server = await startViewedServer('hserver', ['--tls', '--host', '127.0.0.1']);
    t.after(() => server.stop());
    const run = await request(`${server.url}run`, { headers: { 'X-Socket-Steps': 'run' } });
    assert.equal(run.status, 200, run.body);
    assert.equal(run.body, 'Message from server: Hello World!\n');
    const state = await waitForState(server.url, (s) => s.connections[0]?.steps.includes('4c') === true);
    const actions = state.connections[0]?.events.filter((e) => e.source === 'server').map((e) => e.action);
    assert.deepEqual(actions?.slice(0, 3), ['accept', 'handshake', 'write']);
    const handshake = state.connections[0]?.events.find(
      (e) => e.source === 'server' && e.action === 'handshake',
    ) as { tls?: string } | undefined;
    assert.match(handshake?.tls ?? '', /^TLSv1\.3, TLS_\w+$/);
  });
});

describe('--workers with a self-signed certificate', () => {
  test('every worker serves the one certificate whose fingerprint was printed', async (t) => {
    const { server, fingerprint } = await tlsServer(['--workers', '2']);
    t.after(() => server.stop());
    const seen = new Set<string>();
    // SO_REUSEPORT spreads the connections over both workers (all 8 on one: 1 in 128).
    for (let i = 0; i < 8; i++) {
      const result = await runBin('hclient', ['--tls', '--insecure', '127.0.0.1', String(server.port)]);
      assert.equal(result.code, 0, result.stderr);
      seen.add(/fingerprint ([0-9A-F:]+)\n/.exec(result.stderr)?.[1] ?? '');
    }
    assert.deepEqual([...seen], [fingerprint]);
  });
});

describe('the handshake in the trace', () => {
  test('English, Korean and JSON, between connect() and the data', async (t) => {
    const { server, certOut } = await tlsServer(['--trace']);
    t.after(() => server.stop());
    const en = await runBin('hclient', [
      '--tls',
      '--ca',
      certOut,
      '--trace',
      'localhost',
      String(server.port),
    ]);
    assert.equal(en.code, 0, en.stderr);
    const lines = en.stderr.trimEnd().split('\n');
    const steps = lines.map((line) => line.replace(/^\[client\] (\S+) ([^:]+).*$/, '$1 $2'));
    assert.deepEqual(steps, ['1 socket()', '2 connect()', '2 TLS handshake', '3 read()', '4 close()']);
    assert.match(
      lines[2] ?? '',
      /^\[client\] 2 TLS handshake: TLSv1\.3, TLS_\w+, SNI localhost; certificate verified: localhost, issued by CN=localhost \(--ca\)$/,
    );
    const ko = await runBin('hclient', [
      '--tls',
      '--insecure',
      '--trace',
      '--lang',
      'ko',
      '127.0.0.1',
      String(server.port),
    ]);
    assert.equal(ko.code, 0, ko.stderr);
    assert.match(
      ko.stderr,
      /\[클라이언트\] 2 TLS 핸드셰이크: TLSv1\.3, TLS_\w+; 인증서 확인 안 함: --insecure \(SHA-256 [0-9A-F:]{95}\)\n/,
    );
    const json = await runBin('hclient', [
      '--tls',
      '--ca',
      certOut,
      '--trace-format',
      'json',
      'localhost',
      String(server.port),
    ]);
    assert.equal(json.code, 0, json.stderr);
    const events = json.stderr
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; step: string; tls?: Record<string, unknown> });
    const handshake = events.find((e) => e.action === 'handshake');
    assert.equal(handshake?.step, '2');
    assert.equal(handshake?.tls?.protocol, 'TLSv1.3');
    assert.equal(handshake?.tls?.servername, 'localhost');
    assert.equal(handshake?.tls?.verified, 'localhost');
    assert.equal(handshake?.tls?.issuer, 'CN=localhost');
    assert.equal(handshake?.tls?.customCa, true);
    assert.deepEqual(
      events.map((e) => e.action),
      ['socket', 'connect', 'handshake', 'read', 'eof', 'close'].filter((a) =>
        events.some((e) => e.action === a),
      ),
    );
    // The server's side: accept, then the handshake, then the write.
    const serverSteps = server
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('[server] 4'))
      .slice(0, 3)
      .map((line) => line.replace(/^\[server\] (\S+) ([^:]+).*$/, '$1 $2'));
    assert.deepEqual(serverSteps, ['4a accept()', '4a TLS handshake', '4b write()']);
  });
});

describe('every TCP service over TLS', () => {
  test('greet: the dialogue', async (t) => {
    const { server, certOut } = await tlsServer(['--service', 'greet']);
    t.after(() => server.stop());
    const result = await runBin('hclient', [
      '--tls',
      '--ca',
      certOut,
      '--service',
      'greet',
      'localhost',
      String(server.port),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout.toString(),
      "[client] Bob: Hi. I'm Bob.\n[server] Jane: Hi, Bob. I'm Jane\n[client] Bob: Nice to meet you, Jane.\n",
    );
  });

  test('echo: each line back', async (t) => {
    const { server, certOut } = await tlsServer(['--service', 'echo']);
    t.after(() => server.stop());
    const result = await runBin(
      'hclient',
      ['--tls', '--ca', certOut, '--service', 'echo', 'localhost', String(server.port)],
      {
        input: 'one\ntwo\n',
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'Message from server: one\nMessage from server: two\n');
  });
});

describe('the classic services over TLS', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['daytime', [], /^Daytime from server: \d\d [A-Z]{3} \d{4} /],
    ['time', [], /^Time from server: \d{4}-\d\d-\d\dT/],
    ['qotd', [], /^Quote from server: /],
    ['chargen', ['--bytes', '300'], /300 bytes read, every one as the pattern \(rfc864\) has it\n$/],
    ['discard', [], /^Sent 3 bytes to the discard server/],
  ];
  for (const [service, extra, stdout] of cases) {
    test(service, async (t) => {
      const { server, certOut } = await tlsServer(['--service', service]);
      t.after(() => server.stop());
      const result = await runBin(
        'hclient',
        ['--tls', '--ca', certOut, '--service', service, ...extra, 'localhost', String(server.port)],
        { input: 'hi\n' },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout.toString(), stdout);
    });
  }
});

describe('misuse ends in one line on each side, never a hang', () => {
  test('a TLS client against a plain hello server: "the server did not speak TLS"', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const started = Date.now();
    const result = await runBin('hclient', ['--tls', '--insecure', '127.0.0.1', String(server.port)]);
    assert.ok(Date.now() - started < 5000);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `connect() error! TLS handshake with 127.0.0.1:${server.port} failed: the server did not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER)\n`,
    );
  });

  test('a plain greet client against a TLS server: "the client did not speak TLS"', async (t) => {
    const { server } = await tlsServer(['--service', 'greet']);
    t.after(() => server.stop());
    const result = await runBin('hclient', ['--service', 'greet', '127.0.0.1', String(server.port)]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.split('\n').length, 2, result.stderr);
    assert.match(result.stderr, /^read\(\) error! /);
    const line = await serverLine(server, /hserver: TLS handshake with .*\n/);
    assert.match(
      line,
      /^hserver: TLS handshake with 127\.0\.0\.1:\d+ failed: the client did not speak TLS \(ERR_SSL_WRONG_VERSION_NUMBER\)\n$/,
    );
  });

  test('a client that never speaks: the server gives up at --handshake-timeout; the plain hello client says why', async (t) => {
    const { server } = await tlsServer(['--handshake-timeout', '300ms']);
    t.after(() => server.stop());
    // A raw socket that sends nothing: the server must close it at the timeout, by itself.
    const socket = connect(server.port, '127.0.0.1');
    socket.resume();
    const started = Date.now();
    await once(socket, 'close');
    const held = Date.now() - started;
    assert.ok(held >= 250 && held < 5000, `held ${held} ms`);
    const line = await serverLine(server, /hserver: TLS handshake with .*\n/);
    assert.match(line, /failed: no complete TLS handshake within 300 ms\n$/);
    // The plain hello client waits for the server to speak first; its one line names --tls.
    const plain = await runBin('hclient', ['--timeout', '0.2', '127.0.0.1', String(server.port)]);
    assert.equal(plain.code, 1);
    assert.equal(
      plain.stderr,
      `read() error! 127.0.0.1:${server.port} sent nothing within 200 ms\nhclient: a greet or echo server waits for the client to speak first: try --service greet or --service echo (a TLS server: --tls)\n`,
    );
  });

  test('the client gives up at its --handshake-timeout too', async (t) => {
    // A server that accepts and never answers the ClientHello.
    const silent = createServer({ pauseOnConnect: true }, (socket) => {
      socket.on('error', () => {});
      t.after(() => socket.destroy());
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    t.after(() => silent.close());
    const { port } = silent.address() as AddressInfo;
    const started = Date.now();
    const result = await runBin('hclient', [
      '--tls',
      '--insecure',
      '--handshake-timeout',
      '0.3',
      '127.0.0.1',
      String(port),
    ]);
    assert.ok(Date.now() - started < 5000);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `connect() error! TLS handshake with 127.0.0.1:${port} failed: no complete TLS handshake within 300 ms\n`,
    );
  });

  test('a TLS client against a plain greet server: its answer is no TLS record', async (t) => {
    const server = await startServer('hserver', ['--service', 'greet', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const result = await runBin('hclient', ['--tls', '--insecure', '127.0.0.1', String(server.port)]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^connect\(\) error! TLS handshake with .* failed: the server did not speak TLS \(ERR_SSL_\w+\)\n$/,
    );
  });
});

describe('--metrics with --tls', () => {
  test(
    'handshakes counted, and failures by reason; promtool finds nothing to say',
    needs(TOOLS.promtool),
    async (t) => {
      const { server, certOut } = await tlsServer(['--metrics', '127.0.0.1:0']);
      t.after(() => server.stop());
      const ok = await runBin('hclient', ['--tls', '--ca', certOut, 'localhost', String(server.port)]);
      assert.equal(ok.code, 0, ok.stderr);
      // A plain client that speaks first: a bad record.
      const plain = connect(server.port, '127.0.0.1');
      plain.on('error', () => {});
      plain.end('GREETINGS\n');
      plain.resume();
      await once(plain, 'close');
      await serverLine(server, /did not speak TLS.*\n/);
      const url = /metrics on (http:\/\/\S+\/metrics)\n/.exec(server.stderr())?.[1];
      assert.ok(url, server.stderr());
      const text = await (await fetch(url)).text();
      assert.match(text, /^socket_steps_tls_handshakes_total 1$/m);
      assert.match(text, /^socket_steps_tls_resumed_handshakes_total 0$/m);
      assert.match(text, /^socket_steps_tls_handshake_failures_total\{reason="not-tls"\} 1$/m);
      assert.match(text, /^socket_steps_tls_handshake_failures_total\{reason="timeout"\} 0$/m);
      const lint = spawnSync(toolPath(TOOLS.promtool), ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
      });
      assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
      assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '');
    },
  );
});

describe('hbench --tls', () => {
  test('handshakes counted and timed on their own, with and without resumption', async (t) => {
    const { server, certOut } = await tlsServer([]);
    t.after(() => server.stop());
    const run = async (extra: string[]) => {
      const result = await runBin('hbench', [
        '--tls',
        '--ca',
        certOut,
        '--json',
        '-n',
        '20',
        '-c',
        '2',
        ...extra,
        'localhost',
        String(server.port),
      ]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout.toString()) as {
        ok: number;
        tls: {
          handshakes: number;
          resumed: number;
          handshakesPerSecond: number;
          handshakeLatencyMs: { p50: number; max: number };
        };
      };
    };
    const fresh = await run([]);
    assert.equal(fresh.ok, 20);
    assert.equal(fresh.tls.handshakes, 20);
    assert.equal(fresh.tls.resumed, 0);
    assert.ok(fresh.tls.handshakesPerSecond > 0);
    assert.ok(
      fresh.tls.handshakeLatencyMs.p50 > 0 &&
        fresh.tls.handshakeLatencyMs.p50 <= fresh.tls.handshakeLatencyMs.max,
    );
    const resumed = await run(['--tls-resume']);
    assert.equal(resumed.tls.handshakes, 20);
    // The first connections of each loop have no ticket yet; the rest offer one and get it taken.
    assert.ok(resumed.tls.resumed >= 10, `resumed ${resumed.tls.resumed}`);
  });

  test('a certificate not trusted: every connection fails as "tls", exit 1', async (t) => {
    const { server } = await tlsServer([]);
    t.after(() => server.stop());
    const result = await runBin('hbench', ['--tls', '-n', '3', '-c', '1', '127.0.0.1', String(server.port)]);
    assert.equal(result.code, 1);
    assert.match(result.stdout.toString(), /^ {2}errors {7}tls 3$/m);
    assert.match(result.stdout.toString(), /^ {2}tls {10}0 handshakes \(0 resumed\), 0 handshakes\/s$/m);
  });
});

describe('the TLS options', () => {
  const cases: Array<[string, string[], string]> = [
    ['hserver', ['--cert', 'x.pem', '0'], 'hserver: --cert applies to --tls\n'],
    ['hserver', ['--tls', '--cert', 'x.pem', '0'], 'hserver: --cert and --key go together\n'],
    [
      'hserver',
      ['--tls', '--handshake-timeout', '5m', '0'],
      "hserver: invalid --handshake-timeout '5m': expected seconds (5, 0.5) or a time with a unit (500ms, 5s), from 1ms to 2147483s\n",
    ],
    ['hclient', ['--insecure', '127.0.0.1', '1'], 'hclient: --insecure applies to --tls\n'],
    ['hbench', ['--tls-resume', '127.0.0.1', '1'], 'hbench: --tls-resume applies to --tls\n'],
    [
      'hclient',
      ['--tls', '--insecure', '--ca', 'x.pem', '127.0.0.1', '1'],
      'hclient: --ca and --insecure contradict each other\n',
    ],
    [
      'hclient',
      ['--tls', '--ca', '/nonexistent/ca.pem', '127.0.0.1', '1'],
      "hclient: cannot read --ca '/nonexistent/ca.pem': ENOENT: no such file or directory, open '/nonexistent/ca.pem'\n",
    ],
    [
      'hclient',
      ['--tls', '--servername', '10.0.0.1', '127.0.0.1', '1'],
      "hclient: invalid server name '10.0.0.1' (SNI is a host name, not an address)\n",
    ],
  ];
  for (const [program, args, stderr] of cases) {
    test(`${program} ${args.join(' ')}`, async () => {
      const result = await runBin(program, args);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, stderr);
    });
  }

  test('--cert/--key that do not match are refused at start-up', async () => {
    const a = certs.make('a');
    const b = certs.make('b');
    const result = await runBin('hserver', ['--tls', '--cert', a.cert, '--key', b.key, '0']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'hserver: --cert/--key: the key does not belong to the certificate\n');
  });
});

/** Waits for a line matching `pattern` on a server's stderr, bounded in time (it comes a moment after the client's). */
async function serverLine(server: StartedServer, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  const found = () => pattern.exec(server.stderr())?.[0];
  const stream = server.child.stderr;
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = found();
      if (line === undefined) return;
      clearTimeout(timer);
      stream?.off('data', onData);
      resolve(line);
    };
    // After the helper's own listener has added the chunk to stderr().
    const onData = () => setImmediate(check);
    const timer = setTimeout(() => {
      stream?.off('data', onData);
      reject(new Error(`no ${pattern} on stderr: ${server.stderr()}`));
    }, timeoutMs);
    stream?.on('data', onData);
    check();
  });
}
