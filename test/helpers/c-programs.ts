/**
 * Builds the seed's C programs (and other C test peers) with gcc, once per test run. Fails loudly
 * when gcc is missing: .ci/run installs it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { ROOT } from './process.js';

/** Where the seed's sources live: ../shared/seed beside the repository. */
export const SEED_DIR = `${ROOT}../shared/seed`;
const BUILD_DIR = `${ROOT}dist/c`;

/** Compiles `source` (absolute path) to an executable under dist/c and returns its path. */
export function buildC(source: string, name: string): string {
  if (!existsSync(source))
    throw new Error(`C source not found: ${source} (is ../shared beside the repository?)`);
  mkdirSync(BUILD_DIR, { recursive: true });
  const output = `${BUILD_DIR}/${name}`;
  if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return output;
  try {
    execFileSync('gcc', ['-O2', '-o', output, source], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(
      `gcc failed to build ${source}: ${(error as Error).message}. Install gcc (apt-get install gcc).`,
    );
  }
  return output;
}

/** The seed's hello_server.c, built as `hserver-c`. */
export function seedServer(): string {
  return buildC(`${SEED_DIR}/hello_server.c`, 'hserver-c');
}

/** The seed's hello_client.c, built as `hclient-c`. */
export function seedClient(): string {
  return buildC(`${SEED_DIR}/hello_client.c`, 'hclient-c');
}

/** The C load generator of ../shared/tools/loadgen (hload.c), built with gcc. */
export function loadGenerator(): string {
  const source = `${ROOT}../shared/tools/loadgen/hload.c`;
  if (!existsSync(source))
    throw new Error(`C source not found: ${source} (is ../shared beside the repository?)`);
  const output = `${BUILD_DIR}/hload`;
  mkdirSync(BUILD_DIR, { recursive: true });
  if (!existsSync(output) || statSync(output).mtimeMs < statSync(source).mtimeMs) {
    execFileSync('gcc', ['-O2', '-o', output, source, '-lpthread'], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  return output;
}

/** Parses hload's one line of `key=value` pairs. */
export function parseHload(line: string): Record<string, string> {
  return Object.fromEntries(
    line
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split('=') as [string, string]),
  );
}
