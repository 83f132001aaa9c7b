/**
 * Builds the project's C programs (c/*.c) with gcc, on demand, for the tests and the benchmark.
 * Each is built once into dist/c-programs and rebuilt when its source is newer. Several test files
 * run at once, so a build writes a temporary file and renames it into place: a program is never
 * seen half written. Fails loudly when gcc is missing (.ci/run installs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (this file runs as dist/c/build.js). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIR = `${ROOT}c`;
const BUILD_DIR = `${ROOT}dist/c-programs`;

/** How each program is built: its source in c/ and any extra gcc arguments. */
const PROGRAMS = {
  /** The lecture's hello server: one client, then exit. */
  hello_server: { source: 'hello_server.c', flags: [] },
  /** The same server with step 4 repeated: the benchmark's reference. */
  hello_server_loop: { source: 'hello_server.c', flags: ['-DACCEPT_LOOP'] },
  /** The lecture's hello client. */
  hello_client: { source: 'hello_client.c', flags: [] },
  echo_server: { source: 'echo_server.c', flags: [] },
  echo_client: { source: 'echo_client.c', flags: [] },
  greet_server: { source: 'greet_server.c', flags: [] },
  greet_client: { source: 'greet_client.c', flags: [] },
  udp_server: { source: 'udp_server.c', flags: [] },
  udp_client: { source: 'udp_client.c', flags: [] },
  udp_port0: { source: 'udp_port0.c', flags: [] },
  /** The benchmark's C echo server: a thread per client, 64 KiB reads. */
  echo_server_mt: { source: 'echo_server_mt.c', flags: ['-pthread'] },
  /** The benchmark's echo throughput client. */
  echo_load: { source: 'echo_load.c', flags: ['-pthread'] },
  /** The benchmark's UDP load client. */
  udp_load: { source: 'udp_load.c', flags: [] },
  /** The epoll load generator of the benchmark and the flood tests. */
  loadgen: { source: 'loadgen.c', flags: ['-pthread'] },
} as const satisfies Record<string, { source: string; flags: readonly string[] }>;

/** The name of one of the project's C programs. */
export type CProgram = keyof typeof PROGRAMS;

/** Builds one of the project's C programs (if needed) and returns the path of its executable. */
export function buildProgram(name: CProgram): string {
  const { source, flags } = PROGRAMS[name];
  return compile(`${SOURCE_DIR}/${source}`, name, flags);
}

/**
 * Builds a C source from anywhere (the textbook's own programs, for instance) into
 * dist/c-programs/`name`. Throws, naming the file, when the source does not exist.
 */
export function compile(source: string, name: string, flags: readonly string[] = []): string {
  if (!existsSync(source)) throw new Error(`C source not found: ${source}`);
  mkdirSync(BUILD_DIR, { recursive: true });
  const output = `${BUILD_DIR}/${name}`;
  if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return output;
  const partial = `${output}.${process.pid}.tmp`;
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', partial, source, ...flags], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'gcc is not installed (apt-get install gcc libc6-dev)'
        : String((error as { stderr?: Buffer }).stderr ?? (error as Error).message);
    throw new Error(`cannot build ${source}: ${reason}`);
  }
  renameSync(partial, output);
  return output;
}
