import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { runLoad, scripts } from '../../src/bench/load.js';
import { createHelloServer, encodeHello } from '../../src/index.js';
import { ROOT, testEnv } from '../helpers/process.js';
import { freePort, peerServer } from '../helpers/raw.js';

const HELLO = scripts.hello(encodeHello('Hello World!'));

describe('runLoad', () => {
  test('hello: every exchange ok, counted and timed', async (t) => {
    const server = createHelloServer({ host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { port } = await server.listen();
    const result = await runLoad({ host: '127.0.0.1', port, concurrency: 8, requests: 500, script: HELLO });
    assert.equal(result.started, 500);
    assert.equal(result.ok, 500);
    assert.equal(result.failed, 0);
    assert.equal(result.latency.count, 500);
    assert.ok(result.perSecond > 0);
    assert.equal(server.accepted, 500);
  });

  test('IPv6 and a duration bound', async (t) => {
    const server = createHelloServer({ host: '::1', port: 0 });
    t.after(() => server.close());
    const { port } = await server.listen();
    const result = await runLoad({ host: '::1', port, concurrency: 4, duration: 200, script: HELLO });
    assert.ok(result.ok > 0);
    assert.equal(result.failed, 0);
    assert.equal(result.ok, result.started);
  });

  test('a wrong payload is bad-payload, a short one closed-early', async (t) => {
    const wrong = await peerServer(t, (s) => s.end('Hello World?\0'));
    const short = await peerServer(t, (s) => s.end('Hello'));
    const longer = await peerServer(t, (s) => s.end('Hello World!\0extra'));
    const a = await runLoad({ host: '127.0.0.1', port: wrong, concurrency: 2, requests: 10, script: HELLO });
    const b = await runLoad({ host: '127.0.0.1', port: short, concurrency: 2, requests: 10, script: HELLO });
    const c = await runLoad({ host: '127.0.0.1', port: longer, concurrency: 2, requests: 10, script: HELLO });
    assert.deepEqual(a.errors, { 'bad-payload': 10 });
    assert.deepEqual(b.errors, { 'closed-early': 10 });
    assert.deepEqual(c.errors, { 'bad-payload': 10 });
    assert.equal(a.ok + b.ok + c.ok, 0);
  });

  test('a server that never answers: timeouts, and the run still ends', async (t) => {
    const port = await peerServer(t, () => {});
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 3,
      requests: 3,
      timeout: 100,
      script: HELLO,
    });
    assert.deepEqual(result.errors, { timeout: 3 });
  });

  test('nothing listening: refused', async () => {
    const port = await freePort();
    const result = await runLoad({ host: '127.0.0.1', port, concurrency: 2, requests: 4, script: HELLO });
    assert.deepEqual(result.errors, { refused: 4 });
  });

  test('echo and greet scripts drive a scripted peer', async (t) => {
    const echo = await peerServer(t, (s) => s.pipe(s));
    const greet = await peerServer(t, (s) => {
      let seen = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        seen += d;
        if (seen === "Hi. I'm Bob.\n") s.write("Hi, Bob. I'm Jane\n");
        if (seen.endsWith('Nice to meet you, Jane.\n')) s.end();
      });
    });
    const a = await runLoad({
      host: '127.0.0.1',
      port: echo,
      concurrency: 4,
      requests: 20,
      script: scripts.echo(Buffer.alloc(100_000, 7)),
    });
    const b = await runLoad({
      host: '127.0.0.1',
      port: greet,
      concurrency: 4,
      requests: 20,
      script: scripts.greet(),
    });
    assert.equal(a.ok, 20, JSON.stringify(a.errors));
    assert.equal(b.ok, 20, JSON.stringify(b.errors));
  });

  test('needs a bound', () => {
    assert.throws(
      () => runLoad({ host: '127.0.0.1', port: 1, concurrency: 1, script: HELLO }),
      /stops by itself/,
    );
  });

  test('an AbortSignal ends the run', async (t) => {
    const port = await peerServer(t, () => {});
    const controller = new AbortController();
    const running = runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 2,
      duration: 60_000,
      timeout: 60_000,
      script: HELLO,
      signal: controller.signal,
    });
    setImmediate(() => controller.abort());
    const result = await running;
    assert.equal(result.ok, 0);
    // What was in flight is reported, not dropped from the counts.
    assert.equal(result.interrupted, true);
    assert.equal(result.started, 2);
    assert.equal(result.inFlight, 2);
    assert.deepEqual(result.noAnswer, { timedOut: 0, inFlight: 2 });
  });
});

describe('runLoad on several event loops (worker threads)', () => {
  test('the requests are shared out exactly, and the results merged', async (t) => {
    const server = createHelloServer({ host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { port } = await server.listen();
    const progress: number[] = [];
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 5,
      threads: 3,
      requests: 1000,
      progressInterval: 10,
      onProgress: (p) => progress.push(p.started),
      script: HELLO,
    });
    assert.equal(result.threads, 3);
    assert.equal(result.concurrency, 5);
    assert.equal(result.started, 1000);
    assert.equal(result.ok, 1000);
    assert.equal(result.failed, 0);
    assert.equal(result.latency.count, 1000);
    assert.ok(result.latency.percentile(99) >= result.latency.percentile(50));
    assert.ok(result.perSecond > 0);
    assert.equal(server.accepted, 1000);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'the summed progress never goes back',
    );
    assert.ok(progress.every((n) => n <= 1000));
  });

  test('never more threads than connections', async (t) => {
    const server = createHelloServer({ host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { port } = await server.listen();
    const a = await runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 2,
      threads: 8,
      requests: 50,
      script: HELLO,
    });
    const b = await runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 8,
      threads: 4,
      requests: 1,
      script: HELLO,
    });
    assert.equal(a.threads, 2);
    assert.equal(a.ok, 50);
    assert.equal(b.threads, 1);
    assert.equal(b.ok, 1);
  });

  test('failures are counted by kind across threads; scripts with bytes to send cross intact', async (t) => {
    const wrong = await peerServer(t, (s) => s.end('Hello World?\0'));
    const echo = await peerServer(t, (s) => s.pipe(s));
    const refusedPort = await freePort();
    const host = '127.0.0.1';
    const bad = await runLoad({ host, port: wrong, concurrency: 4, threads: 2, requests: 10, script: HELLO });
    const refused = await runLoad({
      host,
      port: refusedPort,
      concurrency: 4,
      threads: 2,
      requests: 6,
      script: HELLO,
    });
    const echoed = await runLoad({
      host,
      port: echo,
      concurrency: 4,
      threads: 2,
      requests: 20,
      script: scripts.echo(Buffer.alloc(100_000, 7)),
    });
    assert.deepEqual(bad.errors, { 'bad-payload': 10 });
    assert.deepEqual(refused.errors, { refused: 6 });
    assert.equal(echoed.ok, 20, JSON.stringify(echoed.errors));
  });

  test('an AbortSignal ends every thread', async (t) => {
    const port = await peerServer(t, () => {});
    const controller = new AbortController();
    const running = runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 4,
      threads: 2,
      duration: 60_000,
      timeout: 60_000,
      progressInterval: 10,
      onProgress: () => controller.abort(),
      script: HELLO,
      signal: controller.signal,
    });
    const result = await running;
    assert.equal(result.ok, 0);
    assert.equal(result.threads, 2);
  });

  test('an abort while the threads start ends the run at once, with nothing done', async (t) => {
    const port = await peerServer(t, () => {});
    const controller = new AbortController();
    const begin = performance.now();
    const running = runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 8,
      threads: 8,
      duration: 60_000,
      script: HELLO,
      signal: controller.signal,
    });
    controller.abort();
    const result = await running;
    assert.equal(result.started, 0);
    assert.equal(result.threads, 8);
    assert.ok(performance.now() - begin < 1000, 'it does not wait for the threads to start');
    const early = new AbortController();
    early.abort();
    const none = await runLoad({
      host: '127.0.0.1',
      port,
      concurrency: 2,
      threads: 2,
      requests: 10,
      script: HELLO,
      signal: early.signal,
    });
    assert.equal(none.started, 0);
  });

  test('threads start whatever Node.js options the process runs with', async () => {
    // Code from the command line as a module, with options a thread may not be given itself.
    const library = pathToFileURL(`${ROOT}dist/src/`).href;
    const code = [
      `const { runLoad, scripts } = await import('${library}bench/load.js');`,
      `const { createHelloServer, encodeHello } = await import('${library}index.js');`,
      "const server = createHelloServer({ host: '127.0.0.1', port: 0 });",
      'const { port } = await server.listen();',
      "const script = scripts.hello(encodeHello('Hello World!'));",
      "const r = await runLoad({ host: '127.0.0.1', port, concurrency: 4, threads: 2, requests: 40, script });",
      'await server.close();',
      'console.log(r.threads, r.ok);',
    ].join('\n');
    const run = promisify(execFile);
    for (const options of [
      ['--input-type=module'],
      ['--stack-trace-limit=20', '--input-type=module'],
      ['--max-old-space-size=256', '--input-type', 'module'],
    ]) {
      const { stdout } = await run(process.execPath, [...options, '-e', code], {
        env: testEnv(),
        timeout: 30_000,
      });
      assert.equal(stdout, '2 40\n', options.join(' '));
    }
  });

  test('a thread count out of range is refused before any thread starts', () => {
    for (const threads of [0, 1.5, 65]) {
      assert.throws(
        () => runLoad({ host: '127.0.0.1', port: 1, concurrency: 1, threads, requests: 1, script: HELLO }),
        /threads/,
      );
    }
  });
});
