/**
 * The hexdump formatter against the real `hexdump -C` (util-linux, Debian's bsdextrautils): every
 * byte value, every length from 0 to 33, random buffers at random offsets (`-s`), and the `*` of
 * repeated lines with `squeeze` (`-v` without it). Then the block headings in both languages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatDumpHeading, formatHexdump } from '../../src/trace/hexdump.js';
import { needs, TOOLS, toolPath } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'hexdump-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** What `hexdump -C` (with `args`) prints for `bytes` in a file. */
function realHexdump(bytes: Uint8Array, args: readonly string[] = []): string {
  const file = join(dir, `in-${files++}.bin`);
  writeFileSync(file, bytes);
  const run = spawnSync(toolPath(TOOLS.hexdump), ['-C', ...args, file], { encoding: 'latin1' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

describe('formatHexdump, against hexdump -C', needs(TOOLS.hexdump), () => {
  test('all 256 byte values, in order and reversed', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.equal(formatHexdump(all), realHexdump(all, ['-v']));
    const reversed = all.slice().reverse();
    assert.equal(formatHexdump(reversed), realHexdump(reversed, ['-v']));
  });

  test('every length from 0 to 33 (short last lines, the 8th byte, an empty input)', () => {
    const source = Buffer.from('Hello World!\0\x01\x7f\x80\xff abcdefghijklmnopqrstuvwxyz', 'latin1');
    for (let length = 0; length <= 33; length++) {
      const bytes = source.subarray(0, length);
      assert.equal(formatHexdump(bytes), realHexdump(bytes, ['-v']), `length ${length}`);
    }
  });

  test("the notes' hello: 13 bytes and the final offset", () => {
    assert.equal(
      formatHexdump(Buffer.from('Hello World!\0', 'latin1')),
      '00000000  48 65 6c 6c 6f 20 57 6f  72 6c 64 21 00           |Hello World!.|\n0000000d\n',
    );
  });

  test('random buffers at random offsets, as hexdump -s OFFSET counts them', () => {
    for (let round = 0; round < 40; round++) {
      const bytes = randomBytes(1 + Math.floor(Math.random() * 300));
      const offset = Math.floor(Math.random() * bytes.length);
      const expected = realHexdump(bytes, ['-v', '-s', String(offset)]);
      assert.equal(
        formatHexdump(bytes.subarray(offset), { offset }),
        expected,
        `round ${round}: ${bytes.toString('hex')} from ${offset}`,
      );
    }
  });

  test('offsets past 4 GiB widen the column, as hexdump -C prints them (a sparse file)', () => {
    const file = join(dir, 'sparse.bin');
    const bytes = Buffer.from('Hello World!\0abcdefghij', 'latin1');
    const offset = 2 ** 32 + 5;
    const fd = openSync(file, 'w');
    try {
      writeSync(fd, bytes, 0, bytes.length, offset);
    } finally {
      closeSync(fd);
    }
    const run = spawnSync(toolPath(TOOLS.hexdump), ['-C', '-v', '-s', String(offset), file], {
      encoding: 'latin1',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(formatHexdump(bytes, { offset }), run.stdout);
  });

  test('squeeze: runs of equal lines become one *, as hexdump -C prints them', () => {
    const cases = [
      Buffer.alloc(64),
      Buffer.alloc(70),
      Buffer.concat([
        Buffer.alloc(32, 0x41),
        Buffer.alloc(16, 0x42),
        Buffer.alloc(48, 0x41),
        Buffer.from('end'),
      ]),
      Buffer.concat([Buffer.alloc(16, 1), Buffer.alloc(16, 2), Buffer.alloc(16, 1)]),
      Buffer.alloc(16, 7),
      Buffer.alloc(31, 7),
    ];
    for (const bytes of cases) {
      assert.equal(formatHexdump(bytes, { squeeze: true }), realHexdump(bytes), bytes.toString('hex'));
    }
    // Without squeeze every line is there: as -v.
    assert.equal(formatHexdump(Buffer.alloc(64)).split('\n').length, 6);
  });
});

describe('formatDumpHeading', () => {
  const client = { address: '127.0.0.1', port: 5123, family: 'IPv4' as const };
  const v6 = { address: '::1', port: 9000, family: 'IPv6' as const };

  test('a server read and write, in English and Korean', () => {
    const read = {
      transport: 'tcp',
      role: 'server',
      connection: 3,
      direction: 'read',
      remote: client,
      length: 13,
    } as const;
    assert.equal(formatDumpHeading(read), '[#3 127.0.0.1:5123 → server] read 13 bytes');
    assert.equal(formatDumpHeading(read, 'ko'), '[#3 127.0.0.1:5123 → 서버] 13바이트 읽음');
    const write = { ...read, direction: 'write', length: 1 } as const;
    assert.equal(formatDumpHeading(write), '[#3 server → 127.0.0.1:5123] wrote 1 byte');
    assert.equal(formatDumpHeading(write, 'ko'), '[#3 서버 → 127.0.0.1:5123] 1바이트 씀');
  });

  test('a client with no connection number, an IPv6 peer, and datagrams', () => {
    const read = { transport: 'tcp', role: 'client', direction: 'read', remote: v6, length: 2 } as const;
    assert.equal(formatDumpHeading(read), '[[::1]:9000 → client] read 2 bytes');
    assert.equal(formatDumpHeading(read, 'ko'), '[[::1]:9000 → 클라이언트] 2바이트 읽음');
    const sent = { transport: 'udp', role: 'client', direction: 'write', remote: v6, length: 5 } as const;
    assert.equal(formatDumpHeading(sent), '[client → [::1]:9000] sent 5 bytes');
    assert.equal(formatDumpHeading(sent, 'ko'), '[클라이언트 → [::1]:9000] 5바이트 송신');
    const received = {
      transport: 'udp',
      role: 'server',
      direction: 'read',
      remote: client,
      length: 0,
    } as const;
    assert.equal(formatDumpHeading(received), '[127.0.0.1:5123 → server] received 0 bytes');
    assert.equal(formatDumpHeading(received, 'ko'), '[127.0.0.1:5123 → 서버] 0바이트 수신');
  });
});
