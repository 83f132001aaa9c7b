/**
 * hserver behind the real engines, with the PROXY protocol: Debian's HAProxy (v1 and v2, health
 * checks on) and nginx's stream module (v1). They run the very configurations in deploy/, with
 * free loopback ports in place of the examples' 9190-9192, from a temporary directory, and are
 * stopped by PID. .ci/run installs haproxy, nginx and libnginx-mod-stream.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, type StartedServer, startServer } from '../helpers/process.js';
import { freePort, readToEnd } from '../helpers/raw.js';
import { haproxy, needs, nginx, TOOLS } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

/** A deploy/ example with its ports replaced: 9190 the frontend, 9191 and 9192 the backends. */
function deployConfig(
  file: string,
  frontend: number,
  backends: [number, number],
  edit = (s: string) => s,
): string {
  const text = readFileSync(join(ROOT, 'deploy', file), 'utf8');
  for (const port of ['9190', '9191', '9192'])
    assert.ok(text.includes(`127.0.0.1:${port}`), `${file} lost ${port}`);
  return edit(
    text
      .replaceAll('127.0.0.1:9190', `127.0.0.1:${frontend}`)
      .replaceAll('127.0.0.1:9191', `127.0.0.1:${backends[0]}`)
      .replaceAll('127.0.0.1:9192', `127.0.0.1:${backends[1]}`),
  );
}

/** A backend: hserver with the PROXY protocol, trusting loopback's 127.0.0.1 only, tracing. */
function backend(): Promise<StartedServer> {
  return startServer('hserver', [
    '--host',
    '127.0.0.1',
    '--proxy-protocol',
    '--trusted-proxy',
    '127.0.0.1/32',
    '--trace',
    '--metrics',
    '0',
    '0',
  ]);
}

/** A metric's value from a backend's /metrics. */
async function metric(server: StartedServer, series: string): Promise<number> {
  const url = /metrics on (http:\/\/\S+)\n/.exec(server.stderr())?.[1] as string;
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Starts an engine; returns how to stop it (by its PID) and its output. */
function startEngine(command: string, args: string[], cwd: string) {
  const child: ChildProcess = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c));
  child.stderr?.on('data', (c: Buffer) => (output += c));
  const exit = once(child, 'exit');
  return {
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** One client through the balancer: its own port, and what it got. */
async function client(port: number): Promise<{ port: number; reply: string }> {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  const own = socket.localPort as number;
  return { port: own, reply: (await readToEnd(socket)).toString('latin1') };
}

/** The client ports a backend's trace says it served through a proxy. */
function servedPorts(server: StartedServer): number[] {
  return [...server.stderr().matchAll(/accept\(\): #\d+ connection from 127\.0\.0\.1:(\d+) via proxy /g)].map(
    (m) => Number(m[1]),
  );
}

/**
 * Runs `clients` clients through an engine in front of two backends and checks what the issue
 * asks: every client got the greeting, both backends served, each saw its clients' real ports,
 * and the health checks (`expectChecks`) were neither clients nor errors.
 */
async function throughBalancer(
  start: (dir: string, frontend: number, backends: [number, number]) => ReturnType<typeof startEngine>,
  { clients = 20, expectChecks }: { clients?: number; expectChecks: boolean },
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-proxy-'));
  const servers = [await backend(), await backend()] as const;
  const frontend = await freePort();
  const engine = start(dir, frontend, [servers[0].port, servers[1].port]);
  try {
    // The engine is up once its frontend accepts a client that gets the greeting.
    await until(
      async () => (await client(frontend).catch(() => ({ reply: '' }))).reply === 'Hello World!\0',
      `the engine to listen; its output: ${engine.output()}`,
    );
    if (expectChecks) {
      for (const s of servers) {
        await until(
          async () => (await metric(s, 'socket_steps_health_checks_total')) >= 2,
          'two health checks',
        );
      }
    }
    const results = [];
    for (let i = 0; i < clients; i++) results.push(await client(frontend));
    for (const r of results) assert.equal(r.reply, 'Hello World!\0');
    const seen = servers.map(servedPorts);
    for (const ports of seen) assert.ok(ports.length > 0, 'a backend served no one');
    const all = new Set(seen.flat());
    for (const r of results) assert.ok(all.has(r.port), `no backend saw client port ${r.port}`);
    let accepted = 0;
    for (const s of servers) {
      accepted += await metric(s, 'socket_steps_connections_accepted_total');
      assert.doesNotMatch(
        await (await fetch(/metrics on (http:\/\/\S+)\n/.exec(s.stderr())?.[1] as string)).text(),
        /^socket_steps_errors_total\{/m,
        'a backend counted an error',
      );
    }
    // Every client counted (ours, and those that waited for the engine to be up) came through
    // the proxy, named by its header: the health checks are not among them.
    assert.ok(accepted >= clients + 1, `accepted ${accepted}`);
    assert.equal(seen.flat().length, accepted, 'a health check was counted as a client');
  } finally {
    await engine.stop();
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('behind HAProxy (deploy/haproxy/haproxy.cfg)', needs(TOOLS.haproxy), () => {
  const run =
    (edit: (config: string) => string) => (dir: string, frontend: number, backends: [number, number]) => {
      const config = join(dir, 'haproxy.cfg');
      // Checks every 200 ms instead of 2 s, so that the test sees some.
      writeFileSync(
        config,
        deployConfig('haproxy/haproxy.cfg', frontend, backends, (s) =>
          edit(s).replaceAll('inter 2s', 'inter 200ms'),
        ),
      );
      return startEngine(haproxy(), ['-db', '-f', config], dir);
    };

  test('send-proxy-v2 with check: every client served, by both backends, real ports seen, checks apart', async () => {
    await throughBalancer(
      run((s) => s),
      { expectChecks: true },
    );
  });

  test('send-proxy (v1) with check: the same', async () => {
    await throughBalancer(
      run((s) => s.replaceAll('send-proxy-v2', 'send-proxy')),
      { expectChecks: true },
    );
  });
});

describe('behind nginx (deploy/nginx/nginx.conf)', needs(TOOLS.nginx), () => {
  test('stream with proxy_protocol on: every client served, by both backends, real ports seen', async () => {
    await throughBalancer(
      (dir, frontend, backends) => {
        writeFileSync(join(dir, 'nginx.conf'), deployConfig('nginx/nginx.conf', frontend, backends));
        // In the foreground, so that the PID we stop is nginx's master.
        return startEngine(
          nginx(),
          ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'],
          dir,
        );
      },
      { expectChecks: false },
    );
  });
});

describe('a host that is not a trusted proxy', () => {
  test('its forged header, straight to the backend, is not believed and gets nothing', async () => {
    const server = await backend();
    try {
      // The server resets it, maybe before connect() returns here: no waiting for 'connect'.
      const socket = connect({ port: server.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      const reply = readToEnd(socket).catch(() => Buffer.alloc(0));
      socket.write('PROXY TCP4 6.6.6.6 127.0.0.1 6666 9190\r\n');
      assert.equal((await reply).length, 0);
      await until(
        async () =>
          (await metric(server, 'socket_steps_proxy_header_failures_total{reason="untrusted"}')) === 1,
        'the refusal to be counted',
      );
      assert.doesNotMatch(server.stderr(), /6\.6\.6\.6/);
      assert.match(server.stderr(), /127\.0\.0\.2 is not a trusted proxy/);
      assert.equal(await metric(server, 'socket_steps_connections_accepted_total'), 1);
    } finally {
      await server.stop();
    }
  });
});
