/**
 * The classic test services on the built programs: hclient and uclient against hserver and
 * userver for each of them (what a user sees on stdout), the usage errors of the options that
 * belong to one service, and a SIGTERM while a chargen client reads (the stream ends with a FIN,
 * the server exits 0 without waiting out its close timeout).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { runBin, startServer } from '../helpers/process.js';
import { until } from '../helpers/wait.js';

async function server(t: TestContext, program: string, args: readonly string[]) {
  const started = await startServer(program, [...args, '--host', '127.0.0.1', '0']);
  t.after(() => started.stop('SIGKILL'));
  return started;
}

describe('hclient and uclient against hserver and userver: the classic services', () => {
  test('time, daytime, qotd, chargen and discard over TCP print what came, exit 0', async (t) => {
    const time = await server(t, 'hserver', ['--service', 'time']);
    const timeRun = await runBin('hclient', ['--service', 'time', '127.0.0.1', String(time.port)]);
    assert.equal(timeRun.code, 0, timeRun.stderr);
    const match = /^Time from server: (\S+) \((\d+) seconds since 1900-01-01 00:00 UTC\)\n$/.exec(
      timeRun.stdout.toString(),
    );
    assert.ok(match, timeRun.stdout.toString());
    // The seconds and the ISO form say the same moment, and it is now (within a minute).
    const seconds = Number(match[2]);
    assert.equal(new Date(match[1] ?? '').getTime() / 1000 + 2_208_988_800, seconds);
    assert.ok(Math.abs(seconds - (Date.now() / 1000 + 2_208_988_800)) < 60);

    const daytime = await server(t, 'hserver', ['--service', 'daytime']);
    const daytimeRun = await runBin('hclient', ['--service', 'daytime', '127.0.0.1', String(daytime.port)]);
    assert.match(
      daytimeRun.stdout.toString(),
      /^Daytime from server: \d\d [A-Z]{3} \d{4} \d\d:\d\d:\d\d UTC \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n$/,
    );

    const qotd = await server(t, 'hserver', ['--service', 'qotd', '--message', 'Less is more.']);
    const qotdRun = await runBin('hclient', ['--service', 'qotd', '127.0.0.1', String(qotd.port)]);
    assert.equal(qotdRun.stdout.toString(), 'Quote from server: Less is more.\n');

    const chargen = await server(t, 'hserver', ['--service', 'chargen', '--pattern', 'xinetd']);
    const chargenRun = await runBin('hclient', [
      '--service',
      'chargen',
      '--bytes',
      '100000',
      '127.0.0.1',
      String(chargen.port),
    ]);
    assert.equal(chargenRun.code, 0, chargenRun.stderr);
    assert.match(
      chargenRun.stdout.toString(),
      /^Chargen from server: !"#\$%&'.{65}\n100000 bytes read, every one as the pattern \(xinetd\) has it\n$/,
    );

    const discard = await server(t, 'hserver', ['--service', 'discard']);
    const discardRun = await runBin('hclient', ['--service', 'discard', '127.0.0.1', String(discard.port)], {
      input: Buffer.alloc(300_000, 'x'),
    });
    assert.equal(discardRun.code, 0, discardRun.stderr);
    assert.equal(discardRun.stdout.toString(), 'Sent 300000 bytes to the discard server\n');
  });

  test('over UDP: time, qotd, chargen and discard, and --lang ko for the summaries', async (t) => {
    const time = await server(t, 'userver', ['--service', 'time']);
    const timeRun = await runBin('uclient', ['--service', 'time', '127.0.0.1', String(time.port)]);
    assert.match(timeRun.stdout.toString(), /^Time from server: \d{4}-\d\d-\d\dT\S+Z \(\d+ seconds since/);

    const qotd = await server(t, 'userver', ['--service', 'qotd', '--message', 'Less is more.']);
    const qotdRun = await runBin('uclient', ['--service', 'qotd', '127.0.0.1', String(qotd.port)]);
    assert.equal(qotdRun.stdout.toString(), 'Quote from server: Less is more.\n');

    const chargen = await server(t, 'userver', ['--service', 'chargen']);
    const chargenRun = await runBin('uclient', ['--service', 'chargen', '127.0.0.1', String(chargen.port)]);
    assert.match(chargenRun.stdout.toString(), /^Chargen from server: \d+ bytes in \d+ lines?, every one as/);
    const chargenKo = await runBin('uclient', [
      '--lang',
      'ko',
      '--service',
      'chargen',
      '127.0.0.1',
      String(chargen.port),
    ]);
    assert.match(
      chargenKo.stdout.toString(),
      /^chargen 서버의 응답: \d+바이트, \d+줄, 모든 바이트가 패턴과 같음\n$/,
    );

    const discard = await server(t, 'userver', ['--service', 'discard']);
    const discardRun = await runBin('uclient', ['--service', 'discard', '127.0.0.1', String(discard.port)], {
      input: 'one\ntwo\n',
    });
    assert.equal(
      discardRun.stdout.toString(),
      'Sent 2 datagrams (8 bytes) to the discard server, which answers none\n',
    );
  });
});

describe('the classic services: usage errors (exit 1, one line, nothing started)', () => {
  test("an option of another service, a bad pattern, a quote past RFC 865's limit, an unreadable file", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'classic-cli-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const long = join(dir, 'long.txt');
    writeFileSync(long, `${'a'.repeat(600)}\n`);
    const cases: Array<[string, string[], RegExp]> = [
      [
        'hserver',
        ['--service', 'echo', '--pattern', 'xinetd', '0'],
        /^hserver: --pattern applies to --service chargen, not echo\n$/,
      ],
      [
        'hserver',
        ['--service', 'chargen', '--pattern', 'abc', '0'],
        /^hserver: invalid --pattern 'abc': expected rfc864 or xinetd\n$/,
      ],
      [
        'hserver',
        ['--service', 'time', '--quotes', long, '0'],
        /^hserver: --quotes applies to --service qotd, not time\n$/,
      ],
      [
        'hserver',
        ['--service', 'qotd', '--quotes', long, '--message', 'x', '0'],
        /^hserver: give --message or --quotes, not both\n$/,
      ],
      ['hserver', ['--service', 'qotd', '--quotes', long, '0'], /^hserver: .*512/],
      [
        'hserver',
        ['--service', 'qotd', '--quotes', join(dir, 'none.txt'), '0'],
        /^hserver: cannot read --quotes '.*none\.txt': .*ENOENT/,
      ],
      [
        'userver',
        ['--service', 'chargen', '--no-rate-limit', '0'],
        /^userver: --no-rate-limit is refused for --service chargen: /,
      ],
      [
        'userver',
        ['--service', 'qotd', '--no-rate-limit', '0'],
        /^userver: --no-rate-limit is refused for --service qotd: /,
      ],
      [
        'userver',
        ['--service', 'time', '--no-nul', '0'],
        /^userver: --no-nul applies to --service hello, not time\n$/,
      ],
      [
        'userver',
        ['--service', 'daytime', '--message', 'x', '0'],
        /^userver: --message applies to --service hello or qotd, not daytime\n$/,
      ],
      [
        'hclient',
        ['--service', 'time', '--bytes', '10', '127.0.0.1', '9'],
        /^hclient: --bytes applies to --service chargen, not time\n$/,
      ],
      ['hclient', ['--service', 'chargen', '--bytes', '0', '127.0.0.1', '9'], /^hclient: .*--bytes/],
    ];
    for (const [program, args, expected] of cases) {
      const result = await runBin(program, args);
      assert.equal(result.code, 1, `${program} ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected, `${program} ${args.join(' ')}`);
      assert.doesNotMatch(result.stderr, /listening on|\n {4}at /, 'no server started, no stack trace');
    }
  });
});

describe('hserver --service chargen and a signal', () => {
  test('SIGTERM while a client reads: the client gets a FIN, the server exits 0 at once', async (t) => {
    // A close timeout far past the test's own bound: exiting 0 in time needs the FIN at SIGTERM.
    const chargen = await server(t, 'hserver', ['--service', 'chargen', '--close-timeout', '600']);
    const socket = connect({ port: chargen.port, host: '127.0.0.1' });
    t.after(() => socket.destroy());
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    await until(() => received > 100_000, 'the stream to start');
    const ended = once(socket, 'end');
    const exit = chargen.stop('SIGTERM');
    await ended;
    assert.deepEqual(await exit, { code: 0, signal: null });
    assert.match(chargen.stderr(), /stopping: no new connections; waiting up to 600 s for 1 open connection/);
  });
});
