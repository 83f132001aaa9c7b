/**
 * `--metrics`: Prometheus' text format over HTTP, checked by Prometheus' own `promtool check
 * metrics` (Debian package prometheus, which .ci/run installs), and the figures it reports.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fetchHello, fetchUdpHello } from '../../src/index.js';
import { formatMetrics } from '../../src/metrics/prometheus.js';
import type { ServerStats } from '../../src/transport/stats.js';
import { runBin, type StartedServer, startServer } from '../helpers/process.js';
import { rawConnect, readToEnd } from '../helpers/raw.js';
import { needs, promtool, TOOLS } from '../helpers/tools.js';
import { VIEW_READY } from '../helpers/view.js';

/** `promtool check metrics` on `text`: its complaints, '' when there are none. */
function lint(text: string): string {
  const result = spawnSync(promtool(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(result.status, 0, `promtool check metrics failed:\n${result.stdout}${result.stderr}`);
  return `${result.stdout}${result.stderr}`.trim();
}

/** The metrics URL a server printed. */
function metricsUrl(server: StartedServer): string {
  const match = /metrics on (http:\/\/\S+\/metrics)\n/.exec(server.stderr());
  assert.ok(match, `no metrics line in: ${server.stderr()}`);
  return match[1] as string;
}

/** The value of one sample (`name{labels}`) in an exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const stats = (extra: Partial<ServerStats> = {}): ServerStats => ({
  transport: 'tcp',
  service: 'greet',
  accepted: 5,
  refused: 1,
  open: 2,
  errors: { ECONNRESET: 2, ERR_IDLE_TIMEOUT: 1 },
  bytesIn: 100,
  bytesOut: 200,
  outcomes: { completed: 3, 'wrong-name': 1, 'peak-buffered-bytes': 70_300 },
  healthChecks: 4,
  stages: { 'proxy-protocol': { v1: 7, v2: 2, 'refused:untrusted': 3, 'refused:some-new-reason': 1 } },
  ...extra,
});

describe('metrics exposition', () => {
  test(
    'every figure of the snapshot, under Prometheus names; promtool finds nothing to say',
    needs(TOOLS.promtool),
    () => {
      const text = formatMetrics({
        program: 'hserver',
        version: '1.2.3',
        startTime: 1700000000.5,
        total: stats(),
      });
      assert.equal(lint(text), '');
      assert.equal(sample(text, 'socket_steps_connections_accepted_total'), 5);
      assert.equal(sample(text, 'socket_steps_connections_refused_total'), 1);
      assert.equal(sample(text, 'socket_steps_connections_open'), 2);
      assert.equal(sample(text, 'socket_steps_health_checks_total'), 4);
      assert.equal(sample(text, 'socket_steps_errors_total{code="ECONNRESET"}'), 2);
      assert.equal(sample(text, 'socket_steps_received_bytes_total'), 100);
      assert.equal(sample(text, 'socket_steps_sent_bytes_total'), 200);
      assert.equal(sample(text, 'socket_steps_outcomes_total{outcome="wrong-name"}'), 1);
      // A high-water mark is a gauge of its own, not a counter among the outcomes.
      assert.equal(sample(text, 'socket_steps_peak_buffered_bytes'), 70_300);
      assert.match(text, /^# TYPE socket_steps_peak_buffered_bytes gauge$/m);
      assert.doesNotMatch(text, /outcome="peak-buffered-bytes"/);
      assert.equal(sample(text, 'socket_steps_proxy_headers_total{version="1"}'), 7);
      assert.equal(sample(text, 'socket_steps_proxy_header_failures_total{reason="untrusted"}'), 3);
      // Known reasons are always there, at 0; one the table does not know yet too.
      assert.equal(sample(text, 'socket_steps_proxy_header_failures_total{reason="v2-crc32c"}'), 0);
      assert.equal(sample(text, 'socket_steps_proxy_header_failures_total{reason="some-new-reason"}'), 1);
      assert.equal(sample(text, 'process_start_time_seconds'), 1700000000.5);
      assert.match(
        text,
        /^socket_steps_info\{program="hserver",version="1\.2\.3",node="[0-9.]+",transport="tcp",service="greet"\} 1$/m,
      );
      assert.ok(text.endsWith('\n'));
    },
  );

  test(
    'label values are escaped; no PROXY figures without the stage; workers get a label',
    needs(TOOLS.promtool),
    () => {
      const text = formatMetrics({
        program: 'hserver',
        version: '1',
        startTime: 1,
        total: stats({ service: 'a"b\\c\nd', stages: {} }),
        workers: [stats({ worker: 101, accepted: 2 }), stats({ worker: 102, accepted: 3 })],
      });
      assert.equal(lint(text), '');
      assert.match(text, /service="a\\"b\\\\c\\nd"/);
      assert.doesNotMatch(text, /proxy_header/);
      assert.equal(sample(text, 'socket_steps_workers'), 2);
      assert.equal(sample(text, 'socket_steps_worker_connections_accepted_total{worker="102"}'), 3);
    },
  );

  test('UDP: datagrams, replies and rate-limit drops', needs(TOOLS.promtool), () => {
    const text = formatMetrics({
      program: 'userver',
      version: '1',
      startTime: 1,
      total: stats({
        transport: 'udp',
        service: 'hello',
        accepted: 9,
        refused: 4,
        outcomes: { replied: 5 },
        stages: {},
      }),
    });
    assert.equal(lint(text), '');
    assert.equal(sample(text, 'socket_steps_datagrams_received_total'), 9);
    assert.equal(sample(text, 'socket_steps_replies_total'), 5);
    assert.equal(sample(text, 'socket_steps_replies_rate_limited_total'), 4);
    assert.equal(sample(text, 'socket_steps_connections_accepted_total'), undefined);
  });
});

describe('hserver and userver --metrics', () => {
  test(
    'hserver: a scrape after 3 clients says 3, passes promtool; HEAD, 404 and 405',
    needs(TOOLS.promtool),
    async () => {
      const server = await startServer('hserver', ['--host', '127.0.0.1', '--metrics', '127.0.0.1:0', '0']);
      const url = metricsUrl(server);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      for (let i = 0; i < 3; i++) await fetchHello({ host: '127.0.0.1', port: server.port });
      const response = await fetch(url);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const text = await response.text();
      assert.equal(lint(text), '');
      assert.equal(sample(text, 'socket_steps_connections_accepted_total'), 3);
      assert.equal(sample(text, 'socket_steps_sent_bytes_total'), 39);
      const head = await fetch(url, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
      assert.equal((await fetch(url, { method: 'POST' })).status, 405);
      assert.equal((await fetch(url.replace('/metrics', '/other'))).status, 404);
      assert.equal((await server.stop()).code, 0);
    },
  );

  test(
    'hserver --workers 2: the primary serves the sum and a figure per worker',
    needs(TOOLS.promtool),
    async () => {
      const server = await startServer('hserver', [
        '--host',
        '127.0.0.1',
        '--workers',
        '2',
        '--metrics',
        '0',
        '0',
      ]);
      for (let i = 0; i < 20; i++) await fetchHello({ host: '127.0.0.1', port: server.port });
      const text = await (await fetch(metricsUrl(server))).text();
      assert.equal(lint(text), '');
      assert.equal(sample(text, 'socket_steps_connections_accepted_total'), 20);
      assert.equal(sample(text, 'socket_steps_workers'), 2);
      const perWorker = text
        .split('\n')
        .filter((l) => l.startsWith('socket_steps_worker_connections_accepted_total{'))
        .map((l) => Number(l.split(' ')[1]));
      assert.equal(perWorker.length, 2);
      assert.equal(
        perWorker.reduce((a, b) => a + b, 0),
        20,
      );
      assert.equal((await server.stop()).code, 0);
    },
  );

  test('hserver --proxy-protocol: refusals by reason', needs(TOOLS.promtool), async () => {
    const server = await startServer('hserver', [
      '--host',
      '127.0.0.1',
      '--proxy-protocol',
      '--trusted-proxy',
      '127.0.0.1/32',
      '--metrics',
      '0',
      '0',
    ]);
    const socket = await rawConnect(server.port);
    const reply = readToEnd(socket).catch(() => Buffer.alloc(0));
    socket.write('GET / HTTP/1.0\r\n\r\n');
    assert.equal((await reply).length, 0);
    const text = await (await fetch(metricsUrl(server))).text();
    assert.equal(lint(text), '');
    assert.equal(sample(text, 'socket_steps_proxy_header_failures_total{reason="not-proxy"}'), 1);
    assert.equal(sample(text, 'socket_steps_errors_total{code="ERR_PROXY_HEADER"}'), 1);
    assert.equal((await server.stop()).code, 0);
  });

  test('userver: replies and drops over the rate limit', needs(TOOLS.promtool), async () => {
    const server = await startServer('userver', [
      '--host',
      '127.0.0.1',
      '--burst',
      '2',
      '--rate',
      '0.001',
      '--metrics',
      '0',
      '0',
    ]);
    for (let i = 0; i < 2; i++) await fetchUdpHello({ host: '127.0.0.1', port: server.port });
    await fetchUdpHello({ host: '127.0.0.1', port: server.port, timeout: 100, retries: 0 }).catch(
      () => undefined,
    );
    const text = await (await fetch(metricsUrl(server))).text();
    assert.equal(lint(text), '');
    assert.equal(sample(text, 'socket_steps_replies_total'), 2);
    assert.equal(sample(text, 'socket_steps_replies_rate_limited_total'), 1);
    assert.equal((await server.stop()).code, 0);
  });

  test('with --view, /metrics is on the view’s port too', needs(TOOLS.promtool), async () => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '--view', '0', '0'], {
      readyPattern: VIEW_READY,
    });
    await fetchHello({
      host: '127.0.0.1',
      port: Number(/listening on 127\.0\.0\.1:(\d+)/.exec(server.stderr())?.[1]),
    });
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.equal(lint(text), '');
    assert.equal(sample(text, 'socket_steps_connections_accepted_total'), 1);
    assert.equal((await server.stop()).code, 0);
  });

  test('a bad --metrics value, and a port in use, exit 1 with a message', async () => {
    const bad = await runBin('hserver', ['--metrics', 'localhost:x', '0']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^hserver: invalid --metrics 'localhost:x': /);
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    const taken = await runBin('hserver', ['--host', '127.0.0.1', '--metrics', String(server.port), '0']);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /hserver: --metrics: bind\(\) error: .*address already in use/);
    await server.stop();
  });
});

/** The metric names (families) of an exposition, from its `# TYPE` lines. */
function familyNames(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('# TYPE '))
    .map((line) => line.split(' ')[2] as string);
}

/** The metric names in the first table of a page whose header row starts with `| first |`. */
function tableNames(text: string, first: string): Set<string> {
  const lines = text.split('\n').map((l) => l.trim());
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  assert.ok(start !== -1, `no table starting with "| ${first} |"`);
  const names = new Set<string>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cell = line.split('|')[1] ?? '';
    for (const match of cell.matchAll(/`([a-z_]+)(?:\{[^}]*\})?`/g)) names.add(match[1] as string);
  }
  return names;
}

describe('the production pages list every metric', () => {
  test('every family hserver, userver and a supervisor export is in the English and the Korean table', async () => {
    const hserver = await startServer('hserver', [
      '--host',
      '127.0.0.1',
      '--proxy-protocol',
      '--trusted-proxy',
      '127.0.0.1/32',
      '--metrics',
      '0',
      '0',
    ]);
    const tcpText = await (await fetch(metricsUrl(hserver))).text();
    assert.equal((await hserver.stop()).code, 0);
    const userver = await startServer('userver', ['--host', '127.0.0.1', '--metrics', '0', '0']);
    const udpText = await (await fetch(metricsUrl(userver))).text();
    assert.equal((await userver.stop()).code, 0);
    // A supervisor's families (--workers) come from the same formatter, with the workers' snapshots.
    const workerTexts = (['tcp', 'udp'] as const).map((transport) =>
      formatMetrics({
        program: 'hserver',
        version: '0',
        startTime: 0,
        total: stats({ transport }),
        workers: [stats({ transport, worker: 1 })],
      }),
    );
    const exported = new Set([tcpText, udpText, ...workerTexts].flatMap(familyNames));
    assert.ok(exported.has('socket_steps_replies_in_flight'), [...exported].join(' '));
    const page = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
    for (const [label, names] of [
      ['English (docs/production.md)', tableNames(page('docs/production.md'), 'metric')],
      ['Korean (docs/ko/production.md)', tableNames(page('docs/ko/production.md'), '지표')],
    ] as const) {
      const missing = [...exported].filter((name) => !names.has(name));
      assert.deepEqual(missing, [], `the ${label} metrics table lacks these`);
    }
  });
});
