import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineTooLongError } from '../../src/errors.js';
import { LineFramer } from '../../src/protocol/line-framer.js';

/** Feeds `input` as one chunk, or byte by byte; returns the lines as text and the framer. */
function frame(
  input: Buffer,
  mode: 'chunk' | 'bytes',
  maxLineBytes = 16,
): { lines: string[]; framer: LineFramer } {
  const framer = new LineFramer({ maxLineBytes });
  const lines: Buffer[] = [];
  if (mode === 'chunk') lines.push(...framer.push(input));
  else for (let i = 0; i < input.length; i++) lines.push(...framer.push(input.subarray(i, i + 1)));
  return { lines: lines.map((l) => l.toString('utf8')), framer };
}

const MODES = ['chunk', 'bytes'] as const;

describe('LineFramer', { timeout: 60_000 }, () => {
  for (const mode of MODES) {
    describe(`fed ${mode === 'chunk' ? 'as one chunk' : 'byte by byte'}`, () => {
      test('splits on \\n and keeps the unfinished rest', () => {
        const { lines, framer } = frame(Buffer.from("Hi. I'm Bob.\nNice\nto"), mode);
        assert.deepEqual(lines, ["Hi. I'm Bob.", 'Nice']);
        assert.equal(framer.bufferedBytes, 2);
        assert.equal(framer.end()?.toString(), 'to');
      });

      test('drops the \\r of \\r\\n, keeps a lone \\r', () => {
        const { lines } = frame(Buffer.from('a\r\nb\rc\n\r\n'), mode);
        assert.deepEqual(lines, ['a', 'b\rc', '']);
      });

      test('empty lines are lines', () => {
        const { lines } = frame(Buffer.from('\n\n'), mode);
        assert.deepEqual(lines, ['', '']);
      });

      test('Korean text split inside a character still makes whole lines', () => {
        const input = Buffer.from("Hi. I'm 밥.\r\n안녕하세요\n", 'utf8');
        const { lines } = frame(input, mode, 32);
        assert.deepEqual(lines, ["Hi. I'm 밥.", '안녕하세요']);
      });

      test('a line of exactly the limit passes, with or without \\r', () => {
        const line = 'x'.repeat(16);
        const { lines, framer } = frame(Buffer.from(`${line}\r\n${line}\n`), mode);
        assert.deepEqual(lines, [line, line]);
        assert.equal(framer.overflow, undefined);
      });

      test('a line over the limit sets overflow; earlier lines are kept, later ignored', () => {
        const { lines, framer } = frame(Buffer.from(`ok\n${'y'.repeat(17)}\nafter\n`), mode);
        assert.deepEqual(lines, ['ok']);
        assert.ok(framer.overflow instanceof LineTooLongError);
        assert.equal(framer.overflow.code, 'ERR_LINE_TOO_LONG');
        assert.equal(framer.bufferedBytes, 0);
        assert.deepEqual(framer.push(Buffer.from('more\n')), []);
        assert.equal(framer.end(), undefined);
      });

      test('an endless line without \\n never holds more than the limit + 1', () => {
        const framer = new LineFramer({ maxLineBytes: 16 });
        const piece = mode === 'chunk' ? Buffer.alloc(1000, 0x41) : Buffer.from('A');
        let peak = 0;
        for (let i = 0; i < 1000 && framer.overflow === undefined; i++) {
          framer.push(piece);
          peak = Math.max(peak, framer.bufferedBytes);
        }
        assert.ok(framer.overflow instanceof LineTooLongError);
        assert.ok(peak <= 17, `peak ${peak}`);
      });
    });
  }

  test('returned lines do not alias the input buffer', () => {
    const framer = new LineFramer();
    const input = Buffer.from('abc\n');
    const [line] = framer.push(input);
    input.fill(0x7a);
    assert.equal(line?.toString(), 'abc');
  });

  test('rejects a bad limit, naming it', () => {
    assert.throws(() => new LineFramer({ maxLineBytes: 0 }), /max line bytes '0'/);
  });
});
