/**
 * A program's own output failing: stdout on a full disk (/dev/full) or a pipe its reader closed,
 * stderr the same. The answer's loss is never silent (exit 1 and one line, or 141 for a reader
 * that went away), never a stack trace; a server's failing log never stops it serving.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import {
  createEchoServer,
  createGreetServer,
  createHelloServer,
  createUdpEchoServer,
  fetchHello,
  fetchUdpHello,
} from '../../src/index.js';
import { socketInodes, socketRows } from '../helpers/proc-net.js';
import { binPath, listeningPort, startServer, testEnv } from '../helpers/process.js';
import { readLine } from '../helpers/raw.js';

const FULL_LINE = (program: string) =>
  `${program}: cannot write to standard output: no space left on device (ENOSPC)\n`;

/** Runs a bin with stdout on /dev/full (and stderr too, with `stderrFull`), bounded in time. */
async function runWithFullStdout(
  program: string,
  args: readonly string[],
  { input = '', stderrFull = false }: { input?: string; stderrFull?: boolean } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const full = openSync('/dev/full', 'w');
  try {
    const child = spawn(binPath(program), args, {
      stdio: ['pipe', full, stderrFull ? full : 'pipe'],
      env: testEnv(),
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    return { code, signal, stderr };
  } finally {
    closeSync(full);
  }
}

/** A library server listening on 127.0.0.1:0, closed after the test. */
async function listening<S extends { listen(): Promise<{ port: number }>; close(): Promise<void> }>(
  t: { after(fn: () => Promise<void>): void },
  server: S,
): Promise<number> {
  const { port } = await server.listen();
  t.after(() => server.close());
  return port;
}

describe('stdout on a full disk: one line on stderr and exit 1', { timeout: 60_000 }, () => {
  test('hserver --help and hclient --version', async () => {
    for (const [program, args] of [
      ['hserver', ['--help']],
      ['hclient', ['--version']],
      ['userver', ['--help']],
      ['uclient', ['--version']],
      ['hbench', ['--help']],
    ] as const) {
      const result = await runWithFullStdout(program, args);
      assert.deepEqual(result, { code: 1, signal: null, stderr: FULL_LINE(program) }, `${program} ${args}`);
    }
  });

  test('hclient: hello, greet and echo', async (t) => {
    const hello = await listening(t, createHelloServer({ host: '127.0.0.1', port: 0 }));
    const greet = await listening(t, createGreetServer({ host: '127.0.0.1', port: 0 }));
    const echo = await listening(t, createEchoServer({ host: '127.0.0.1', port: 0 }));
    for (const args of [
      ['127.0.0.1', String(hello)],
      ['--service', 'greet', '127.0.0.1', String(greet)],
      ['--service', 'echo', '127.0.0.1', String(echo)],
    ]) {
      const result = await runWithFullStdout('hclient', args, { input: 'one\ntwo\n' });
      assert.deepEqual(result, { code: 1, signal: null, stderr: FULL_LINE('hclient') }, args.join(' '));
    }
  });

  test('uclient --service echo', async (t) => {
    const echo = await listening(t, createUdpEchoServer({ host: '127.0.0.1', port: 0 }));
    const result = await runWithFullStdout('uclient', ['--service', 'echo', '127.0.0.1', String(echo)], {
      input: 'one\ntwo\n',
    });
    assert.deepEqual(result, { code: 1, signal: null, stderr: FULL_LINE('uclient') });
  });

  test('hbench --json', async (t) => {
    const hello = await listening(t, createHelloServer({ host: '127.0.0.1', port: 0 }));
    const result = await runWithFullStdout('hbench', ['--json', '-n', '5', '127.0.0.1', String(hello)]);
    assert.deepEqual(result, { code: 1, signal: null, stderr: FULL_LINE('hbench') });
  });

  test('stderr full as well: exit 1, nothing to say it with', async (t) => {
    const hello = await listening(t, createHelloServer({ host: '127.0.0.1', port: 0 }));
    const result = await runWithFullStdout('hclient', ['127.0.0.1', String(hello)], { stderrFull: true });
    assert.deepEqual(result, { code: 1, signal: null, stderr: '' });
  });
});

describe('stdout on a pipe its reader closed: quiet, exit 141', { timeout: 60_000 }, () => {
  /** Spawns `hclient ARGS` with stdout on a pipe; resolves with the child once a line came out. */
  async function firstLineThenClose(args: readonly string[], input?: (stdin: NodeJS.WritableStream) => void) {
    const child = spawn(binPath('hclient'), args, { stdio: ['pipe', 'pipe', 'pipe'], env: testEnv() });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdin.on('error', () => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    input?.(child.stdin);
    const [first] = (await once(child.stdout, 'data')) as [Buffer];
    // What `head -1` does once it has its line: closes its end of the pipe.
    child.stdout.destroy();
    return {
      first: first.toString('utf8'),
      child,
      async exited() {
        const [code, signal] = await closed;
        clearTimeout(timer);
        return { code, signal, stderr };
      },
    };
  }

  test('hclient --service greet | head -1', async (t) => {
    // A greet server of the test's own, which answers only after the reader has gone.
    let answer: (() => void) | undefined;
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      void readLine(socket).then(() => {
        answer = () => socket.end("Hi, Bob. I'm Jane\n");
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as { port: number }).port;
    const run = await firstLineThenClose(['--service', 'greet', '127.0.0.1', String(port)]);
    assert.equal(run.first, "[client] Bob: Hi. I'm Bob.\n");
    // The greeting has reached the server by now or soon: answer it once it has.
    while (answer === undefined) await new Promise((r) => setImmediate(r));
    answer();
    assert.deepEqual(await run.exited(), { code: 141, signal: null, stderr: '' });
  });

  test('hclient --service echo | head -1', async (t) => {
    const echo = await listening(t, createEchoServer({ host: '127.0.0.1', port: 0 }));
    let stdin: NodeJS.WritableStream | undefined;
    const run = await firstLineThenClose(['--service', 'echo', '127.0.0.1', String(echo)], (s) => {
      stdin = s;
      s.write('one\n');
    });
    assert.equal(run.first, 'Message from server: one\n');
    stdin?.end('two\nthree\n');
    assert.deepEqual(await run.exited(), { code: 141, signal: null, stderr: '' });
  });
});

/** The UDP port a process has bound, found through /proc; polls, bounded. */
async function udpPort(pid: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const inodes = socketInodes(pid);
    const row = socketRows('udp').find((r) => inodes.has(r.inode));
    if (row !== undefined) return row.localPort;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} bound no UDP socket`);
}

describe('a server whose stderr fails keeps serving', { timeout: 60_000 }, () => {
  for (const program of ['hserver', 'userver'] as const) {
    test(`${program} --trace 2>/dev/full: serves, survives SIGUSR1, stops on SIGTERM with 0`, async () => {
      const full = openSync('/dev/full', 'w');
      const child = spawn(binPath(program), ['--trace', '--host', '127.0.0.1', '0'], {
        stdio: ['ignore', 'ignore', full],
        env: testEnv(),
      });
      closeSync(full);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const exit = once(child, 'exit');
      const pid = child.pid as number;
      const port = program === 'hserver' ? await listeningPort(pid, 10_000) : await udpPort(pid);
      const ask = () =>
        program === 'hserver'
          ? fetchHello({ host: '127.0.0.1', port, timeout: 5000 })
          : fetchUdpHello({ host: '127.0.0.1', port, timeout: 2000 });
      for (let i = 0; i < 3; i++) assert.equal((await ask()).text, 'Hello World!');
      child.kill('SIGUSR1');
      for (let i = 0; i < 2; i++) assert.equal((await ask()).text, 'Hello World!');
      child.kill('SIGTERM');
      assert.deepEqual(await exit, [0, null]);
      clearTimeout(timer);
    });

    test(`${program} --trace whose stderr reader went away: serves, counts the dropped lines`, async () => {
      const server = await startServer(program, [
        '--trace',
        '--metrics',
        '127.0.0.1:0',
        '--host',
        '127.0.0.1',
        '0',
      ]);
      const metrics = /metrics on (http:\/\/\S+\/metrics)\n/.exec(server.stderr())?.[1] as string;
      // The parent read the "listening" line and closed its end of the pipe.
      server.child.stderr?.destroy();
      const ask = () =>
        program === 'hserver'
          ? fetchHello({ host: '127.0.0.1', port: server.port, timeout: 5000 })
          : fetchUdpHello({ host: '127.0.0.1', port: server.port, timeout: 2000 });
      for (let i = 0; i < 5; i++) assert.equal((await ask()).text, 'Hello World!');
      server.child.kill('SIGUSR1');
      assert.equal((await ask()).text, 'Hello World!');
      const text = await (await fetch(metrics)).text();
      const dropped = Number(/^socket_steps_log_lines_dropped_total (\d+)$/m.exec(text)?.[1]);
      assert.ok(dropped >= 5, `dropped lines counted: ${dropped}`);
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    });
  }
});
