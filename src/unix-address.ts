/**
 * Unix domain socket addresses as the command line and the messages write them: a file-system
 * path (`/run/h.sock`, `./h.sock`), or Linux's abstract namespace as `@name`, which Node writes
 * with a leading NUL byte (`\0name`). Pure: no Node module.
 */
import { InvalidArgumentError } from './errors.js';

/**
 * The longest path a Unix socket may have, in bytes: `sun_path` holds 108 bytes, and the path's
 * terminating NUL takes one. (Linux also takes a 108-byte path without its NUL, but `nc -U`,
 * socat and C programs that copy the path with its NUL cannot reach it, so we refuse it.) An
 * abstract name has no terminator but its leading NUL takes the same byte.
 */
export const UNIX_PATH_MAX_BYTES = 107;

/** A Unix socket address, checked. */
export interface UnixAddress {
  /** The path as Node takes it: an abstract name begins with a NUL byte. */
  path: string;
  /** The path as people write it: `@name` for an abstract name. */
  display: string;
  /** True for Linux's abstract namespace (no file: no mode, nothing to remove). */
  abstract: boolean;
}

/**
 * Parses `--unix`'s value: `@name` is an abstract name, anything else a path. An empty path, a
 * NUL inside it, or one longer than {@link UNIX_PATH_MAX_BYTES} bytes is an
 * {@link InvalidArgumentError} that names its length.
 */
export function parseUnixAddress(text: string): UnixAddress {
  const abstract = text.startsWith('@') || text.startsWith('\0');
  const name = abstract ? text.slice(1) : text;
  const display = abstract ? `@${name}` : text;
  if (name.length === 0) {
    throw new InvalidArgumentError(
      abstract
        ? `invalid Unix socket name '${display}': the abstract name after @ is empty`
        : 'invalid Unix socket path: the path is empty',
    );
  }
  if (name.includes('\0')) {
    throw new InvalidArgumentError(
      `invalid Unix socket path '${display.replaceAll('\0', '\\0')}': it holds a NUL byte`,
    );
  }
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > UNIX_PATH_MAX_BYTES) {
    const what = abstract ? 'abstract name' : 'path';
    throw new InvalidArgumentError(
      `invalid Unix socket ${what} '${display}': it is ${bytes} bytes long, and the kernel's limit is ${UNIX_PATH_MAX_BYTES} (sun_path holds 108 bytes with the ${abstract ? 'leading' : 'terminating'} NUL)`,
    );
  }
  return { path: abstract ? `\0${name}` : name, display, abstract };
}

/** How a path Node took (a leading NUL for an abstract name) is written: `@name`, else as it is. */
export function displayUnixPath(path: string): string {
  return path.startsWith('\0') ? `@${path.slice(1)}` : path;
}

/** The `family` of a Unix socket server's address (`listen()`'s result, whose `port` is then 0). */
export const UNIX_FAMILY = 'unix';
