/**
 * `npm run bench`: the figures of docs/performance.md (and the README's summary), measured on
 * this machine side by side with the project's C programs (c/), all built here with gcc. Loopback
 * only, every run bounded.
 *
 *   npm run bench                                  # 3 rounds of 3 s per figure, a few minutes
 *   BENCH_DURATION=5 BENCH_ROUNDS=5 npm run bench  # longer, steadier
 *   BENCH_SHORT=1 npm run bench                    # 1 round of 1 s: CI's informational run
 *   BENCH_ONLY=view npm run bench                  # only the named sections (comma-separated:
 *                                                  # hello workers cpu echo hex udp memory startup tools tls unix view)
 *
 * Rounds alternate C, ours, C, ours ... so that drift of a shared machine hits both alike; each
 * figure is the median of its rounds. Prints markdown tables and, last, one line of ratios.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { arch, availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { buildProgram, ROOT } from '../c/build.js';
import { runLoad } from '../src/bench/load.js';
import { createSelfSignedCredentials } from '../src/transport/tls-certificate.js';
import { findSs } from '../src/view/kernel-reader.js';
import { freePort } from '../test/helpers/raw.js';
import { CHROMIUM_ARGS, chromiumPath } from '../test/helpers/view.js';
import {
  childrenNamed,
  cpuMicros,
  endWithRun,
  HOST,
  keyValues,
  type Server,
  startPrinting,
  startServer,
  startViewed,
  stopServer,
  treeCpuMicros,
} from './servers.js';

const run = promisify(execFile);
const short = process.env.BENCH_SHORT === '1';
const duration = Number(process.env.BENCH_DURATION ?? (short ? 1 : 3));
const rounds = Number(process.env.BENCH_ROUNDS ?? (short ? 1 : 3));
const node = process.execPath;
const bin = (name: string) => `${ROOT}bin/${name}`;

/** One run of the C load generator: its key=value line as numbers. */
async function loadgen(port: number, concurrency: number): Promise<Record<string, number>> {
  const args = ['-h', HOST, '-p', String(port), '-c', String(concurrency), '-n', '100000000'];
  args.push('-d', String(duration), '-t', String(duration + 10));
  return keyValues(buildProgram('loadgen'), args, duration + 20);
}

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
// A time the page never reached within its limit reads as such.
const shownMs = (ms: number) => (ms === Number.POSITIVE_INFINITY ? `> ${fmt(SHOWN_TIMEOUT_MS)}` : fmt(ms));
const ratio = (ours: number, c: number) => (c > 0 && Number.isFinite(ours) ? ours / c : Number.NaN);

const ratios: string[] = [];
const report: string[] = [];
function print(line = ''): void {
  console.log(line);
  report.push(line);
}

/** Hello connection rate of `ours` against the C reference, alternating rounds, per concurrency. */
async function helloRate(title: string, key: string, ours: string[], concurrencies: number[]): Promise<void> {
  print(`## ${title}`);
  print();
  const c = await startServer(buildProgram('hello_server_loop'), ['{PORT}', '4096']);
  const o = await startServer(node, ours);
  print('| c | C cps | ours cps | ours / C | C p99 ms | ours p99 ms | ours failed |');
  print('|---:|---:|---:|---:|---:|---:|---:|');
  for (const concurrency of concurrencies) {
    const cRuns: Record<string, number>[] = [];
    const oRuns: Record<string, number>[] = [];
    for (let i = 0; i < rounds; i++) {
      cRuns.push(await loadgen(c.port, concurrency));
      oRuns.push(await loadgen(o.port, concurrency));
    }
    const field = (runs: Record<string, number>[], name: string) =>
      median(runs.map((r) => r[name] ?? Number.NaN));
    const cCps = field(cRuns, 'cps');
    const oCps = field(oRuns, 'cps');
    const failed = oRuns.reduce((sum, r) => sum + (r.bad ?? 0) + (r.errors ?? 0) + (r.timeouts ?? 0), 0);
    const r = ratio(oCps, cCps);
    print(
      `| ${concurrency} | ${fmt(cCps)} | ${fmt(oCps)} | ${fmt(r, 2)} | ${fmt(field(cRuns, 'p99_us') / 1000, 2)} | ${fmt(field(oRuns, 'p99_us') / 1000, 2)} | ${failed} |`,
    );
    ratios.push(`${key}.c${concurrency}=${fmt(r, 2)}`);
    if (key === 'hello') {
      targets.push({
        row: `hello rate, c=${concurrency}`,
        value: r,
        target: concurrency === 1 ? 1 : 1.05,
        atLeast: true,
      });
      if (concurrency === 128) {
        const p99 = ratio(field(oRuns, 'p99_us'), field(cRuns, 'p99_us'));
        targets.push({ row: 'hello p99, c=128 (ours / C)', value: p99, target: 1, atLeast: false });
      }
    }
  }
  print();
  await stopServer(c);
  await stopServer(o);
}

/**
 * Server CPU per hello connection, the figure a load generator cannot cap: the server's user +
 * system time over a fixed number of connections, C and ours alternating. User and system time
 * are shown apart: the system time is the kernel's work for the connection's system calls, the
 * user time what the program itself spends on it.
 */
async function cpuPerConnection(): Promise<void> {
  const count = short ? 20_000 : 60_000;
  print(`## Server CPU per hello connection (/proc/PID/stat), c=16, ${count} connections a round`);
  print();
  const c = await startServer(buildProgram('hello_server_loop'), ['{PORT}', '4096']);
  const o = await startServer(node, [bin('hserver'), '--host', HOST, '{PORT}']);
  const split: Record<'c' | 'ours', { user: number[]; system: number[] }> = {
    c: { user: [], system: [] },
    ours: { user: [], system: [] },
  };
  const runs = await alternate(c, o, async (server, side) => {
    const pid = server.child.pid as number;
    const before = cpuMicros(pid);
    const args = ['-h', HOST, '-p', String(server.port), '-c', '16', '-n', String(count), '-t', '60'];
    const r = await keyValues(buildProgram('loadgen'), args, 70);
    const ok = r.ok ?? 0;
    if (ok === 0) return undefined;
    const after = cpuMicros(pid);
    split[side].user.push((after.user - before.user) / ok);
    split[side].system.push((after.system - before.system) / ok);
    return (after.user - before.user + after.system - before.system) / ok;
  });
  await stopServer(c);
  await stopServer(o);
  const cUs = median(runs.c);
  const oUs = median(runs.ours);
  print('| server | µs per connection (median) | user µs | system µs | ours / C |');
  print('|---|---:|---:|---:|---:|');
  const row = (name: string, side: 'c' | 'ours', total: number, r: string) =>
    print(
      `| ${name} | ${fmt(total, 1)} | ${fmt(median(split[side].user), 1)} | ${fmt(median(split[side].system), 1)} | ${r} |`,
    );
  row('C hello server', 'c', cUs, '');
  row('hserver', 'ours', oUs, fmt(ratio(oUs, cUs), 2));
  print();
  ratios.push(`cpu/conn=${fmt(ratio(oUs, cUs), 2)}`);
  targets.push({
    row: 'server CPU per hello connection (ours / C)',
    value: ratio(oUs, cUs),
    target: 1.25,
    atLeast: false,
  });
}

/**
 * Wall time of hclient against a bare node:net client and `node -e 0`, alternating; hclient
 * without its compile cache, with an empty one (cold: a new directory each run) and a full one.
 */
async function startup(): Promise<void> {
  const runs = short ? 10 : 60;
  print(`## hclient start-up, ${runs} runs each`);
  print();
  const server = await startServer(node, [bin('hserver'), '--host', HOST, '{PORT}']);
  const port = String(server.port);
  const cacheRoot = mkdtempSync(join(tmpdir(), 'socket-steps-bench-cache-'));
  // The floor for any Node TCP client: load node:net, connect, read, print, close; nothing else.
  const bare = `const s=require('net').connect(${port},'${HOST}');s.on('data',d=>{process.stdout.write(d);s.destroy()})`;
  const hclient = [bin('hclient'), HOST, port];
  let cold = 0;
  const commands: Record<string, { args: string[]; env: () => NodeJS.ProcessEnv }> = {
    'node -e 0': { args: ['-e', '0'], env: () => process.env },
    'bare node:net client': { args: ['-e', bare], env: () => process.env },
    'hclient, no compile cache': {
      args: hclient,
      env: () => ({ ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' }),
    },
    'hclient, compile cache cold': {
      args: hclient,
      env: () => ({ ...process.env, XDG_CACHE_HOME: join(cacheRoot, String(cold++)) }),
    },
    'hclient, compile cache warm': {
      args: hclient,
      env: () => ({ ...process.env, XDG_CACHE_HOME: join(cacheRoot, 'warm') }),
    },
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  try {
    for (let i = 0; i < runs + 3; i++) {
      for (const [name, { args, env }] of Object.entries(commands)) {
        const environment = env();
        const start = process.hrtime.bigint();
        const result = spawnSync(node, args, {
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 10_000,
          env: environment,
        });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (result.status !== 0) throw new Error(`${name} failed (${result.status}): ${result.stderr}`);
        if (i >= 3) times[name]?.push(ms); // the first runs warm the page cache
      }
    }
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
  await stopServer(server);
  const bareMs = median(times['bare node:net client'] ?? []);
  print('| command | median ms | / bare client |');
  print('|---|---:|---:|');
  for (const name of Object.keys(commands)) {
    const ms = median(times[name] ?? []);
    print(`| ${name} | ${fmt(ms, 1)} | ${fmt(ratio(ms, bareMs), 2)} |`);
  }
  const r = median(times['hclient, compile cache warm'] ?? []) / bareMs;
  print();
  ratios.push(`hclient/bare=${fmt(r, 2)}`);
  targets.push({
    row: 'hclient wall time (warm) / a bare node:net client',
    value: r,
    target: 1.05,
    atLeast: false,
  });
}

/**
 * hbench (Node) and the C load generator driving the same hserver: hbench on one event loop, and
 * on as many worker threads as the machine has cores (`-j`), each against a round of the C tool.
 */
async function loadTools(): Promise<void> {
  const threads = availableParallelism();
  print(`## hbench and the C load generator driving the same hserver, ${duration} s each`);
  print();
  print(
    `The C load generator runs one thread; hbench runs one event loop, then ${threads} (\`-j ${threads}\`, one per core).`,
  );
  print('On a machine whose cores the server under test also needs, more loops buy less.');
  print();
  const server = await startServer(node, [bin('hserver'), '--host', HOST, '{PORT}']);
  print(
    `| c | C loadgen cps | hbench cps | hbench -j ${threads} cps | best / C | C p99 ms | hbench -j ${threads} p99 ms |`,
  );
  print('|---:|---:|---:|---:|---:|---:|---:|');
  const hbench = async (concurrency: number, j: number) => {
    const args = [
      bin('hbench'),
      '--json',
      '-j',
      String(j),
      '-c',
      String(concurrency),
      '-d',
      String(duration),
    ];
    const { stdout } = await run(node, [...args, HOST, String(server.port)], {
      timeout: (duration + 30) * 1000,
    });
    return JSON.parse(stdout) as { connectionsPerSecond: number; latencyMs: { p99: number } };
  };
  for (const concurrency of [16, 128]) {
    const c: number[] = [];
    const p99: number[] = [];
    const one: number[] = [];
    const many: number[] = [];
    const manyP99: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const r = await loadgen(server.port, concurrency);
      c.push(r.cps ?? Number.NaN);
      p99.push((r.p99_us ?? Number.NaN) / 1000);
      one.push((await hbench(concurrency, 1)).connectionsPerSecond);
      if (threads > 1) {
        const m = await hbench(concurrency, threads);
        many.push(m.connectionsPerSecond);
        manyP99.push(m.latencyMs.p99);
      }
    }
    const best = Math.max(median(one), threads > 1 ? median(many) : 0);
    const r = ratio(best, median(c));
    print(
      `| ${concurrency} | ${fmt(median(c))} | ${fmt(median(one))} | ${fmt(median(many))} | ${fmt(r, 2)} | ${fmt(median(p99), 2)} | ${fmt(median(manyP99), 2)} |`,
    );
    ratios.push(`hbench/loadgen.c${concurrency}=${fmt(r, 2)}`);
    targets.push({
      row: `hbench (best of -j 1, -j ${threads}) / C load generator, c=${concurrency}`,
      value: r,
      target: 0.8,
      atLeast: true,
    });
  }
  print();
  await stopServer(server);
}

/**
 * TLS handshakes per second and the server's CPU per handshake (/proc/PID/stat), hserver --tls
 * against the fastest TLS peer on the machine, `ncat --ssl -k` (one process, a select loop; socat
 * and `openssl s_server` fork or answer one client at a time). The client is the library's load
 * engine on one event loop with an empty script: each connection is a handshake, then a close.
 * Full handshakes (ECDSA P-256, X25519, TLS 1.3) and resumed ones (a session ticket), alternating
 * the servers round by round.
 */
async function tlsHandshakes(): Promise<void> {
  const ncat = ['/usr/bin/ncat', '/bin/ncat'].find((p) => spawnSync(p, ['--version']).status === 0);
  const count = short ? 1_000 : 4_000;
  print(`## TLS handshakes: hserver --tls against ncat --ssl -k, c=16, ${count} handshakes a round`);
  print();
  if (ncat === undefined) {
    print('ncat is not installed (Debian package ncat): no figures.');
    print();
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-bench-tls-'));
  const made = createSelfSignedCredentials();
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(cert, made.cert);
  writeFileSync(key, made.key, { mode: 0o600 });
  const ours = await startServer(node, [
    bin('hserver'),
    '--tls',
    '--cert',
    cert,
    '--key',
    key,
    '--host',
    HOST,
    '{PORT}',
  ]);
  const peer = await startServer(ncat, [
    '--ssl',
    '--ssl-cert',
    cert,
    '--ssl-key',
    key,
    '-k',
    '-l',
    HOST,
    '{PORT}',
    '--recv-only',
  ]);
  const servers = { ncat: peer, hserver: ours } as const;
  const figures: Record<
    string,
    Record<'full' | 'resumed', { rate: number[]; cpu: number[]; resumedShare: number[] }>
  > = {};
  for (const name of Object.keys(servers)) {
    figures[name] = {
      full: { rate: [], cpu: [], resumedShare: [] },
      resumed: { rate: [], cpu: [], resumedShare: [] },
    };
  }
  for (let i = 0; i < rounds; i++) {
    for (const mode of ['full', 'resumed'] as const) {
      for (const [name, server] of Object.entries(servers)) {
        const pid = server.child.pid as number;
        const before = cpuMicros(pid);
        const result = await runLoad({
          host: HOST,
          port: server.port,
          concurrency: 16,
          requests: count,
          timeout: 10_000,
          script: [],
          tls: { ca: [made.cert], servername: 'localhost', resume: mode === 'resumed' },
        });
        const after = cpuMicros(pid);
        const handshakes = result.tls?.handshakes ?? 0;
        if (handshakes === 0) continue;
        const f = figures[name]?.[mode];
        f?.rate.push(result.tls?.perSecond ?? Number.NaN);
        f?.cpu.push((after.user - before.user + after.system - before.system) / handshakes);
        f?.resumedShare.push((result.tls?.resumed ?? 0) / handshakes);
      }
    }
  }
  await stopServer(ours);
  await stopServer(peer);
  rmSync(dir, { recursive: true, force: true });
  print(
    '| server | handshakes/s | server CPU µs per handshake | resumed handshakes/s | server CPU µs per resumed | resumed share |',
  );
  print('|---|---:|---:|---:|---:|---:|');
  for (const name of Object.keys(servers)) {
    const f = figures[name];
    if (f === undefined) continue;
    print(
      `| ${name === 'ncat' ? 'ncat --ssl -k' : 'hserver --tls'} | ${fmt(median(f.full.rate))} | ${fmt(median(f.full.cpu), 1)} | ${fmt(median(f.resumed.rate))} | ${fmt(median(f.resumed.cpu), 1)} | ${fmt(median(f.resumed.resumedShare) * 100)} % |`,
    );
  }
  print();
  const o = figures.hserver;
  const n = figures.ncat;
  if (o !== undefined && n !== undefined) {
    ratios.push(`tls.rate=${fmt(ratio(median(o.full.rate), median(n.full.rate)), 2)}`);
    ratios.push(`tls.cpu=${fmt(ratio(median(o.full.cpu), median(n.full.cpu)), 2)}`);
  }
}

/**
 * Hello over a Unix domain socket against hello over TCP loopback: the same hserver program, one
 * on each (a server listens on one socket), loaded by hbench alike, rounds alternating.
 */
async function unixSockets(): Promise<void> {
  print(`## hello over a Unix domain socket against TCP loopback, hbench -j 1, ${duration} s each`);
  print();
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-bench-unix-'));
  const path = join(dir, 'h.sock');
  const tcp = await startServer(node, [bin('hserver'), '--host', HOST, '{PORT}']);
  const unix = spawn(node, [bin('hserver'), '--unix', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  let unixErr = '';
  unix.stderr.setEncoding('utf8').on('data', (c: string) => (unixErr += c));
  const deadline = Date.now() + 10_000;
  while (!unixErr.includes('listening on') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const hbench = async (target: string[], concurrency: number) => {
    const args = [bin('hbench'), '--json', '-c', String(concurrency), '-d', String(duration), ...target];
    const { stdout } = await run(node, args, { timeout: (duration + 30) * 1000 });
    return JSON.parse(stdout) as { connectionsPerSecond: number; failed: number; latencyMs: { p99: number } };
  };
  try {
    print('| c | TCP cps | Unix cps | Unix / TCP | TCP p99 ms | Unix p99 ms |');
    print('|---:|---:|---:|---:|---:|---:|');
    for (const concurrency of [16, 128]) {
      const t: number[] = [];
      const u: number[] = [];
      const tp: number[] = [];
      const up: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const a = await hbench([HOST, String(tcp.port)], concurrency);
        t.push(a.connectionsPerSecond);
        tp.push(a.latencyMs.p99);
        const b = await hbench(['--unix', path], concurrency);
        u.push(b.connectionsPerSecond);
        up.push(b.latencyMs.p99);
      }
      const r = ratio(median(u), median(t));
      print(
        `| ${concurrency} | ${fmt(median(t))} | ${fmt(median(u))} | ${fmt(r, 2)} | ${fmt(median(tp), 2)} | ${fmt(median(up), 2)} |`,
      );
      ratios.push(`unix/tcp.c${concurrency}=${fmt(r, 2)}`);
    }
    print();
  } finally {
    await stopServer(tcp);
    await stopServer({ port: 0, child: unix });
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `measure` on the C server and on ours, alternating, `rounds` times; the values it returns
 * (undefined for a failed run) by side.
 */
async function alternate(
  c: Server,
  ours: Server,
  measure: (server: Server, side: 'c' | 'ours') => Promise<number | undefined>,
): Promise<Record<'c' | 'ours', number[]>> {
  const runs: Record<'c' | 'ours', number[]> = { c: [], ours: [] };
  for (let i = 0; i < rounds; i++) {
    for (const [side, server] of [
      ['c', c],
      ['ours', ours],
    ] as const) {
      const value = await measure(server, side);
      if (value !== undefined) runs[side].push(value);
    }
  }
  return runs;
}

/**
 * Echo throughput: the C client (c/echo_load.c, a sending and a receiving thread per connection,
 * every byte checked) against the threaded C echo server and hserver --service echo, alternating.
 */
async function echoThroughput(): Promise<void> {
  const cases = [
    { connections: 1, mib: short ? 64 : 256, workers: 1 },
    { connections: 8, mib: short ? 8 : 32, workers: 1 },
    { connections: 8, mib: short ? 8 : 32, workers: 2 },
  ];
  print('## Echo throughput: bytes through and back (c/echo_load.c), MB/s one way');
  print();
  print('The C server runs a thread per connection; hserver one event loop, or two processes');
  print('with `--workers 2` (the last row, which has no target of its own).');
  print();
  const c = await startPrinting(buildProgram('echo_server_mt'), ['0']);
  const ours: Record<number, Server> = {};
  for (const workers of [1, 2]) {
    ours[workers] = await startPrinting(node, [
      bin('hserver'),
      '--service',
      'echo',
      '--workers',
      String(workers),
      '--host',
      HOST,
      '0',
    ]);
  }
  print('| connections × MiB | C MB/s | ours MB/s | ours / C | ours failed |');
  print('|---|---:|---:|---:|---:|');
  for (const { connections, mib, workers } of cases) {
    let failed = 0;
    const runs = await alternate(c, ours[workers] as Server, async (server, side) => {
      const r = await keyValues(
        buildProgram('echo_load'),
        [HOST, String(server.port), String(connections), String(mib)],
        120,
      );
      if (r.ok === connections) return r.mbps;
      if (side === 'ours') failed++;
      return undefined;
    });
    const cm = median(runs.c);
    const om = median(runs.ours);
    const label = `${connections} × ${mib}${workers > 1 ? `, --workers ${workers}` : ''}`;
    print(`| ${label} | ${fmt(cm)} | ${fmt(om)} | ${fmt(ratio(om, cm), 2)} | ${failed} |`);
    ratios.push(`echo.c${connections}${workers > 1 ? `w${workers}` : ''}=${fmt(ratio(om, cm), 2)}`);
    if (workers === 1) {
      targets.push({
        row: `echo throughput, ${connections} connection(s)`,
        value: ratio(om, cm),
        target: 0.9,
        atLeast: true,
      });
    }
  }
  print();
  await stopServer(c);
  for (const server of Object.values(ours)) await stopServer(server);
}

/**
 * What `--hex` costs: a 50 MiB echo (c/echo_load.c, one connection) through hserver --service
 * echo without it, with its dump on /dev/null (stderr a file: written synchronously), and with its
 * dump on a pipe that this process reads as fast as it can (written asynchronously, the echo held
 * back whenever the pipe is full). Rounds alternate the three.
 */
async function hexCost(): Promise<void> {
  const mib = 50;
  print(`## --hex: a ${mib} MiB echo, one connection (c/echo_load.c), MB/s one way`);
  print();
  print('The dump is about five times the bytes each way (79 bytes of text for every 16).');
  print();
  const args = ['--service', 'echo', '--host', HOST, '{PORT}'];
  const plain = await startServer(node, [bin('hserver'), ...args]);
  const devNull = await startServer(node, [bin('hserver'), '--hex', ...args]);
  // Its stderr a pipe that this process drains, counting what went through.
  const port = await freePort();
  const child = spawn(
    node,
    [bin('hserver'), '--hex', ...args.map((a) => a.replace('{PORT}', String(port)))],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  endWithRun(child);
  let dumped = 0;
  child.stderr?.on('data', (chunk: Buffer) => {
    dumped += chunk.length;
  });
  await until(() => dumped > 0, 10_000);
  const piped: Server = { port, child };
  const cases = [
    { label: 'no --hex', server: plain },
    { label: '--hex, stderr on /dev/null', server: devNull },
    { label: '--hex, stderr on a pipe read at once', server: piped },
  ];
  const runs = new Map<string, number[]>(cases.map((c) => [c.label, []]));
  const seconds = new Map<string, number[]>(cases.map((c) => [c.label, []]));
  for (let i = 0; i < rounds; i++) {
    for (const { label, server } of cases) {
      const started = performance.now();
      const r = await keyValues(
        buildProgram('echo_load'),
        [HOST, String(server.port), '1', String(mib)],
        300,
      );
      if (r.ok === 1 && r.mbps !== undefined) {
        runs.get(label)?.push(r.mbps);
        seconds.get(label)?.push((performance.now() - started) / 1000);
      }
    }
  }
  const base = median(runs.get('no --hex') ?? []);
  print('| case | MB/s | seconds | of no --hex |');
  print('|---|---:|---:|---:|');
  for (const { label } of cases) {
    const m = median(runs.get(label) ?? []);
    print(
      `| ${label} | ${fmt(m)} | ${fmt(median(seconds.get(label) ?? []), 2)} | ${fmt(ratio(m, base), 3)} |`,
    );
  }
  print();
  print(`The pipe's reader took ${fmt(dumped / 2 ** 20)} MiB of dump in all.`);
  print();
  ratios.push(`hex.null=${fmt(ratio(median(runs.get(cases[1]?.label ?? '') ?? []), base), 3)}`);
  ratios.push(`hex.pipe=${fmt(ratio(median(runs.get(cases[2]?.label ?? '') ?? []), base), 3)}`);
  await stopServer(plain);
  await stopServer(devNull);
  await stopServer(piped);
}

// Polls `check` until it holds, for at most `ms`.
async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** UDP hello replies a second: c/udp_load.c with 32 in flight, C server vs userver --no-rate-limit. */
async function udpRate(): Promise<void> {
  print(`## UDP hello replies per second, 32 datagrams in flight (c/udp_load.c), ${duration} s each`);
  print();
  print('userver runs with `--no-rate-limit` here: its default limit (50 a second per address) would');
  print('measure the limit, not the server.');
  print();
  const c = await startPrinting(buildProgram('udp_server'), [HOST, '0', 'hello', '2000000000']);
  const o = await startPrinting(node, [bin('userver'), '--no-rate-limit', '--host', HOST, '0']);
  const runs = await alternate(c, o, async (server) => {
    const r = await keyValues(
      buildProgram('udp_load'),
      [HOST, String(server.port), '32', String(duration)],
      duration + 20,
    );
    return r.rps;
  });
  await stopServer(c);
  await stopServer(o);
  const cm = median(runs.c);
  const om = median(runs.ours);
  print('| server | replies/s | ours / C |');
  print('|---|---:|---:|');
  print(`| C recvfrom/sendto loop | ${fmt(cm)} | |`);
  print(`| userver --no-rate-limit | ${fmt(om)} | ${fmt(ratio(om, cm), 2)} |`);
  print();
  ratios.push(`udp=${fmt(ratio(om, cm), 2)}`);
  targets.push({ row: 'UDP hello replies/s', value: ratio(om, cm), target: 0.8, atLeast: true });
}

/**
 * A process's resident memory, in KiB, from /proc/PID/status: all of it (VmRSS), and the
 * anonymous part (RssAnon: heaps and allocations, without the pages of the node binary and its
 * libraries, which the first connections page in once and then never again).
 */
function rssKiB(pid: number): { all: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { all: field('VmRSS'), anon: field('RssAnon') };
}

/** Memory per idle greet connection: RSS with N clients that never speak, minus RSS before. */
async function idleMemory(): Promise<void> {
  const count = short ? 2000 : 5000;
  print(`## Memory per idle greet connection: ${count} clients that connect and say nothing`);
  print();
  const server = await startPrinting(node, [
    bin('hserver'),
    '--service',
    'greet',
    '--idle-timeout',
    '600',
    '--dialogue-timeout',
    '600',
    '--host',
    HOST,
    '0',
  ]);
  const pid = server.child.pid as number;
  await new Promise((r) => setTimeout(r, 500));
  const before = rssKiB(pid);
  const sockets = [];
  for (let i = 0; i < count; i++) {
    const socket = connect(server.port, HOST);
    socket.on('error', () => {});
    sockets.push(socket);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(sockets.map((s) => (s.connecting ? once(s, 'connect') : undefined)));
  // Let the server accept them all and settle.
  await new Promise((r) => setTimeout(r, 1500));
  const after = rssKiB(pid);
  for (const s of sockets) s.destroy();
  await stopServer(server);
  const perConnection = ((after.anon - before.anon) * 1024) / count;
  const perConnectionAll = ((after.all - before.all) * 1024) / count;
  print('| | before | with the clients | bytes per connection |');
  print('|---|---:|---:|---:|');
  print(`| RssAnon | ${fmt(before.anon)} KiB | ${fmt(after.anon)} KiB | ${fmt(perConnection)} |`);
  print(`| VmRSS | ${fmt(before.all)} KiB | ${fmt(after.all)} KiB | ${fmt(perConnectionAll)} |`);
  print();
  print('The target is for RssAnon: VmRSS also counts pages of the node binary that the first');
  print('connections bring in once, which makes its "before" move by megabytes from run to run.');
  print();
  ratios.push(`idle=${fmt(perConnection / 1024, 2)}KiB`);
  targets.push({
    row: 'memory per idle greet connection (RssAnon), KiB',
    value: perConnection / 1024,
    target: 3,
    atLeast: false,
  });
}

/** TIME_WAIT sockets on this machine now, as `ss -tanH state time-wait | wc -l` counts them. */
async function timeWaitRows(): Promise<number> {
  const ss = findSs();
  if (ss === undefined) throw new Error('ss not found: install Debian package iproute2');
  const { stdout } = await run(ss, ['-tanH', 'state', 'time-wait'], { maxBuffer: 256 * 1024 * 1024 });
  let rows = 0;
  for (let i = stdout.indexOf('\n'); i >= 0; i = stdout.indexOf('\n', i + 1)) rows++;
  return rows;
}

/** The state `ss` gives the server's end of the connection from client port `client` (`gone` if none). */
async function serverEndState(serverPort: number, client: number | undefined): Promise<string> {
  const ss = findSs();
  if (ss === undefined) throw new Error('ss not found: install Debian package iproute2');
  const filter = `( sport = :${serverPort} and dport = :${client} )`;
  const { stdout } = await run(ss, ['-tanH', 'state', 'all', filter]);
  const state = stdout.trim().split(/\s+/)[0];
  if (state === undefined || state === '') return 'gone';
  // ss's names (ESTAB, FIN-WAIT-2, TIME-WAIT) as the kernel's, as the page shows them.
  return state === 'ESTAB' ? 'ESTABLISHED' : state.replaceAll('-', '_');
}

/** Waits (at most `ms`) until fewer than `rows` TIME_WAIT sockets are left; the count then. */
async function quietTable(rows: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let now = await timeWaitRows();
  while (now >= rows && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2_000));
    now = await timeWaitRows();
  }
  return now;
}

/**
 * Fills the socket table with TIME_WAIT rows: the C load generator at c=128 against throwaway C
 * hello servers (a new port each, since the kernel keeps one row per client and server port), a
 * few seconds each, until `rows` are there or 5 ports were used. The count at the end.
 */
async function fillTable(rows: number): Promise<number> {
  let now = await timeWaitRows();
  for (let port = 0; port < 5 && now < rows; port++) {
    const server = await startServer(buildProgram('hello_server_loop'), ['{PORT}', '4096']);
    const args = [
      '-h',
      HOST,
      '-p',
      String(server.port),
      '-c',
      '128',
      '-n',
      '100000000',
      '-d',
      '3',
      '-t',
      '13',
    ];
    await keyValues(buildProgram('loadgen'), args, 20);
    await stopServer(server);
    now = await timeWaitRows();
  }
  return now;
}

/** The `kernel` part of a view's `/state`. */
async function viewKernel(url: string): Promise<{ reads: number; source: string }> {
  const response = await fetch(`${url}state`);
  const state = (await response.json()) as { kernel: { reads: number; source: string } };
  return state.kernel;
}

interface ViewRun {
  /** TIME_WAIT rows when the run began. */
  rows: number;
  cps: number;
  /** The server's CPU (user + system) per connection, µs: what the view costs it, whatever else runs. */
  serverUs: number;
  /** Kernel reads a second during the load, and where they came from (`/state`'s kernel.source). */
  reads: number;
  source: string;
  /** Cores chromium's processes used during the load, if a page was open. */
  chromium?: number;
  /** ms from each test connection's end until the page showed its real kernel states. */
  shown?: number[];
}

/**
 * One run of `hserver --view` at c=128 (the C load generator), without or with the page open in
 * headless chromium. With the page, afterwards (the table still as full), single hello
 * connections one at a time, each timed from its end until the page's row for it shows the
 * kernel's real states (the server's TIME_WAIT, the client's socket gone).
 */
const SHOWN_TIMEOUT_MS = 10_000;

async function viewRun(page: boolean): Promise<ViewRun> {
  const server = await startViewed(bin('hserver'), ['--host', HOST]);
  const browser = page
    ? await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true })
    : undefined;
  try {
    const tab = await browser?.newPage({ locale: 'en-US' });
    if (tab !== undefined) {
      await tab.goto(server.url);
      await tab.waitForSelector('#rows', { state: 'attached' });
      // Let the page's stream open and its first snapshot draw.
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const rows = await timeWaitRows();
    const kernelBefore = await viewKernel(server.url);
    const cpuBefore = cpuMicros(server.child.pid as number);
    const pids = browser === undefined ? [] : childrenNamed(process.pid, /^chrom/);
    const cpu = () => pids.reduce((sum, p) => sum + treeCpuMicros(p), 0);
    const before = cpu();
    const started = performance.now();
    const r = await loadgen(server.servicePort, 128);
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = cpuMicros(server.child.pid as number);
    const kernelAfter = await viewKernel(server.url);
    const serverUs =
      (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / (r.ok ?? Number.NaN);
    const result: ViewRun = {
      rows,
      cps: r.cps ?? Number.NaN,
      serverUs,
      // The /state asked afterwards may have added one read of its own: within 1/duration a second.
      reads: (kernelAfter.reads - kernelBefore.reads) / seconds,
      source: kernelAfter.source,
    };
    if (pids.length > 0) result.chromium = (cpu() - before) / 1e6 / seconds;
    if (tab !== undefined) {
      result.shown = [];
      for (let i = 0; i < (short ? 3 : 5); i++) {
        const socket = connect(server.servicePort, HOST);
        socket.on('error', () => {});
        await once(socket, 'connect');
        const port = socket.localPort;
        socket.resume();
        await once(socket, 'close');
        const ended = performance.now();
        // What the kernel really holds of it, asked of ss itself: the server's end in TIME_WAIT
        // (or gone too, when the machine's TIME_WAIT table is full: tcp_max_tw_buckets), the
        // client's gone. The page must come to show exactly that.
        const real = await serverEndState(server.servicePort, port);
        // The row of this connection (its client's port) with both real states, drawn.
        // Checked at every frame in the page itself (a locator's retries back off to 500 ms).
        const shown = tab.waitForFunction(
          ({ p, state }: { p: number | undefined; state: string }) => {
            const rows = (
              globalThis as unknown as {
                document: {
                  querySelectorAll(selector: string): ArrayLike<{
                    textContent: string | null;
                    querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
                  }>;
                };
              }
            ).document.querySelectorAll('#rows tr');
            return Array.from(rows).some((tr) => {
              if (!(tr.textContent ?? '').includes(`:${p}`)) return false;
              const states = Array.from(tr.querySelectorAll('td.state')).map((td) => td.textContent?.trim());
              return states[0] === state && states[1] === 'gone';
            });
          },
          { p: port, state: real },
          { timeout: SHOWN_TIMEOUT_MS, polling: 'raf' },
        );
        // Not shown in time is a figure too (Infinity: the target is not met), not a crash.
        result.shown.push(
          await shown.then(
            () => performance.now() - ended,
            () => Number.POSITIVE_INFINITY,
          ),
        );
      }
    }
    return result;
  } finally {
    await browser?.close();
    await stopServer(server);
  }
}

/**
 * The live view's cost on a busy machine: `hserver --view` at c=128 with no page and with the
 * page open in headless chromium, first on a quiet socket table, then with about 50,000
 * TIME_WAIT rows present (a busy server always has them); the server's rate with the page over
 * its rate without, chromium's cores, and how soon a finished connection's real kernel states
 * show on the page.
 */
async function viewCost(): Promise<void> {
  print(`## The live view's cost: hserver --view at c=128 (C load generator), ${duration} s a run`);
  print();
  print("Without a page and with the page open in headless chromium (its processes' CPU from");
  print('/proc/PID/stat over the run). "shown" is the time from a hello connection\'s end until');
  print("the page's row for it shows the kernel's real states (median and slowest), measured after");
  print('the load with the table as full. TIME_WAIT rows are counted at the start of each run.');
  print();
  print('"server µs" is hserver\'s own CPU per connection (user + system, /proc/PID/stat), which other');
  print('work on the machine does not move as it moves the rates; "reads/s" the kernel reads with the page');
  print('open, and from where (ss or /proc).');
  print();
  print(
    '| socket table | rows (no page / page) | no page cps | page cps | page / no page | server µs (no page / page) | reads/s | chromium cores | shown ms |',
  );
  print('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const table = async (label: string, prepare: () => Promise<unknown>, times: number) => {
    const none: ViewRun[] = [];
    const open: ViewRun[] = [];
    for (let i = 0; i < times; i++) {
      await prepare();
      none.push(await viewRun(false));
      await prepare();
      open.push(await viewRun(true));
    }
    const cpsNone = median(none.map((r) => r.cps));
    const cpsOpen = median(open.map((r) => r.cps));
    const cores = median(open.map((r) => r.chromium ?? Number.NaN));
    const shown = open.flatMap((r) => r.shown ?? []);
    const rowsText = `${fmt(median(none.map((r) => r.rows)))} / ${fmt(median(open.map((r) => r.rows)))}`;
    const r = ratio(cpsOpen, cpsNone);
    const us = `${fmt(median(none.map((x) => x.serverUs)), 1)} / ${fmt(median(open.map((x) => x.serverUs)), 1)}`;
    const reads = `${fmt(median(open.map((x) => x.reads)), 1)} ${open[0]?.source ?? ''}`;
    print(
      `| ${label} | ${rowsText} | ${fmt(cpsNone)} | ${fmt(cpsOpen)} | ${fmt(r, 2)} | ${us} | ${reads} | ${fmt(cores, 2)} | ${shownMs(median(shown))} (${shownMs(Math.max(...shown))}) |`,
    );
    return { r, cores, shown: Math.max(...shown) };
  };
  // Few rows: each run on a table left quiet (at most 70 s of waiting, so one round only; no
  // waiting in a short run). Then the full table, refilled before each run.
  const few = await table('few rows', () => (short ? Promise.resolve() : quietTable(2_000, 70_000)), 1);
  const full = await table('~50,000 TIME_WAIT rows', () => fillTable(50_000), rounds);
  print();
  ratios.push(`view.few=${fmt(few.r, 2)} view.full=${fmt(full.r, 2)} chromium=${fmt(full.cores, 2)}`);
  targets.push({
    row: 'hserver --view, page open / no page, ~50,000 TIME_WAIT rows',
    value: full.r,
    target: 0.85,
    atLeast: true,
  });
  targets.push({
    row: "chromium's cores for the page, ~50,000 TIME_WAIT rows",
    value: full.cores,
    target: 0.25,
    atLeast: false,
  });
  targets.push({
    row: "a finished connection's real kernel states on the page, slowest, s",
    value: full.shown / 1000,
    target: 1,
    atLeast: false,
  });
}

/** A figure and its target, for the closing table. */
interface Target {
  row: string;
  value: number;
  target: number;
  /** True when the value must be at least the target; false when at most. */
  atLeast: boolean;
}
const targets: Target[] = [];

const date = new Date().toISOString().slice(0, 10);
print(`# socket-steps benchmark, ${date}: Node.js ${process.version}, ${cpus().length} cores, ${arch()}`);
print();
print(
  `${rounds} round(s) of ${duration} s per figure, C and ours alternating; medians. C: c/ built with gcc -O2.`,
);
print();
// BENCH_ONLY=view,startup ... runs only those sections (names as below); all by default.
const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const want = (name: string) => only === undefined || only.includes(name);
if (want('hello')) {
  await helloRate(
    'hserver against the C hello server (accept loop, backlog 4096)',
    'hello',
    [bin('hserver'), '--host', HOST, '{PORT}'],
    [1, 16, 128],
  );
}
if (want('workers')) {
  await helloRate(
    'hserver --workers 2 against the same C server',
    'workers2',
    [bin('hserver'), '--workers', '2', '--host', HOST, '{PORT}'],
    [16, 128],
  );
}
if (want('cpu')) await cpuPerConnection();
if (want('echo')) await echoThroughput();
if (want('hex')) await hexCost();
if (want('udp')) await udpRate();
if (want('memory')) await idleMemory();
if (want('startup')) await startup();
if (want('tools')) await loadTools();
if (want('tls')) await tlsHandshakes();
if (want('unix')) await unixSockets();
// Last: it fills the socket table with TIME_WAIT rows on purpose, which would slow the rest.
if (want('view')) await viewCost();
print('## Targets');
print();
print('| figure | value | target | met |');
print('|---|---:|---:|---|');
for (const t of targets) {
  const met = Number.isFinite(t.value) && (t.atLeast ? t.value >= t.target : t.value <= t.target);
  print(
    `| ${t.row} | ${fmt(t.value, 2)} | ${t.atLeast ? '≥' : '≤'} ${fmt(t.target, 2)} | ${met ? 'yes' : 'no'} |`,
  );
}
print();
print(`ratios (ours / C, Node.js ${process.version}): ${ratios.join(' ')}`);
mkdirSync(`${ROOT}.bench`, { recursive: true });
writeFileSync(`${ROOT}.bench/latest.md`, `${report.join('\n')}\n`);
