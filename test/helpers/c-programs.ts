/**
 * The C programs the tests talk to: the project's own (c/, always), and the textbook's own
 * hello_server.c and hello_client.c when SOCKET_STEPS_SEED_DIR names their folder.
 */
import { buildProgram, compile } from '../../c/build.js';

/** One set of hello programs to run the interop matrix against. */
export interface HelloPrograms {
  /** Says which set this is, in test names. */
  label: string;
  server: string;
  client: string;
}

/** The environment variable that names the folder of the textbook's hello_server.c/hello_client.c. */
export const SEED_DIR_VARIABLE = 'SOCKET_STEPS_SEED_DIR';

/** The project's C hello server and client (c/hello_server.c, c/hello_client.c). */
export function projectHelloPrograms(): HelloPrograms {
  return {
    label: "the project's C programs (c/)",
    server: buildProgram('hello_server'),
    client: buildProgram('hello_client'),
  };
}

/**
 * The textbook's own programs, built from the folder SOCKET_STEPS_SEED_DIR names; undefined when
 * the variable is not set. A variable that names a folder without them throws: never a silent skip.
 */
export function textbookHelloPrograms(): HelloPrograms | undefined {
  const dir = process.env[SEED_DIR_VARIABLE];
  if (dir === undefined || dir === '') return undefined;
  return {
    label: `the textbook's C programs (${dir})`,
    server: compile(`${dir}/hello_server.c`, 'textbook_hello_server'),
    client: compile(`${dir}/hello_client.c`, 'textbook_hello_client'),
  };
}

/** Parses the load generator's one line of `key=value` pairs. */
export function parseLoadgen(line: string): Record<string, string> {
  return Object.fromEntries(
    line
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split('=') as [string, string]),
  );
}
