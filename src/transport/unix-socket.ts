/**
 * The file of a listening Unix domain socket: what is done to its path before bind() and after
 * close(). bind() fails on any path that exists, so a socket file a dead server left behind is
 * removed first (found dead because connect() is refused); a live server's is left alone (address
 * in use); anything that is not a socket is never removed. On close, the file is removed only
 * while it is still the one this server bound (same device and inode): libuv itself unlinks the
 * path it bound, whatever is there by then, so a file that someone else has put at the path is
 * moved aside for that moment and put back.
 */
import { lstatSync, renameSync, statSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { BindError, describeSystemError, systemCodeOf } from '../errors.js';
import { displayUnixPath } from '../unix-address.js';

/** How long the check of an existing socket file waits for connect() to be answered, in ms. */
const PROBE_TIMEOUT_MS = 1000;

/** What identifies the file a server bound: its device and inode. */
export interface UnixSocketIdentity {
  dev: number;
  ino: number;
}

/**
 * Makes `path` ready for bind(): nothing to do when it does not exist or is abstract; a socket
 * that refuses connections is a dead server's and is removed. Rejects with a {@link BindError}
 * (call `bind`) when a server answers on it (EADDRINUSE), when it is not a socket (never removed),
 * or when it cannot be checked or removed.
 */
export async function prepareUnixPath(path: string): Promise<'free' | 'replaced'> {
  if (path.startsWith('\0')) return 'free';
  const shown = displayUnixPath(path);
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if (systemCodeOf(error) === 'ENOENT') return 'free';
    throw new BindError(`${shown}: ${describeSystemError(error)}`, { cause: error, call: 'bind' });
  }
  if (!isSocket) {
    throw new BindError(`${shown}: the path exists and is not a socket (left as it is)`, { call: 'bind' });
  }
  const answer = await probe(path);
  if (answer === 'live') {
    const cause = Object.assign(new Error('address already in use'), { code: 'EADDRINUSE' });
    throw new BindError(`${shown}: address already in use (EADDRINUSE): a server accepts connections on it`, {
      cause,
      call: 'bind',
    });
  }
  if (answer !== 'dead') {
    throw new BindError(`${shown}: a socket file is there and could not be checked: ${answer}`, {
      call: 'bind',
    });
  }
  try {
    await unlink(path);
  } catch (error) {
    if (systemCodeOf(error) !== 'ENOENT') {
      throw new BindError(
        `${shown}: cannot remove the dead server's socket file: ${describeSystemError(error)}`,
        {
          cause: error,
          call: 'bind',
        },
      );
    }
  }
  return 'replaced';
}

// 'live' when something accepts, 'dead' when connect() is refused (no listener on the file),
// else why it could not tell (permission denied, no answer in time).
function probe(path: string): Promise<'live' | 'dead' | string> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (answer: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done('live'));
    socket.once('error', (error) => {
      // A full accept queue answers EAGAIN: a live server that is busy.
      const code = systemCodeOf(error);
      done(code === 'ECONNREFUSED' ? 'dead' : code === 'EAGAIN' ? 'live' : describeSystemError(error));
    });
  });
}

/** The device and inode of the socket file at `path` now, or undefined (abstract, or gone). */
export function unixSocketIdentity(path: string): UnixSocketIdentity | undefined {
  if (path.startsWith('\0')) return undefined;
  try {
    const stats = statSync(path);
    return stats.isSocket() ? { dev: stats.dev, ino: stats.ino } : undefined;
  } catch {
    return undefined;
  }
}

/** The permission bits of the file at `path`, or undefined. */
export function unixSocketMode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/**
 * Runs `close` (which makes libuv unlink `path`) so that only this server's own file goes: when
 * something else is at the path by then, it is renamed aside for the moment of the close and put
 * back. Synchronous, so that nothing of ours runs in between.
 */
export function closeKeepingOthers(
  path: string,
  own: UnixSocketIdentity | undefined,
  close: () => void,
): void {
  if (path.startsWith('\0') || own === undefined) {
    close();
    return;
  }
  let there: { dev: number; ino: number } | undefined;
  try {
    there = lstatSync(path);
  } catch {
    there = undefined;
  }
  if (there === undefined || (there.dev === own.dev && there.ino === own.ino)) {
    close();
    return;
  }
  const aside = `${path}.${process.pid}.keep`;
  try {
    renameSync(path, aside);
  } catch {
    close();
    return;
  }
  try {
    close();
  } finally {
    renameSync(aside, path);
  }
}
