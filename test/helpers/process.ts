/**
 * Test helpers: spawn the built CLIs, wait for a server's "listening on ...:PORT" line, collect
 * output, and stop only the processes the test started, by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { socketInodes, socketRows } from './proc-net.js';

/** Absolute path of the repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Absolute path of a bin shim (`bin/hserver`). */
export function binPath(name: string): string {
  return `${ROOT}bin/${name}`;
}

/** The result of a finished process. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a bin to completion (bounded by `timeoutMs`; the process is killed past it). */
export async function runBin(
  name: string,
  args: readonly string[],
  {
    timeoutMs = 15_000,
    env,
    input,
  }: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string | Buffer } = {},
): Promise<RunResult> {
  return runCommand(binPath(name), args, { timeoutMs, env, input });
}

/** Runs any command to completion, bounded by `timeoutMs`. */
export async function runCommand(
  command: string,
  args: readonly string[],
  {
    timeoutMs = 15_000,
    env,
    input,
  }: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string | Buffer } = {},
): Promise<RunResult> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? testEnv() });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => stdout.push(c));
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  child.stdin.on('error', () => {});
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') };
}

/** An environment for child processes: this one, with an English locale unless overridden. */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LC_ALL;
  delete env.LC_MESSAGES;
  delete env.NODE_OPTIONS;
  return { ...env, LANG: 'C.UTF-8', ...extra };
}

/** A server process started by a test. */
export interface StartedServer {
  child: ChildProcess;
  port: number;
  /** Everything written on stderr so far. */
  stderr(): string;
  /** Everything written on stdout so far. */
  stdout(): string;
  /** Waits for exit, killing with SIGKILL after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal to this process (by its PID) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a server command and waits for its "listening on ADDRESS:PORT" line on stderr (or
 * `readyPattern`), bounded by `timeoutMs`.
 */
export async function startServer(
  command: string,
  args: readonly string[],
  {
    timeoutMs = 10_000,
    env,
    readyPattern = /listening on .*:(\d+)\n/,
  }: { timeoutMs?: number; env?: NodeJS.ProcessEnv; readyPattern?: RegExp } = {},
): Promise<StartedServer> {
  const path = command.includes('/') ? command : binPath(command);
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? testEnv() });
  let err = '';
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not report listening within ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      const match = readyPattern.exec(err);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    exit.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before listening; stderr: ${err}`));
    });
  });
  const exited = async (timeoutMs = 10_000) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const [code, signal] = await exit;
    clearTimeout(timer);
    return { code, signal };
  };
  return {
    child,
    port,
    stderr: () => err,
    stdout: () => out,
    exited,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited();
    },
  };
}

/**
 * The TCP port a process listens on, found through /proc (for programs such as the seed's C
 * server that bind port 0 without printing it). Polls until found, bounded by `timeoutMs`.
 */
export async function listeningPort(pid: number, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const inodes = socketInodes(pid);
    const row = socketRows('tcp').find((r) => r.state === '0A' && inodes.has(r.inode));
    if (row !== undefined) return row.localPort;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} did not listen within ${timeoutMs} ms`);
}
