/**
 * Every signal whose default action would end a program: taken as SIGTERM is (graceful close),
 * with one line naming it and exit 128 + its number; a --workers supervisor forwards the stop and
 * waits for its workers, and kills and replaces a worker that stopped answering (SIGSTOP).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { describe, test } from 'node:test';
import { fetchHello } from '../../src/index.js';
import { childPids } from '../helpers/proc-net.js';
import { binPath, runBin, startServer, testEnv } from '../helpers/process.js';
import { peerServer, rawConnect, readLine } from '../helpers/raw.js';
import { until } from '../helpers/wait.js';

// Every signal whose default action ends a process and that Node lets a program handle, besides
// SIGINT, SIGTERM, SIGHUP (tested with the programs) and SIGUSR1 (the stats).
const OTHER_ENDING_SIGNALS = [
  'SIGQUIT',
  'SIGUSR2',
  'SIGALRM',
  'SIGVTALRM',
  'SIGPROF',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGPWR',
  'SIGIO',
  'SIGSTKFLT',
] as const;

const code = (signal: NodeJS.Signals) => 128 + (constants.signals[signal] as number);

describe('signals that would end a program', { timeout: 120_000 }, () => {
  test('hserver: each one closes it as SIGTERM does, one line, exit 128 + N', async () => {
    for (const signal of OTHER_ENDING_SIGNALS) {
      const server = await startServer('hserver', ['--host', '127.0.0.1', '0']);
      const exit = await server.stop(signal);
      assert.deepEqual(exit, { code: code(signal), signal: null }, signal);
      assert.equal(
        server.stderr().split('\n').slice(1).join('\n'),
        `hserver: ${signal} received: closing as on SIGTERM (exit ${code(signal)})\n`,
      );
    }
  });

  test('hserver --service echo: a session in flight finishes after SIGUSR2, then exit 140', async () => {
    const server = await startServer('hserver', ['--service', 'echo', '--host', '127.0.0.1', '0']);
    const socket = await rawConnect(server.port);
    socket.write('before\n');
    assert.equal(await readLine(socket), 'before');
    const exited = server.exited();
    server.child.kill('SIGUSR2');
    await until(() => /SIGUSR2 received/.test(server.stderr()), 'the SIGUSR2 line');
    socket.write('after\n');
    assert.equal(await readLine(socket), 'after');
    socket.end();
    assert.deepEqual(await exited, { code: 140, signal: null });
  });

  test('userver: SIGQUIT closes it, exit 131', async () => {
    const server = await startServer('userver', ['--host', '127.0.0.1', '0']);
    assert.deepEqual(await server.stop('SIGQUIT'), { code: 131, signal: null });
    assert.match(server.stderr(), /\nuserver: SIGQUIT received: closing as on SIGTERM \(exit 131\)\n$/);
  });

  test('hclient waiting in read(): SIGUSR2 ends it with one line, exit 140', async (t) => {
    let connected!: () => void;
    const arrived = new Promise<void>((resolve) => {
      connected = resolve;
    });
    const port = await peerServer(t, () => connected()); // accepts, never writes
    const client = spawn(binPath('hclient'), ['--timeout', '30', '127.0.0.1', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: testEnv(),
    });
    let stderr = '';
    client.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const closed = once(client, 'close');
    const timer = setTimeout(() => client.kill('SIGKILL'), 15_000);
    await arrived;
    client.kill('SIGUSR2');
    const [exit, signal] = (await closed) as [number | null, string | null];
    clearTimeout(timer);
    assert.deepEqual(
      { exit, signal, stderr },
      { exit: 140, signal: null, stderr: 'hclient: SIGUSR2 received: stopping as on SIGTERM (exit 140)\n' },
    );
  });

  test('hserver --workers 2: SIGUSR2 stops the workers first, then the supervisor exits 140', async () => {
    const server = await startServer('hserver', ['--workers', '2', '--host', '127.0.0.1', '0']);
    const workers = childPids(server.child.pid as number);
    assert.equal(workers.length, 2);
    assert.deepEqual(await server.stop('SIGUSR2'), { code: 140, signal: null });
    // The supervisor waited for them: none is left once it has exited.
    for (const pid of workers) assert.equal(existsSync(`/proc/${pid}`), false, `worker ${pid} outlived it`);
  });

  test('hserver --workers 2: a supervisor killed outright leaves no worker behind', async () => {
    const server = await startServer('hserver', ['--workers', '2', '--host', '127.0.0.1', '0']);
    const workers = childPids(server.child.pid as number);
    await server.stop('SIGKILL');
    await until(() => workers.every((pid) => !existsSync(`/proc/${pid}`)), 'the workers to exit', 5000);
  });

  test('the help names the signals', async () => {
    const help = (await runBin('hserver', ['--help'])).stdout.toString();
    assert.match(help, /SIGQUIT, SIGUSR2/);
  });
});

describe('a hung worker', { timeout: 60_000 }, () => {
  test('kill -STOP on a worker: killed and replaced within the heartbeat timeout; every client served', async (t) => {
    const server = await startServer('hserver', ['--workers', '2', '--host', '127.0.0.1', '0']);
    t.after(() => server.stop('SIGKILL'));
    const [stopped] = childPids(server.child.pid as number) as [number];
    process.kill(stopped, 'SIGSTOP');
    t.after(() => {
      if (existsSync(`/proc/${stopped}`)) process.kill(stopped, 'SIGKILL');
    });
    await until(
      () =>
        new RegExp(`worker ${stopped} answered nothing for \\d+\\.\\d s; killed it`).test(server.stderr()),
      'the hung worker to be replaced',
      8000,
    );
    await until(
      () => childPids(server.child.pid as number).length === 2 && !existsSync(`/proc/${stopped}`),
      'two live workers again',
    );
    // Wait until the replacement listens (the supervisor's own line comes only on start-up).
    await until(async () => {
      const replies = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetchHello({ host: '127.0.0.1', port: server.port, timeout: 1000 }).then(
            () => true,
            () => false,
          ),
        ),
      );
      return replies.every(Boolean);
    }, 'ten clients in a row served');
    const lines = server.stderr().split('\n').filter(Boolean);
    assert.equal(lines.filter((l) => l.includes(String(stopped))).length, 1, 'one line for the hung worker');
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});
