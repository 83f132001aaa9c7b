import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { buildProgram } from '../../c/build.js';
import { createHelloServer } from '../../src/index.js';
import { binPath, listeningPort, runBin, startServer, testEnv } from '../helpers/process.js';
import { until } from '../helpers/wait.js';

describe('hbench', () => {
  test('against hserver: a report with rate, latency and no errors, exit 0', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const result = await runBin('hbench', ['-c', '8', '-n', '400', '127.0.0.1', String(server.port)]);
    const text = result.stdout.toString();
    assert.equal(result.code, 0, result.stderr);
    assert.match(text, /^hbench: 127\.0\.0\.1:\d+ hello, concurrency 8, [\d.]+ s\n/);
    assert.match(text, /connections {2}400 ok, 0 failed \(400 started\)/);
    assert.match(text, /rate {9}\d+ connections\/s/);
    assert.match(text, /latency {6}p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms/);
    assert.match(text, /errors {7}none/);
    assert.equal(result.stderr, '', 'no progress bar when stderr is not a terminal');
  });

  test('-j 2: two event loops share the connections, one report', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const port = String(server.port);
    const text = await runBin('hbench', ['-j', '2', '-c', '8', '-n', '401', '127.0.0.1', port]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout.toString(),
      /^hbench: 127\.0\.0\.1:\d+ hello, concurrency 8, 2 threads, [\d.]+ s\n/,
    );
    assert.match(text.stdout.toString(), /connections {2}401 ok, 0 failed \(401 started\)/);
    const json = await runBin('hbench', [
      '--json',
      '--threads',
      '3',
      '-c',
      '6',
      '-n',
      '90',
      '127.0.0.1',
      port,
    ]);
    const parsed = JSON.parse(json.stdout.toString()) as Record<string, unknown>;
    assert.equal(parsed.threads, 3);
    assert.equal(parsed.ok, 90);
    assert.equal(json.code, 0);
  });

  test('SIGINT and SIGTERM stop a run early: the report so far, exit 130 and 143, on one loop or two', async (t) => {
    const server = createHelloServer({ host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { port } = await server.listen();
    const cases: Array<{ signal: NodeJS.Signals; code: number; args: string[] }> = [
      { signal: 'SIGINT', code: 130, args: ['-c', '4'] },
      { signal: 'SIGTERM', code: 143, args: ['-j', '2', '-c', '4', '--json'] },
    ];
    for (const { signal, code, args } of cases) {
      const before = server.accepted;
      const child = spawn(binPath('hbench'), [...args, '-d', '60', '127.0.0.1', String(port)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: testEnv(),
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      t.after(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      // Running: the server has served a good number of its connections.
      await until(() => server.accepted - before >= 200, 'hbench to load the server');
      child.kill(signal);
      const [exitCode] = await exited;
      assert.equal(exitCode, code, signal);
      if (args.includes('--json')) {
        const json = JSON.parse(out) as { ok: number; failed: number; threads: number };
        assert.equal(json.threads, 2);
        assert.ok(json.ok >= 100, `${json.ok} exchanges reported`);
        assert.equal(json.failed, 0, 'connections in flight are dropped, not counted as failed');
      } else {
        assert.match(out, /connections {2}\d+ ok, 0 failed, \d+ in flight when stopped \(\d+ started\)/);
      }
    }
  });

  test('interrupted against a server that accepts and never answers: in flight, no answer, the real elapsed time', async (t) => {
    // A raw server: accepts, reads nothing, writes nothing.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const { port } = silent.address() as AddressInfo;
    let accepted = 0;
    silent.on('connection', () => accepted++);

    const interrupt = async (args: string[], ready: () => boolean, holdMs: number) => {
      const spawned = performance.now();
      const child = spawn(binPath('hbench'), [...args, '-d', '60', '127.0.0.1', String(port)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: testEnv(),
      });
      t.after(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      await until(ready, 'hbench to connect');
      // The interval the report must account for: nothing completes in it (not a synchronisation).
      if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
      child.kill('SIGINT');
      const [code] = await exited;
      assert.equal(code, 130);
      return { out, wallSeconds: (performance.now() - spawned) / 1000 };
    };

    // 1.5 s with 4 connections waiting and none answered (the first case).
    accepted = 0;
    const first = await interrupt(['-c', '4', '--timeout', '30'], () => accepted >= 4, 1500);
    const head = /^hbench: 127\.0\.0\.1:\d+ hello, concurrency 4, ([\d.]+) s \(interrupted\)\n/.exec(
      first.out,
    );
    assert.ok(head, first.out);
    const seconds = Number(head[1]);
    assert.ok(
      seconds >= 1.5 && seconds <= first.wallSeconds,
      `${seconds} s reported, ${first.wallSeconds} s wall`,
    );
    assert.match(first.out, /\n {2}connections {2}0 ok, 0 failed, 4 in flight when stopped \(4 started\)\n/);
    assert.match(
      first.out,
      /\n {2}errors {7}none\n {2}no answer {4}4 got no byte from the server \(4 in flight when stopped\)\n$/,
    );

    // Timeouts, then more in flight, on two threads, as JSON (the second case).
    accepted = 0;
    const second = await interrupt(
      ['-j', '2', '-c', '4', '--timeout', '0.3', '--json'],
      () => accepted >= 12,
      0,
    );
    const json = JSON.parse(second.out) as {
      started: number;
      ok: number;
      failed: number;
      interrupted: boolean;
      inFlight: number;
      noAnswer: { timedOut: number; inFlight: number };
      errors: Record<string, number>;
      seconds: number;
    };
    assert.equal(json.interrupted, true);
    assert.equal(json.ok, 0);
    assert.equal(json.inFlight, 4, 'the 4 connections open at the stop');
    assert.ok(json.failed >= 8, `${json.failed} timed out`);
    assert.deepEqual(json.errors, { timeout: json.failed });
    assert.equal(json.started, json.failed + json.inFlight);
    assert.deepEqual(json.noAnswer, { timedOut: json.failed, inFlight: 4 });
    assert.ok(json.seconds >= 0.6 && json.seconds <= second.wallSeconds, `${json.seconds} s`);
  });

  test('--json against the C hello server', async (t) => {
    const child = spawn(buildProgram('hello_server'), ['0'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    // If anything below fails, the C server would wait for a client forever: end it (by PID).
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const port = await listeningPort(child.pid as number);
    const result = await runBin('hbench', ['--json', '-c', '1', '-n', '1', '127.0.0.1', String(port)]);
    await exited;
    const json = JSON.parse(result.stdout.toString()) as Record<string, unknown>;
    assert.equal(json.ok, 1);
    assert.equal(json.failed, 0);
    assert.equal(json.service, 'hello');
    assert.ok(typeof json.connectionsPerSecond === 'number');
    assert.equal(result.code, 0);
  });

  test('--service discard and qotd: every exchange checked, on one loop and two; a wrong quote is bad-payload', async (t) => {
    const discard = await startServer('hserver', ['--service', 'discard', '--host', '127.0.0.1', '0']);
    t.after(() => discard.stop());
    for (const threads of ['1', '2']) {
      const result = await runBin('hbench', [
        '--service',
        'discard',
        '--message',
        'x'.repeat(10_000),
        '-j',
        threads,
        '-c',
        '4',
        '-n',
        '200',
        '127.0.0.1',
        String(discard.port),
      ]);
      assert.equal(result.code, 0, result.stdout.toString() + result.stderr);
      assert.match(result.stdout.toString(), /^hbench: 127\.0\.0\.1:\d+ discard, concurrency 4/);
      assert.match(result.stdout.toString(), /connections {2}200 ok, 0 failed/);
    }
    const qotd = await startServer('hserver', ['--service', 'qotd', '--host', '127.0.0.1', '0']);
    t.after(() => qotd.stop());
    const right = await runBin('hbench', ['--service', 'qotd', '-n', '100', '127.0.0.1', String(qotd.port)]);
    assert.equal(right.code, 0, right.stdout.toString());
    assert.match(right.stdout.toString(), /connections {2}100 ok, 0 failed/);
    const wrong = await runBin('hbench', [
      '--service',
      'qotd',
      '--message',
      'Not this one.',
      '-n',
      '5',
      '127.0.0.1',
      String(qotd.port),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout.toString(), /errors {7}bad-payload 5/);
    // A discard exchange against a server that answers is bad-payload too: nothing may come back.
    const hello = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => hello.stop());
    const answered = await runBin('hbench', [
      '--service',
      'discard',
      '-n',
      '5',
      '127.0.0.1',
      String(hello.port),
    ]);
    assert.equal(answered.code, 1);
    assert.match(answered.stdout.toString(), /errors {7}bad-payload 5/);
  });

  test('a wrong expected message: bad-payload counted, exit 1', async (t) => {
    const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
    t.after(() => server.stop());
    const result = await runBin('hbench', [
      '--message',
      'Goodbye',
      '-n',
      '5',
      '127.0.0.1',
      String(server.port),
    ]);
    assert.match(result.stdout.toString(), /errors {7}bad-payload 5/);
    assert.match(result.stdout.toString(), /latency {6}n\/a \(no exchange completed\)/);
    assert.equal(result.code, 1);
  });

  test('a host name that does not resolve: one line saying so, as hclient does, exit 1', async () => {
    // The same reserved name the hclient test uses: the resolver answers that it does not exist.
    const result = await runBin('hbench', ['-n', '5', 'no-such-host.invalid', '9190']);
    assert.match(result.stderr, /^hbench: cannot resolve 'no-such-host\.invalid': .*\n$/);
    assert.equal(result.stdout.length, 0);
    assert.equal(result.code, 1);
  });

  test('usage and option errors', async () => {
    const usage = await runBin('hbench', ['127.0.0.1']);
    assert.equal(usage.stdout.toString(), 'Usage : hbench <IP> <port>\n');
    assert.equal(usage.code, 1);
    const port = await runBin('hbench', ['127.0.0.1', 'x']);
    assert.match(port.stderr, /^connect\(\) error! invalid port 'x'/);
    const service = await runBin('hbench', ['--service', 'ftp', '127.0.0.1', '1']);
    assert.equal(
      service.stderr,
      "hbench: invalid --service 'ftp': expected hello, echo, greet, discard, qotd\n",
    );
    const noNul = await runBin('hbench', ['--service', 'echo', '--no-nul', '127.0.0.1', '1']);
    assert.equal(noNul.stderr, 'hbench: --no-nul applies to --service hello, not echo\n');
    const greetMessage = await runBin('hbench', ['--service', 'greet', '--message', 'x', '127.0.0.1', '1']);
    assert.match(
      greetMessage.stderr,
      /^hbench: --message applies to --service hello, echo, discard or qotd, not greet\n$/,
    );
    const longQuote = await runBin('hbench', [
      '--service',
      'qotd',
      '--message',
      'q'.repeat(600),
      '127.0.0.1',
      '1',
    ]);
    assert.match(longQuote.stderr, /^hbench: .*512/);
    for (const r of [noNul, greetMessage, longQuote]) assert.equal(r.code, 1);
    const concurrency = await runBin('hbench', ['-c', '0', '127.0.0.1', '1']);
    assert.match(concurrency.stderr, /^hbench: invalid --concurrency '0'/);
    const threads = await runBin('hbench', ['-j', '65', '127.0.0.1', '1']);
    assert.match(threads.stderr, /^hbench: invalid --threads '65'/);
    for (const r of [port, service, concurrency, threads]) assert.equal(r.code, 1);
  });
});
