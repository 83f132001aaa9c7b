/**
 * The classic services' pure protocols: chargen's lines, rotation, datagram packing and verifier
 * (fed at once and byte by byte), RFC 868's encoding with its 2036 wrap, the daytime format
 * (xinetd's, against an injected clock), and quote checking.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CHARGEN_LINE_BYTES,
  ChargenGenerator,
  ChargenVerifier,
  chargenLine,
  checkChargenDatagram,
  XINETD_DATAGRAM_BYTES,
} from '../../src/protocol/chargen.js';
import { decodeDaytime, formatDaytime } from '../../src/protocol/daytime.js';
import {
  DEFAULT_QUOTE,
  encodeQuote,
  parseQuotes,
  QOTD_MAX_BYTES,
  QuoteBook,
} from '../../src/protocol/qotd.js';
import {
  decodeTime,
  decodeTimeSeconds,
  encodeTime,
  formatIsoSeconds,
  RFC868_EPOCH_OFFSET,
  TimeDecoder,
} from '../../src/protocol/time.js';

// RFC 864's own example's first line, and the first two lines xinetd 2.3.15 sent here.
const RFC_LINE_0 = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n';
const XINETD_LINE_0 = '!"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n';
const XINETD_LINE_1 = '"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghi\r\n';

function byteByByte(bytes: Buffer): Buffer[] {
  return Array.from(bytes, (b) => Buffer.from([b]));
}

describe('chargen lines', () => {
  test('rfc864: line 0 is the RFC example; each line starts one character later; line 95 is line 0', () => {
    assert.equal(chargenLine('rfc864', 0).toString('latin1'), RFC_LINE_0);
    assert.equal(chargenLine('rfc864', 1).toString('latin1'), `${RFC_LINE_0.slice(1, 72)}h\r\n`);
    // The ring wraps: line 94 starts with ~ and goes on with space.
    assert.equal(chargenLine('rfc864', 94).toString('latin1').slice(0, 3), '~ !');
    assert.deepEqual(chargenLine('rfc864', 95), chargenLine('rfc864', 0));
    for (let n = 0; n < 95; n++) {
      const line = chargenLine('rfc864', n);
      assert.equal(line.length, CHARGEN_LINE_BYTES);
      assert.equal(line[0], 0x20 + n);
    }
  });

  test('xinetd: its first lines as it sent them; 93 characters ! to }, 95 positions: line 93 is line 0 again', () => {
    assert.equal(chargenLine('xinetd', 0).toString('latin1'), XINETD_LINE_0);
    assert.equal(chargenLine('xinetd', 1).toString('latin1'), XINETD_LINE_1);
    assert.equal(chargenLine('xinetd', 92)[0], 0x7d);
    assert.equal(chargenLine('xinetd', 92)[1], 0x21, 'after } comes ! (no ~ in its ring)');
    assert.deepEqual(chargenLine('xinetd', 93), chargenLine('xinetd', 0));
    assert.deepEqual(chargenLine('xinetd', 94), chargenLine('xinetd', 1));
    assert.deepEqual(chargenLine('xinetd', 95), chargenLine('xinetd', 0));
    const all = Buffer.concat(Array.from({ length: 95 }, (_, n) => chargenLine('xinetd', n)));
    assert.equal(all.includes(0x7e), false);
    assert.equal(all.includes(0x20), false);
  });

  test('the generator: lines(n) carries on where the last call stopped, across the wrap', () => {
    for (const pattern of ['rfc864', 'xinetd'] as const) {
      const generator = new ChargenGenerator(pattern);
      const got = Buffer.concat([generator.lines(50), generator.lines(95), generator.lines(7)]);
      const want = Buffer.concat(Array.from({ length: 152 }, (_, n) => chargenLine(pattern, n)));
      assert.deepEqual(got, want, pattern);
      assert.equal(generator.position, 152 % 95);
    }
    assert.throws(() => new ChargenGenerator('ascii' as 'rfc864'), {
      code: 'ERR_INVALID_ARG',
      message: /'ascii'/,
    });
    assert.throws(() => new ChargenGenerator('rfc864').lines(96), { code: 'ERR_INVALID_ARG' });
  });

  test("a datagram of 1024 bytes is xinetd's: 13 whole lines and one of 60 characters, all ending CR LF", () => {
    const generator = new ChargenGenerator('xinetd');
    const first = generator.datagram(XINETD_DATAGRAM_BYTES);
    assert.equal(first.length, 1024);
    const lines = first.toString('latin1').split('\r\n');
    assert.equal(lines.length, 15); // 14 lines and the empty string after the last CR LF
    assert.deepEqual(
      lines.slice(0, 14).map((l) => l.length),
      [...Array(13).fill(72), 60],
    );
    assert.equal(lines[13], chargenLine('xinetd', 13).toString('latin1').slice(0, 60));
    // The next reply goes on at line 14.
    assert.deepEqual(generator.datagram(1024).subarray(0, 74), chargenLine('xinetd', 14));
    assert.equal(generator.position, 28);
  });

  test('datagram packing at the edges: 0 to 2 bytes make an empty datagram; 3 make one character and CR LF', () => {
    const generator = new ChargenGenerator('rfc864');
    assert.equal(generator.datagram(0).length, 0);
    assert.equal(generator.datagram(2).length, 0);
    assert.equal(generator.position, 0);
    assert.equal(generator.datagram(3).toString('latin1'), ' \r\n');
    assert.equal(generator.datagram(74).toString('latin1'), chargenLine('rfc864', 1).toString('latin1'));
    assert.equal(generator.datagram(76).length, 74, 'two bytes left over are not a line');
    assert.equal(generator.datagram(512).length, 512);
  });
});

describe('the chargen verifier', () => {
  const feeds = (bytes: Buffer) => [
    { label: 'one chunk', chunks: [bytes] },
    { label: 'byte by byte', chunks: byteByByte(bytes) },
  ];

  for (const pattern of ['rfc864', 'xinetd'] as const) {
    const stream = Buffer.concat([
      new ChargenGenerator(pattern).lines(95),
      new ChargenGenerator(pattern).lines(40),
    ]);
    for (const { label, chunks } of feeds(stream)) {
      test(`${pattern}, ${label}: 135 lines from line 0 fit, and only ${pattern} fits`, () => {
        const verifier = new ChargenVerifier();
        for (const chunk of chunks) assert.equal(verifier.push(chunk), undefined);
        assert.equal(verifier.offset, stream.length);
        assert.deepEqual(verifier.patterns, [pattern]);
      });
    }
  }

  test("xinetd's ring after its wrap (lines 93, 94, 0) and a stream that starts at any line both fit", () => {
    const wrapped = Buffer.concat([93, 94, 0, 1, 2].map((n) => chargenLine('xinetd', n)));
    assert.equal(new ChargenVerifier(['xinetd']).push(wrapped), undefined);
    const late = new ChargenGenerator('rfc864', 57).lines(80);
    assert.equal(new ChargenVerifier().push(late), undefined);
  });

  const broken = Buffer.from(new ChargenGenerator('rfc864').lines(10));
  broken[5 * 74 + 33] = 0x41; // one byte of line 5 changed
  for (const { label, chunks } of feeds(broken)) {
    test(`a changed byte, ${label}: the mismatch names its offset, and later bytes change nothing`, () => {
      const verifier = new ChargenVerifier();
      let mismatch: ReturnType<ChargenVerifier['push']>;
      for (const chunk of chunks) mismatch ??= verifier.push(chunk);
      assert.deepEqual(mismatch, {
        offset: 5 * 74 + 33,
        actual: 0x41,
        expected: chargenLine('rfc864', 5)[33],
      });
      assert.equal(verifier.offset, 5 * 74 + 33);
      assert.deepEqual(verifier.push(Buffer.from('more')), mismatch);
    });
  }

  test('a missing CR LF, a lost line and text that is no chargen at all are mismatches', () => {
    const noCrlf = Buffer.concat([chargenLine('rfc864', 0).subarray(0, 72), chargenLine('rfc864', 1)]);
    assert.equal(new ChargenVerifier().push(noCrlf)?.offset, 72);
    const lost = Buffer.concat([chargenLine('xinetd', 0), chargenLine('xinetd', 2)]);
    assert.equal(new ChargenVerifier().push(lost)?.offset, 74 + 0);
    assert.equal(new ChargenVerifier().push(Buffer.from('Hello World!\0'))?.offset, 1);
  });

  test('datagrams: what the generator packs fits; a changed byte, a line out of order, a cut without CR LF do not', () => {
    const generator = new ChargenGenerator('rfc864', 90);
    for (const size of [0, 3, 74, 100, 512, 1024]) {
      assert.equal(checkChargenDatagram(generator.datagram(size)), undefined, `${size} bytes`);
    }
    const xinetd = new ChargenGenerator('xinetd', 80).datagram(1024);
    assert.equal(checkChargenDatagram(xinetd), undefined);
    const changed = Buffer.from(xinetd);
    changed[300] = 0x20;
    assert.equal(checkChargenDatagram(changed)?.offset, 300);
    const swapped = Buffer.concat([chargenLine('rfc864', 3), chargenLine('rfc864', 2)]);
    assert.equal(checkChargenDatagram(swapped)?.offset, 74);
    const cut = chargenLine('rfc864', 0).subarray(0, 40);
    assert.deepEqual(checkChargenDatagram(cut), {
      offset: 40,
      actual: -1,
      expected: chargenLine('rfc864', 0)[40],
    });
  });
});

describe('time (RFC 868)', () => {
  test('1970-01-01 is 2208988800 seconds after 1900; the bytes are big-endian', () => {
    assert.deepEqual(encodeTime(0), Buffer.from([0x83, 0xaa, 0x7e, 0x80]));
    assert.equal(RFC868_EPOCH_OFFSET, 0x83aa7e80);
    assert.deepEqual(encodeTime(1999), Buffer.from([0x83, 0xaa, 0x7e, 0x81]), 'whole seconds, rounded down');
  });

  test('the bytes xinetd sent here on 2026-12-06 decode to that day, 21:2x UTC', () => {
    const decoded = decodeTime(Buffer.from([0xee, 0xc0, 0x51, 0x48]));
    assert.equal(decoded.seconds, 0xeec05148);
    assert.match(formatIsoSeconds(decoded.date), /^2026-12-06T21:2\d:\d\dZ$/);
    assert.deepEqual(encodeTime(decoded.date.getTime()), Buffer.from([0xee, 0xc0, 0x51, 0x48]));
  });

  test('2036-02-07 06:28:16 UTC wraps to 0, and 0 decodes to that moment, not to 1900', () => {
    const wrap = Date.UTC(2036, 1, 7, 6, 28, 16);
    assert.deepEqual(encodeTime(wrap - 1000), Buffer.from([0xff, 0xff, 0xff, 0xff]));
    assert.deepEqual(encodeTime(wrap), Buffer.from([0, 0, 0, 0]));
    assert.equal(decodeTimeSeconds(0).date.getTime(), wrap);
    assert.equal(formatIsoSeconds(decodeTimeSeconds(0xffffffff).date), '2036-02-07T06:28:15Z');
    assert.equal(formatIsoSeconds(decodeTimeSeconds(0x80000000).date), '1968-01-20T03:14:08Z');
    assert.equal(formatIsoSeconds(decodeTimeSeconds(0x7fffffff).date), '2104-02-26T09:42:23Z');
    for (const ms of [Date.UTC(2000, 0, 1), Date.UTC(2040, 5, 1), Date.UTC(2100, 0, 1)]) {
      assert.equal(decodeTime(encodeTime(ms)).date.getTime(), ms);
    }
  });

  const reply = Buffer.from([0xee, 0xc0, 0xc7, 0x27]);
  for (const [label, chunks] of [
    ['one chunk', [reply]],
    ['byte by byte', byteByByte(reply)],
  ] as const) {
    test(`the decoder, ${label}: 4 bytes then the close`, () => {
      const decoder = new TimeDecoder();
      for (const chunk of chunks) decoder.push(chunk);
      assert.equal(decoder.end().seconds, 0xeec0c727);
    });
  }

  test('fewer or more than 4 bytes is a protocol error', () => {
    const short = new TimeDecoder();
    short.push(Buffer.from([1, 2, 3]));
    assert.throws(() => short.end(), { code: 'ERR_PROTOCOL', message: /closed after 3/ });
    const long = new TimeDecoder();
    long.push(Buffer.from([1, 2, 3, 4]));
    assert.throws(() => long.push(Buffer.from([5])), { code: 'ERR_PROTOCOL', message: /more than that/ });
    assert.throws(() => decodeTime(Buffer.from('Hello World!\0')), { code: 'ERR_PROTOCOL' });
  });
});

describe('daytime (RFC 867)', () => {
  test("xinetd's format: day with two digits, month in capitals, UTC, CR LF", () => {
    assert.equal(formatDaytime(new Date(Date.UTC(2026, 11, 7, 5, 48, 23))), '07 DEC 2026 05:48:23 UTC\r\n');
    assert.equal(formatDaytime(new Date(Date.UTC(2027, 0, 31, 23, 0, 9))), '31 JAN 2027 23:00:09 UTC\r\n');
  });

  test('decoding: the moment of a line in that format; other text is kept as text', () => {
    const line = Buffer.from('06 DEC 2026 21:25:28 UTC\r\n');
    const reply = decodeDaytime(line);
    assert.equal(reply.text, '06 DEC 2026 21:25:28 UTC');
    assert.equal(reply.date?.toISOString(), '2026-12-06T21:25:28.000Z');
    const ctime = decodeDaytime(Buffer.from('Mon Dec  7 05:48:23 2026\r\n'));
    assert.equal(ctime.text, 'Mon Dec  7 05:48:23 2026');
    assert.equal(ctime.date, undefined);
    assert.equal(decodeDaytime(Buffer.from('31 FEB 2026 00:00:00 UTC\r\n')).date, undefined);
    assert.equal(decodeDaytime(Buffer.from('07 DEC 2026 05:48:23 KST\r\n')).date, undefined);
  });
});

describe('qotd (RFC 865)', () => {
  test('a quote goes out with CR LF line endings; the default quote is within the limit', () => {
    assert.equal(encodeQuote('one\ntwo').toString(), 'one\r\ntwo\r\n');
    assert.equal(encodeQuote('one\r\ntwo\n\n').toString(), 'one\r\ntwo\r\n');
    assert.ok(encodeQuote(DEFAULT_QUOTE).length < QOTD_MAX_BYTES);
    assert.equal(encodeQuote('연결을 초기화 하는 주체').toString('utf8'), '연결을 초기화 하는 주체\r\n');
  });

  test('511 bytes with CR LF pass, 512 do not; empty quotes and control characters are refused', () => {
    assert.equal(encodeQuote('x'.repeat(509)).length, 511);
    assert.throws(() => encodeQuote('x'.repeat(510)), { code: 'ERR_INVALID_ARG', message: /512 bytes/ });
    // 170 three-byte characters: 510 bytes and CR LF.
    assert.throws(() => encodeQuote('가'.repeat(170)), { message: /512 bytes with its line endings/ });
    assert.throws(() => encodeQuote(' \n '), { message: /empty/ });
    assert.throws(() => encodeQuote('bell\u0007'), { message: /U\+0007/ });
    assert.throws(() => encodeQuote('nul\0'), { message: /U\+0000/ });
  });

  test('a file: one quote per paragraph, blank lines between; a bad one is named by its number', () => {
    const quotes = parseQuotes('first line\n  -- someone\n\n\n   \nsecond\r\n\r\nthird\n');
    assert.deepEqual(quotes, ['first line\n  -- someone', 'second', 'third']);
    assert.throws(() => parseQuotes('\n\n  \n'), { message: /no quote/ });
    assert.throws(() => parseQuotes(`ok\n\n${'y'.repeat(600)}`), { message: /quote 2 of the file/ });
  });

  test('the book hands quotes out in turn', () => {
    const book = new QuoteBook(['a', 'b', 'c']);
    const got = Array.from({ length: 7 }, () => book.next().toString());
    assert.deepEqual(got, ['a\r\n', 'b\r\n', 'c\r\n', 'a\r\n', 'b\r\n', 'c\r\n', 'a\r\n']);
    assert.throws(() => new QuoteBook([]), { code: 'ERR_INVALID_ARG' });
  });
});
