/**
 * What the benchmark and the profile share: the servers they start (ended by PID when the run
 * ends, however it ends), the C clients' `key=value` output, a process's CPU time.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { startServer as startListening } from '../test/helpers/process.js';
import { freePort } from '../test/helpers/raw.js';
import { startViewedServer, type ViewedServer } from '../test/helpers/view.js';

export const HOST = '127.0.0.1';
const run = promisify(execFile);

/** A server process started by the benchmark, ended by its PID. */
export interface Server {
  port: number;
  child: ChildProcess;
}
const started: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
});
// Stopped by a signal (kill PID, a CI step's timeout), Node.js would die without 'exit', and the
// servers, in no process group of the sender's, would run on: exit as the signal asks instead.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => process.exit(code));
}

/** Resolves once a TCP connect to `port` succeeds, polling for at most 10 s. */
async function reachable(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${HOST}:${port} after 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `command` with `{PORT}` in `args` replaced by a free port; resolves once it accepts. */
export async function startServer(command: string, args: string[]): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    command,
    args.map((a) => a.replace('{PORT}', String(port))),
    { stdio: 'ignore' },
  );
  started.push(child);
  await reachable(port);
  // A connection of the probe may still be in the accept queue: let the server settle.
  await new Promise((r) => setTimeout(r, 300));
  return { port, child };
}

/** Ends `child` with the run, however it ends, as the servers started here are (one spawned by hand). */
export function endWithRun(child: ChildProcess): void {
  started.push(child);
}

/** Starts a server that binds port 0 and prints "listening on ADDRESS:PORT" on stderr (UDP has no connect probe). */
export async function startPrinting(command: string, args: string[]): Promise<Server> {
  const server = await startListening(command, args);
  started.push(server.child);
  return server;
}

/** Starts a server program with `--view 0` on port 0; resolves with both ports once it listens. */
export async function startViewed(program: string, args: string[]): Promise<ViewedServer> {
  const server = await startViewedServer(program, args);
  started.push(server.child);
  return server;
}

/** The processes whose parent is `pid` and whose command name (/proc/PID/comm) matches `name`. */
export function childrenNamed(pid: number, name: RegExp): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]);
      if (parent === pid && name.test(readFileSync(`/proc/${entry}/comm`, 'utf8'))) found.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return found;
}

/**
 * The CPU time so far, in µs, of process `pid` and every process below it (a browser and its
 * renderers, GPU and utility processes), from /proc/PID/stat; processes that already ended are
 * not counted, so take both readings while the tree is whole.
 */
export function treeCpuMicros(pid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]));
    } catch {
      // ended while we looked
    }
  }
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const p of tree) {
    try {
      const { user, system } = cpuMicros(p);
      total += user + system;
    } catch {
      // ended while we looked
    }
  }
  return total;
}

export async function stopServer(server: Server): Promise<void> {
  // A server that died of a signal (a crash) has no exit code, only a signal: it has exited too.
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await once(server.child, 'exit');
  clearTimeout(timer);
}

/** A C client's `key=value ...` line as numbers. */
export async function keyValues(
  program: string,
  args: string[],
  timeoutSeconds: number,
): Promise<Record<string, number>> {
  const { stdout } = await run(program, args, { timeout: timeoutSeconds * 1000 }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  return Object.fromEntries(
    stdout
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split('='))
      .map(([k, v]) => [k ?? '', Number(v)]),
  );
}

/** A process's CPU time so far, user and system, in µs, from /proc/PID/stat. */
export function cpuMicros(pid: number): { user: number; system: number } {
  // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
  // The command name is in parentheses and may hold ') ' itself: the fields start after the last.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  const micros = (ticks: string | undefined) => (Number(ticks) * 1e6) / CLOCK_TICKS;
  return { user: micros(fields[11]), system: micros(fields[12]) };
}
// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ).
const CLOCK_TICKS = 100;
