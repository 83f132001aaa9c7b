/** Unix socket addresses as `--unix` takes them: paths, `@name`, and the kernel's length limit. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { displayUnixPath, parseUnixAddress, UNIX_PATH_MAX_BYTES } from '../../src/unix-address.js';

describe('parseUnixAddress', () => {
  test('a path is taken as it is', () => {
    assert.deepEqual(parseUnixAddress('./h.sock'), {
      path: './h.sock',
      display: './h.sock',
      abstract: false,
    });
  });

  test('@name is the abstract name, written with a leading NUL for Node', () => {
    assert.deepEqual(parseUnixAddress('@steps'), { path: '\0steps', display: '@steps', abstract: true });
    assert.equal(displayUnixPath('\0steps'), '@steps');
    assert.equal(displayUnixPath('/run/h.sock'), '/run/h.sock');
  });

  test('107 bytes is the longest path; 108 is refused, naming its length and the limit', () => {
    assert.equal(UNIX_PATH_MAX_BYTES, 107);
    const longest = `/tmp/${'x'.repeat(102)}`;
    assert.equal(parseUnixAddress(longest).path, longest);
    assert.throws(
      () => parseUnixAddress(`${longest}y`),
      (error: unknown) =>
        error instanceof InvalidArgumentError &&
        /is 108 bytes long, and the kernel's limit is 107 \(sun_path holds 108 bytes with the terminating NUL\)/.test(
          error.message,
        ),
    );
  });

  test('the length is counted in bytes: a Korean name takes three bytes a character', () => {
    const name = '가'.repeat(36); // 108 bytes
    assert.throws(() => parseUnixAddress(`@${name}`), /abstract name .* is 108 bytes long/);
    assert.equal(parseUnixAddress(`@${'가'.repeat(35)}`).abstract, true);
  });

  test('an empty path, an empty abstract name and a NUL inside are refused', () => {
    assert.throws(() => parseUnixAddress(''), /the path is empty/);
    assert.throws(() => parseUnixAddress('@'), /the abstract name after @ is empty/);
    assert.throws(() => parseUnixAddress('a\0b'), /holds a NUL byte/);
  });
});
