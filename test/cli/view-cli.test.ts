/**
 * `--view [HOST:]PORT` on the built programs: the line on stderr, strict parsing, SIGTERM ending
 * the page's streams with the server, userver's UDP flow, greet's lines, and `--workers N` (the
 * primary serves the page with every worker's connections and stats).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, type TestContext, test } from 'node:test';
import { fetchHello, fetchUdpHello } from '../../src/index.js';
import { childPids } from '../helpers/proc-net.js';
import { ROOT, runBin, startServer, testEnv } from '../helpers/process.js';
import {
  getState,
  openEvents,
  request,
  startViewedServer,
  VIEW_READY,
  waitForState,
} from '../helpers/view.js';

async function viewed(t: TestContext, program: string, args: readonly string[], view = '0') {
  const server = await startViewedServer(program, args, view);
  t.after(() => server.stop('SIGKILL'));
  return server;
}

describe('hserver and userver --view', () => {
  test('prints where the page is, and SIGTERM closes the page with the server (exit 0)', async (t) => {
    const server = await viewed(t, 'hserver', ['--host', '127.0.0.1']);
    assert.match(
      server.stderr(),
      /^hserver: view on http:\/\/127\.0\.0\.1:\d+\/\nhserver: listening on 127\.0\.0\.1:\d+\n$/,
    );
    const stream = await openEvents(server.url);
    await stream.waitFor((e) => e.event === 'snapshot');
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    await stream.ended;
  });

  test('a busy server: fewer updates while the load runs, the full pace again once it stops', async (t) => {
    const server = await viewed(t, 'hserver', ['--host', '127.0.0.1']);
    const stream = await openEvents(server.url);
    t.after(() => stream.close());
    await stream.waitFor((e) => e.event === 'snapshot');
    assert.equal(((await getState(server.url)) as { busy?: boolean }).busy, false);
    const seconds = 2;
    const load = runBin('hbench', [
      '-c',
      '8',
      '-d',
      String(seconds),
      '127.0.0.1',
      String(server.servicePort),
    ]);
    const busyUpdate = (e: { event: string; data: string }) =>
      e.event === 'update' && (JSON.parse(e.data) as { busy?: boolean }).busy === true;
    await stream.waitFor(busyUpdate, 5_000);
    const bench = await load;
    assert.equal(bench.code, 0, bench.stderr);
    const rate = /(\d+) connections\/s/.exec(bench.stdout.toString())?.[1];
    assert.ok(Number(rate) > 400, `the load must be well above 200 connections a second: ${bench.stdout}`);
    // At most 4 updates a second while busy (10 otherwise), over the load's seconds, and a little slack.
    const busyUpdates = stream.events.filter(busyUpdate).length;
    assert.ok(busyUpdates <= seconds * 4 + 2, `${busyUpdates} busy updates in ${seconds} s`);
    // Quiet again within a quarter of a second of the last connection (and a margin).
    await waitForState(server.url, (state) => (state as { busy?: boolean }).busy === false, 1_500);
  });

  test('[::1]:0 serves the page on IPv6, the address in brackets', async (t) => {
    const server = await viewed(t, 'hserver', ['--host', '::1'], '[::1]:0');
    assert.match(server.stderr(), /^hserver: view on http:\/\/\[::1\]:\d+\/\n/);
    assert.equal((await request(server.url)).status, 200);
  });

  test('--view is parsed strictly', async () => {
    for (const [value, why] of [
      ['abc', 'the port is not a number'],
      ['::1:8080', 'an IPv6 address goes in brackets'],
      [':8080', 'the host is empty'],
      ['127.0.0.1:', 'the port is not a number'],
      ['70000', 'port'],
      ['[::1]', 'a port must follow the bracketed address'],
    ] as const) {
      const result = await runBin('hserver', ['--view', value, '0']);
      assert.equal(result.code, 1, value);
      const err = result.stderr.toString();
      assert.ok(err.startsWith(`hserver: invalid --view '${value}': `), err);
      assert.ok(err.includes(why), `${value}: ${err}`);
      assert.ok(err.endsWith('(expected [HOST:]PORT, e.g. 0, 8080, 127.0.0.1:8080 or [::1]:8080)\n'), err);
    }
    const help = await runBin('hserver', ['--help']);
    assert.match(help.stdout.toString(), /--view \[HOST:\]PORT/);
    assert.match((await runBin('userver', ['--help'])).stdout.toString(), /--view \[HOST:\]PORT/);
  });

  test('a view port that is taken: exit 1, and the service does not stay up', async (t) => {
    const first = await viewed(t, 'hserver', ['--host', '127.0.0.1']);
    const taken = new URL(first.url).port;
    const result = await runBin('hserver', ['--host', '127.0.0.1', '--view', taken, '0']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr.toString(),
      /^hserver: --view: bind\(\) error: 127\.0\.0\.1:\d+: address already in use \(EADDRINUSE\)\n$/,
    );
    // No "listening on" line first: a script waiting for it never sees a server that then failed.
    assert.doesNotMatch(result.stderr.toString(), /listening on/);
  });

  test('greet: the Bob/Jane lines in the selected connection, from the page button', async (t) => {
    const server = await viewed(t, 'hserver', ['--service', 'greet', '--host', '127.0.0.1']);
    const run = await request(`${server.url}run`, { headers: { 'X-Socket-Steps': 'run' } });
    assert.equal(run.status, 200);
    assert.equal(run.body, "Bob: Hi. I'm Bob. / Jane: Hi, Bob. I'm Jane / Bob: Nice to meet you, Jane.\n");
    const state = await waitForState(server.url, (s) => s.connections[0]?.steps.includes('4c') === true);
    const texts = state.connections[0]?.events.filter((e) => e.source === 'server').map((e) => e.text);
    assert.deepEqual(
      texts?.filter((x) => x !== undefined),
      ["Hi. I'm Bob.\n", "Hi, Bob. I'm Jane\n", 'Nice to meet you, Jane.\n'],
    );
    assert.equal(state.connections[0]?.clientSource, 'client');
  });

  test('userver: the UDP flow, a datagram from outside and one from the page', async (t) => {
    const server = await viewed(t, 'userver', ['--host', '127.0.0.1']);
    const reply = await fetchUdpHello({ host: '127.0.0.1', port: server.servicePort });
    assert.equal(reply.text, 'Hello World!');
    const run = await request(`${server.url}run`, { headers: { 'X-Socket-Steps': 'run' } });
    assert.equal(run.body, 'Message from server: Hello World!\n');
    const state = await waitForState(server.url, (s) => s.connections.length === 2);
    assert.equal(state.transport, 'udp');
    const [fromPage, fromOutside] = state.connections;
    assert.deepEqual(fromOutside?.steps, ['recvfrom', 'sendto']);
    assert.equal(fromOutside?.clientSource, 'server');
    assert.equal(fromPage?.clientSource, 'client');
    assert.deepEqual(fromPage?.clientSteps, ['socket', 'sendto', 'recvfrom', 'close']);
    const page = await request(server.url);
    assert.match(page.body, /data-step="udp-server-recvfrom"/);
  });

  test("the classic services' buttons: each runs its client against the server, over TCP and UDP", async (t) => {
    const expected: Record<string, RegExp> = {
      discard: /^discard: sent 16 bytes, and nothing came back\n$/,
      chargen: /^chargen: 740 bytes read as the pattern \(rfc864\) has them; the first line: {2}!"#\$%&/,
      daytime: /^Daytime from server: \d\d [A-Z]{3} \d{4} \d\d:\d\d:\d\d UTC\n$/,
      time: /^Time from server: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+ s since 1900\)\n$/,
      qotd: /^Quote from server: \S/,
      'udp-discard': /^discard: sent 1 datagram \(16 bytes\); discard answers none\n$/,
      'udp-chargen': /^chargen: a datagram of \d+ bytes in \d+ lines, as the pattern has them\n$/,
      'udp-daytime': /^Daytime from server: \d\d [A-Z]{3} \d{4} /,
      'udp-time': /^Time from server: \d{4}-/,
      'udp-qotd': /^Quote from server: \S/,
    };
    for (const [client, pattern] of Object.entries(expected)) {
      const udp = client.startsWith('udp-');
      const service = client.replace(/^udp-/, '');
      const server = await viewed(t, udp ? 'userver' : 'hserver', [
        '--service',
        service,
        '--host',
        '127.0.0.1',
      ]);
      const state = await getState(server.url);
      assert.equal(state.service, service, client);
      const run = await request(`${server.url}run`, { headers: { 'X-Socket-Steps': 'run' } });
      assert.equal(run.status, 200, `${client}: ${run.body}`);
      assert.match(run.body, pattern, client);
      // The run shows on the page as a connection (TCP) or a peer (UDP) of the server.
      const after = await waitForState(server.url, (s) => s.connections.length === 1);
      assert.equal(after.connections[0]?.clientSource, 'client', client);
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null }, client);
    }
  });

  test("--workers 2: the primary serves the page, with every worker's connections and their stats added up", async (t) => {
    const server = await startServer(
      'hserver',
      ['--workers', '2', '--host', '127.0.0.1', '--view', '0', '0'],
      {
        readyPattern: VIEW_READY,
      },
    );
    t.after(() => server.stop('SIGKILL'));
    const servicePort = Number(/listening on .*:(\d+)\n/.exec(server.stderr())?.[1]);
    const base = `http://127.0.0.1:${server.port}/`;
    const workers = childPids(server.child.pid as number);
    assert.equal(workers.length, 2);
    for (let i = 0; i < 20; i++) await fetchHello({ host: '127.0.0.1', port: servicePort });
    const state = await waitForState(base, (s) => s.connections.length === 20 && s.stats?.accepted === 20);
    const seen = new Set(state.connections.map((c) => (c as { worker?: number }).worker));
    for (const pid of seen) assert.ok(workers.includes(pid as number), `worker ${pid}`);
    assert.ok(state.connections.every((c) => c.steps.includes('4a')));
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    const after = await getState(base).then(
      () => 'answered',
      () => 'closed',
    );
    assert.equal(after, 'closed');
  });

  test('npm run view -- --lang ko: the instructions in Korean, the page in Korean', async (t) => {
    const child = spawn(process.execPath, ['scripts/view.js', '--lang', 'ko', '--service', 'greet'], {
      cwd: ROOT,
      env: testEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.setEncoding('utf8');
    const deadline = AbortSignal.timeout(10_000);
    while (!out.includes('Ctrl-C를 누르면 서버가 멈춥니다.')) {
      const [chunk] = (await once(child.stdout, 'data', { signal: deadline })) as [string];
      out += chunk;
    }
    const url =
      /\n브라우저로 (http:\/\/127\.0\.0\.1:\d+\/) 에 접속한 뒤, 다른 터미널에서 클라이언트를 실행하세요:\n/.exec(
        out,
      )?.[1];
    assert.ok(url !== undefined, out);
    assert.match(
      out,
      /\n {2}bin\/hclient --service greet 127\.0\.0\.1 \d+\nCtrl-C를 누르면 서버가 멈춥니다\.\n$/,
    );
    assert.doesNotMatch(out.split('\n').slice(1).join('\n'), /Open|browser|terminal|stops/);
    const page = await request(url);
    assert.match(page.body, /<html lang="ko">/);
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    assert.deepEqual(await exited, [0, null]);
  });

  test('npm run view (scripts/view.js): the URL and the hclient command, running until Ctrl-C', async (t) => {
    const child = spawn(process.execPath, ['scripts/view.js'], {
      cwd: ROOT,
      env: testEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.setEncoding('utf8');
    const deadline = AbortSignal.timeout(10_000);
    while (!out.includes('Ctrl-C stops the server.')) {
      const [chunk] = (await once(child.stdout, 'data', { signal: deadline })) as [string];
      out += chunk;
    }
    const url = /Open (http:\/\/127\.0\.0\.1:\d+\/) in a browser/.exec(out)?.[1];
    const command = /\n {2}bin\/hclient (127\.0\.0\.1) (\d+)\n/.exec(out);
    assert.ok(url !== undefined && command !== null, out);
    assert.equal((await request(url)).status, 200);
    const hello = await runBin('hclient', [command[1] ?? '', command[2] ?? '']);
    assert.equal(hello.stdout.toString(), 'Message from server: Hello World! \n');
    await waitForState(url, (s) => s.connections.length === 1);
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    assert.deepEqual(await exited, [0, null]);
  });
});
