/**
 * `npm run profile`: where a hello connection's CPU time goes, in the C hello server and in
 * hserver, from Linux `perf` on this machine. Each server takes the same number of connections
 * from the C load generator (c=16) while `perf record -g` samples every thread of it; the report
 * splits the time into the kernel's share for accept, write, close and the event wait, the rest
 * of the kernel's work, and the program's own (user) code, in µs per connection.
 *
 *   npm run profile                      # 60,000 connections each
 *   PROFILE_CONNECTIONS=200000 npm run profile
 *
 * Needs `perf` (Debian package linux-perf) and permission to profile (root, or
 * kernel.perf_event_paranoid ≤ 1 for your own processes). Loopback only, bounded.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, ROOT } from '../c/build.js';
import { toolPath } from '../test/helpers/tools.js';
import { cpuMicros, HOST, keyValues, type Server, startServer, stopServer } from './servers.js';

const connections = Number(process.env.PROFILE_CONNECTIONS ?? 60_000);
const perf = toolPath({
  name: 'perf',
  paths: ['/usr/bin/perf', '/usr/sbin/perf'],
  versionArgs: ['--version'],
  pkg: 'linux-perf',
});
const work = mkdtempSync(join(tmpdir(), 'socket-steps-profile-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** The kernel's entry points for the calls a hello connection makes, by what they do. */
const CALLS: Array<[string, RegExp]> = [
  ['accept', /^(__x64_sys_accept4?|__sys_accept4)$/],
  ['write', /^(ksys_write|__x64_sys_write|__x64_sys_writev|__x64_sys_sendto)$/],
  ['close', /^__x64_sys_close$/],
  ['event wait (epoll)', /^(__x64_sys_epoll_pwait2?|__x64_sys_epoll_wait|do_epoll_wait)$/],
];

interface Profile {
  name: string;
  /** CPU µs per connection, from /proc/PID/stat. */
  perConnection: number;
  /** Share of the samples in the kernel, 0 to 1. */
  kernel: number;
  /** Share of the samples under each call of CALLS (inclusive), 0 to 1. */
  calls: Record<string, number>;
  samples: number;
}

async function profile(name: string, server: Server): Promise<Profile> {
  const pid = server.child.pid as number;
  const data = join(work, `${name.replace(/\W+/g, '-')}.data`);
  const recorder: ChildProcess = spawn(perf, ['record', '-F', '2000', '-g', '-p', String(pid), '-o', data], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Taken now: perf ends by itself when the server does (a crash), and an 'exit' emitted before
  // we wait for it would never come again.
  const recorded = once(recorder, 'exit');
  let errors = '';
  recorder.stderr?.on('data', (chunk: Buffer) => (errors += chunk));
  // perf attaches to every thread before it counts; give it a moment.
  await new Promise((r) => setTimeout(r, 500));
  if (recorder.exitCode !== null) throw new Error(`perf record failed: ${errors.trim()}`);
  const before = cpuMicros(pid);
  const args = ['-h', HOST, '-p', String(server.port), '-c', '16', '-n', String(connections), '-t', '120'];
  const load = await keyValues(buildProgram('loadgen'), args, 130);
  const after = cpuMicros(pid);
  // perf must have sampled the whole load: one that ended early (killed, out of room for its
  // data) leaves a profile of part of it, or none.
  const endedEarly = recorder.exitCode !== null || recorder.signalCode !== null;
  recorder.kill('SIGINT');
  await recorded;
  if (endedEarly) throw new Error(`${name}: perf record ended before the load did: ${errors.trim()}`);
  const ok = load.ok ?? 0;
  if (ok === 0) throw new Error(`${name}: the load generator completed no connection`);
  const report = (extra: string[]) => {
    const r = spawnSync(perf, ['report', '-i', data, '--stdio', '-g', 'none', ...extra], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`perf report failed: ${r.stderr}`);
    return r.stdout;
  };
  const bySymbol = report(['--children', '--sort', 'sym']);
  const calls: Record<string, number> = {};
  for (const [call] of CALLS) calls[call] = 0;
  for (const line of bySymbol.split('\n')) {
    const match = /^\s+([\d.]+)%\s+[\d.]+%\s+\[k\]\s+(\S+)/.exec(line);
    if (match === null) continue;
    for (const [call, pattern] of CALLS) {
      // The first (outermost) entry point seen for a call is the one whose share counts.
      if (pattern.test(match[2] as string) && calls[call] === 0) calls[call] = Number(match[1]) / 100;
    }
  }
  const byDso = report(['--no-children', '--sort', 'dso']);
  const kernelLine = /^\s+([\d.]+)%\s+\[kernel\.kallsyms\]/m.exec(byDso);
  const count = /^# Samples: ([\d.]+)([KM]?)/m.exec(byDso);
  const samples =
    Number(count?.[1] ?? Number.NaN) * (count?.[2] === 'K' ? 1000 : count?.[2] === 'M' ? 1e6 : 1);
  return {
    name,
    perConnection: (after.user - before.user + after.system - before.system) / ok,
    kernel: Number(kernelLine?.[1] ?? 0) / 100,
    calls,
    samples,
  };
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const node = process.execPath;
const c = await startServer(buildProgram('hello_server_loop'), ['{PORT}', '4096']);
const ours = await startServer(node, [`${ROOT}bin/hserver`, '--host', HOST, '{PORT}']);
const profiles = [await profile('C hello server', c), await profile('hserver', ours)];
await stopServer(c);
await stopServer(ours);

console.log(`# Where a hello connection's CPU time goes (perf, ${connections} connections each, c=16)`);
console.log();
console.log(`Node.js ${process.version}. µs per connection: the server's CPU time (/proc/PID/stat) split by`);
console.log("perf's samples. A call's share includes everything the kernel does under it (TCP, softirq).");
console.log();
console.log(`| | ${profiles.map((p) => p.name).join(' | ')} |`);
console.log(`|---|${profiles.map(() => '---:').join('|')}|`);
const row = (label: string, value: (p: Profile) => number) =>
  console.log(`| ${label} | ${profiles.map((p) => fmt(value(p))).join(' | ')} |`);
row('all (under perf, which costs some itself)', (p) => p.perConnection);
for (const [call] of CALLS) row(`kernel: ${call}`, (p) => (p.calls[call] ?? 0) * p.perConnection);
row('kernel: the rest', (p) => {
  const named = Object.values(p.calls).reduce((sum, share) => sum + share, 0);
  return Math.max(p.kernel - named, 0) * p.perConnection;
});
row('user space (the program, its runtime and libraries)', (p) => (1 - p.kernel) * p.perConnection);
console.log(
  `| perf samples (about) | ${profiles.map((p) => p.samples.toLocaleString('en-US')).join(' | ')} |`,
);
console.log();
