/**
 * Debian's xinetd for tests: its built-in services (chargen, daytime, time, discard, echo) in the
 * foreground (`-dontfork`) on free unprivileged loopback ports, as `type = INTERNAL UNLISTED`
 * (see /work/shared/notes: a service must have the built-in's own name). Started and stopped by
 * PID; ready once every socket it was given is in the kernel's tables.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { socketsOf } from './proc-net.js';
import { testEnv } from './process.js';
import { xinetd } from './tools.js';
import { until } from './wait.js';

/** A built-in service of xinetd on one protocol. */
export interface XinetdService {
  name: 'chargen' | 'daytime' | 'time' | 'discard' | 'echo';
  protocol: 'tcp' | 'udp';
}

/** A running xinetd. */
export interface RunningXinetd {
  /** The port of each service, by `name/protocol` (`chargen/tcp`). */
  port(service: XinetdService['name'], protocol: XinetdService['protocol']): number;
  child: ChildProcess;
}

// A port free for TCP and UDP on 127.0.0.1 now: the kernel picks it for TCP, UDP must take it too.
// (xinetd needs a number in its file; another process could take it before xinetd binds, which
// the readiness check below would then report.)
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) return port;
  }
  throw new Error('no port free for both TCP and UDP on 127.0.0.1');
}

/**
 * Starts xinetd with `services` (in UTC, so that its daytime speaks UTC as ours does) and stops it
 * after the test. Waits, bounded, until each socket is bound.
 */
export async function startXinetd(
  t: TestContext,
  services: readonly XinetdService[],
): Promise<RunningXinetd> {
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-xinetd-'));
  const ports = new Map<string, number>();
  const blocks: string[] = [];
  for (const { name, protocol } of services) {
    const port = await freePort();
    ports.set(`${name}/${protocol}`, port);
    const stream = protocol === 'tcp';
    blocks.push(
      [
        `service ${name}`,
        '{',
        '\ttype = INTERNAL UNLISTED',
        `\tid = ${name}-${stream ? 'stream' : 'dgram'}`,
        `\tsocket_type = ${stream ? 'stream' : 'dgram'}`,
        `\tprotocol = ${protocol}`,
        `\tport = ${port}`,
        '\tbind = 127.0.0.1',
        `\twait = ${stream ? 'no' : 'yes'}`,
        `\tuser = ${userInfo().username}`,
        '}',
      ].join('\n'),
    );
  }
  const config = join(dir, 'xinetd.conf');
  writeFileSync(config, `${blocks.join('\n\n')}\n`);
  const child = spawn(xinetd(), ['-dontfork', '-f', config, '-pidfile', join(dir, 'xinetd.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: testEnv({ TZ: 'UTC' }),
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const pid = child.pid as number;
  await until(
    () => {
      if (child.exitCode !== null) throw new Error(`xinetd exited (${child.exitCode}): ${stderr}`);
      return services.every(
        ({ name, protocol }) =>
          socketsOf(
            pid,
            protocol,
            ports.get(`${name}/${protocol}`) as number,
            protocol === 'tcp' ? '0A' : '07',
          ).length > 0,
      );
    },
    `xinetd to bind ${services.map((s) => `${s.name}/${s.protocol}`).join(', ')}`,
    10_000,
  );
  return {
    child,
    port: (name, protocol) => {
      const port = ports.get(`${name}/${protocol}`);
      if (port === undefined) throw new Error(`xinetd was not given ${name}/${protocol}`);
      return port;
    },
  };
}
