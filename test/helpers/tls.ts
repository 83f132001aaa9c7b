/**
 * TLS test helpers: certificates and keys written to a temporary folder (made with the project's
 * own writer, so that every test has a fresh key), and peer programs started as servers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCredentials, type SelfSignedOptions } from '../../src/transport/tls-certificate.js';
import { listeningPort } from './process.js';

/** A certificate and key on disk. */
export interface CertFiles {
  cert: string;
  key: string;
  fingerprint: string;
}

/** A temporary folder of certificates, removed with `remove()`. */
export interface CertDir {
  dir: string;
  /** Makes a self-signed certificate (see createSelfSignedCredentials) and writes it as `name`.pem / `name`.key. */
  make(name: string, options?: SelfSignedOptions): CertFiles;
  remove(): void;
}

/** Creates a temporary folder for certificates. */
export function certDir(): CertDir {
  const dir = mkdtempSync(join(tmpdir(), 'socket-steps-tls-'));
  return {
    dir,
    make(name, options) {
      const made = createSelfSignedCredentials(options);
      const cert = join(dir, `${name}.pem`);
      const key = join(dir, `${name}.key`);
      writeFileSync(cert, made.cert);
      writeFileSync(key, made.key, { mode: 0o600 });
      return { cert, key, fingerprint: made.fingerprint };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A peer program started as a server on a port of its own choosing (found through /proc). */
export interface PeerServer {
  child: ChildProcess;
  port: number;
  output(): string;
  /** Kills it (by its PID) unless it has exited, and waits for the exit. */
  stop(): Promise<void>;
}

/** Starts `command` (which listens on a port it chooses, e.g. 0) and finds the port, bounded in time. */
export async function startPeerServer(
  command: string,
  args: readonly string[],
  { input, timeoutMs = 15_000 }: { input?: string; timeoutMs?: number } = {},
): Promise<PeerServer> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stdin?.on('error', () => {});
  if (input !== undefined) child.stdin?.write(input);
  const exited = once(child, 'exit');
  // Never outlives the test that started it.
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  exited.finally(() => clearTimeout(timer));
  const port = await listeningPort(child.pid as number);
  return {
    child,
    port,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
