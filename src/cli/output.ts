/**
 * What a program does when its own output fails: stdout or stderr on a closed pipe (EPIPE), a
 * full disk (ENOSPC), a closed descriptor (EBADF). Every program installs it through runCli.
 *
 * - stdout is the program's answer. A reader that went away (`| head -1`) ends the program at
 *   once and quietly with exit 141, what the shell reports for a program that SIGPIPE ended: the
 *   seed's C programs, and every tool in a pipeline, end so. Any other failure is one line on
 *   stderr and exit 1, never exit 0 with the answer lost; with stderr failing too, exit 1 silently.
 * - stderr carries the log. A failed write there is dropped and counted ({@link droppedLogLines},
 *   in the stats and the metrics): a server keeps serving without its log, and every later line
 *   is dropped and counted without being tried.
 */
import { describeSystemError, systemCodeOf } from '../errors.js';

/** Exit code after stdout's reader went away: 128 + SIGPIPE (13), as the shell reports a SIGPIPE death. */
export const BROKEN_PIPE_EXIT = 141;

let installedFor: string | undefined;
let stderrFailed = false;
let dropped = 0;

/**
 * Installs the handlers on process.stdout and process.stderr for `program` (once; later calls do
 * nothing). Without them a failed write is an unhandled 'error' event: a stack trace and exit 1,
 * even in a server whose only fault is a log nobody reads.
 */
export function guardOutput(program: string): void {
  if (installedFor !== undefined) return;
  installedFor = program;
  process.stderr.on('error', () => {
    // The line whose write failed: every later one is counted by writeStderr.
    if (!stderrFailed) dropped++;
    stderrFailed = true;
  });
  process.stdout.on('error', (error: unknown) => {
    if (systemCodeOf(error) === 'EPIPE') process.exit(BROKEN_PIPE_EXIT);
    writeStderr(`${program}: cannot write to standard output: ${describeSystemError(error)}\n`);
    process.exit(1);
  });
}

/**
 * Writes `text` (one or more whole lines; bytes for `--hex`'s dump) on stderr, or drops and
 * counts it once stderr has failed. What servers log goes through here.
 */
export function writeStderr(text: string | Uint8Array): void {
  if (stderrFailed || process.stderr.destroyed) {
    stderrFailed = true;
    dropped++;
    return;
  }
  process.stderr.write(text);
}

/** The program's name, as given to {@link guardOutput} (`socket-steps` before it). */
export function programName(): string {
  return installedFor ?? 'socket-steps';
}

/** How many log writes were dropped because stderr failed (0 while it works). */
export function droppedLogLines(): number {
  return dropped;
}

/**
 * Resolves once what was written so far has been handed to the system and any error it met has
 * been delivered: a write to a full disk fails on the next tick, after the write call returned,
 * and the program must not exit 0 before hearing of it.
 */
export async function outputSettled(): Promise<void> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  await new Promise<void>((resolve) => setImmediate(resolve));
}

// Resolves once everything written to `stream` so far has been handed to the system (or the
// stream failed: a reader that went away has nothing left to wait for).
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.write('', () => resolve());
    stream.once('error', () => resolve());
  });
}
