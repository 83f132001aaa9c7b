import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeHello, formatHelloLine, HelloDecoder, type HelloFrame } from '../../src/protocol/hello.js';

/** Feeds `input` once as one chunk and once byte by byte; both must give the same frame. */
function decodeBothWays(input: Buffer, maxBytes: number, eof: boolean): Array<HelloFrame | undefined> {
  const whole = new HelloDecoder(maxBytes);
  let a = whole.push(input);
  if (a === undefined && eof) a = whole.end();
  const bytewise = new HelloDecoder(maxBytes);
  let b: HelloFrame | undefined;
  for (const byte of input) {
    b = bytewise.push(Buffer.from([byte]));
    if (b !== undefined) break;
  }
  if (b === undefined && eof) b = bytewise.end();
  return [a, b];
}

describe('encodeHello', () => {
  test('is the C server bytes: text plus one NUL', () => {
    assert.deepEqual(encodeHello('Hello World!'), Buffer.from('Hello World!\0', 'latin1'));
    assert.equal(encodeHello('Hello World!').length, 13);
  });
  test('can leave the NUL out', () => {
    assert.deepEqual(encodeHello('hi', { nul: false }), Buffer.from('hi'));
  });
  test('encodes UTF-8', () => {
    assert.deepEqual(encodeHello('안녕'), Buffer.from([0xec, 0x95, 0x88, 0xeb, 0x85, 0x95, 0]));
  });
});

describe('formatHelloLine', () => {
  test('is what hello_client.c prints', () => {
    assert.equal(
      formatHelloLine(Buffer.from('Hello World!')).toString('latin1'),
      'Message from server: Hello World! \n',
    );
  });
  test('keeps raw bytes as they are', () => {
    const raw = Buffer.from([0xff, 0xfe, 0x41]);
    assert.deepEqual(formatHelloLine(raw).subarray(21, 24), raw);
  });
});

describe('HelloDecoder', () => {
  test('stops at the NUL', () => {
    for (const frame of decodeBothWays(Buffer.from('Hello World!\0'), 1024, false)) {
      assert.deepEqual(frame, { message: Buffer.from('Hello World!'), end: 'nul' });
    }
  });
  test('ignores what follows the NUL', () => {
    for (const frame of decodeBothWays(Buffer.from('abc\0def\0'), 1024, false)) {
      assert.deepEqual(frame, { message: Buffer.from('abc'), end: 'nul' });
    }
  });
  test('an empty message before the NUL', () => {
    for (const frame of decodeBothWays(Buffer.from('\0rest'), 1024, false)) {
      assert.deepEqual(frame, { message: Buffer.alloc(0), end: 'nul' });
    }
  });
  test('EOF without a NUL gives what arrived', () => {
    for (const frame of decodeBothWays(Buffer.from('no terminator'), 1024, true)) {
      assert.deepEqual(frame, { message: Buffer.from('no terminator'), end: 'eof' });
    }
  });
  test('nothing before EOF gives no frame', () => {
    const decoder = new HelloDecoder(10);
    assert.equal(decoder.end(), undefined);
    assert.equal(decoder.receivedBytes, 0);
  });
  test('stops at the size limit', () => {
    for (const frame of decodeBothWays(Buffer.from('0123456789abcdef'), 10, false)) {
      assert.deepEqual(frame, { message: Buffer.from('0123456789'), end: 'limit' });
    }
  });
  test('a NUL exactly at the limit still counts as a NUL', () => {
    for (const frame of decodeBothWays(Buffer.from('0123456789\0'), 11, false)) {
      assert.deepEqual(frame, { message: Buffer.from('0123456789'), end: 'nul' });
    }
  });
  test('a NUL one past the limit does not', () => {
    for (const frame of decodeBothWays(Buffer.from('0123456789\0'), 10, false)) {
      assert.deepEqual(frame, { message: Buffer.from('0123456789'), end: 'limit' });
    }
  });
  test('chunks after completion are ignored', () => {
    const decoder = new HelloDecoder(100);
    const first = decoder.push(Buffer.from('a\0'));
    assert.equal(decoder.push(Buffer.from('zzz')), first);
    assert.equal(decoder.end(), first);
  });
  test('does not keep a reference to the caller buffer', () => {
    const chunk = Buffer.from('abc');
    const decoder = new HelloDecoder(100);
    decoder.push(chunk);
    chunk.fill(0x5a);
    assert.deepEqual(decoder.end()?.message, Buffer.from('abc'));
  });
  test('multi-byte UTF-8 split across chunks is rejoined', () => {
    const bytes = encodeHello('안녕하세요');
    const [, bytewise] = decodeBothWays(bytes, 1024, false);
    assert.equal(bytewise?.message.toString('utf8'), '안녕하세요');
  });
});
