/**
 * `--view-allow-host` and `--metrics-allow-host`: the names the view and the metrics answer besides
 * their own (repeatable, comma-separated), every other Host refused with 403, and bad values
 * refused in one line with exit 1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runBin, startServer } from '../helpers/process.js';
import { request, VIEW_READY } from '../helpers/view.js';

const status = async (url: string, host: string): Promise<number> =>
  (await request(url, { headers: { host } })).status;

describe('--view-allow-host and --metrics-allow-host', () => {
  test('hserver: the names given are answered, each listener its own, others get 403', async (t) => {
    const server = await startServer(
      'hserver',
      [
        '--host',
        '127.0.0.1',
        '--view',
        '0',
        '--view-allow-host',
        'view.example,second.example',
        '--view-allow-host',
        'THIRD.example',
        '--metrics',
        '127.0.0.1:0',
        '--metrics-allow-host',
        'metrics.example',
        '0',
      ],
      { readyPattern: VIEW_READY },
    );
    t.after(() => server.stop());
    const view = Number(/view on http:\/\/[^/]*:(\d+)\//.exec(server.stderr())?.[1]);
    const metrics = Number(/metrics on http:\/\/[^/]*:(\d+)\//.exec(server.stderr())?.[1]);
    const viewUrl = `http://127.0.0.1:${view}/state`;
    const metricsUrl = `http://127.0.0.1:${metrics}/metrics`;
    for (const name of ['view.example', 'second.example', 'third.example', 'localhost']) {
      assert.equal(await status(viewUrl, `${name}:${view}`), 200, name);
    }
    assert.equal(await status(viewUrl, `metrics.example:${view}`), 403);
    assert.equal(await status(viewUrl, `www.view.example:${view}`), 403);
    assert.equal(await status(metricsUrl, `metrics.example:${metrics}`), 200);
    assert.equal(await status(metricsUrl, `view.example:${metrics}`), 403);
    assert.equal(await status(metricsUrl, `evil.example:${metrics}`), 403);
    assert.equal((await server.stop()).code, 0);
  });

  test('bad names, and the option without its listener, are one line and exit 1', async () => {
    const cases: Array<[string, string[], RegExp]> = [
      [
        'hserver',
        ['--view', '0', '--view-allow-host', 'a.example:80', '0'],
        /^hserver: invalid --view-allow-host 'a\.example:80': expected a host name or an IP address, without a port/,
      ],
      [
        'hserver',
        ['--view', '0', '--view-allow-host', 'a.example,,b.example', '0'],
        /^hserver: invalid --view-allow-host '': /,
      ],
      [
        'hserver',
        ['--view', '0', '--view-allow-host', '*.example', '0'],
        /^hserver: invalid --view-allow-host '\*\.example'/,
      ],
      ['hserver', ['--view-allow-host', 'a.example', '0'], /^hserver: --view-allow-host needs --view\n$/],
      [
        'userver',
        ['--metrics-allow-host', 'a.example', '0'],
        /^userver: --metrics-allow-host needs --metrics\n$/,
      ],
      [
        'userver',
        ['--metrics', '0', '--metrics-allow-host', 'user@a.example', '0'],
        /^userver: invalid --metrics-allow-host 'user@a\.example'/,
      ],
    ];
    for (const [program, args, message] of cases) {
      const result = await runBin(program, args);
      assert.equal(result.code, 1, `${program} ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.split('\n').length, 2, result.stderr);
    }
  });

  test('the help names both options', async () => {
    for (const program of ['hserver', 'userver']) {
      const help = (await runBin(program, ['--help'])).stdout.toString();
      assert.match(help, /--view-allow-host NAME\[,NAME\.\.\.\]/);
      assert.match(help, /--metrics-allow-host NAME\[,NAME\.\.\.\]/);
    }
  });
});
