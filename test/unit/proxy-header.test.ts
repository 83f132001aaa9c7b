import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_PROXY_V2_MAX_LENGTH } from '../../src/defaults.js';
import { InvalidArgumentError, ProtocolError, ProxyHeaderError } from '../../src/errors.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import {
  type ProxyHeader,
  type ProxyHeaderFailure,
  ProxyHeaderParser,
  type ProxyHeaderParserOptions,
  type ProxyHeaderResult,
  parseProxyHeader,
  proxyHeaderPrefix,
} from '../../src/protocol/proxy-header.js';
import {
  CLIENT_TEXT,
  captureConfig,
  encodeV2,
  fixture,
  ipv4Block,
  ipv6Block,
  prng,
  referenceCheck,
  tlv,
  V2_SIGNATURE,
} from '../helpers/proxy-header.js';

interface Run {
  result: ProxyHeaderResult;
  /** The input's bytes the parser did not take: the last chunk's `unused` and the chunks after it. */
  rest: Buffer;
  /** How many bytes had been pushed when the answer came. */
  pushed: number;
}

/** Pushes chunks in order until the parser answers (or the chunks run out). */
function run(chunks: readonly Buffer[], options?: ProxyHeaderParserOptions): Run {
  const parser = new ProxyHeaderParser(options);
  let pushed = 0;
  for (const [i, chunk] of chunks.entries()) {
    const result = parser.push(chunk);
    pushed += chunk.length;
    if (result.done === false) continue;
    const unused = result.done === true ? result.unused : 0;
    assert.ok(unused >= 0 && unused <= chunk.length, `unused ${unused} of a ${chunk.length}-byte chunk`);
    const rest = Buffer.concat([chunk.subarray(chunk.length - unused), ...chunks.slice(i + 1)]);
    return { result, rest, pushed };
  }
  return { result: { done: false }, rest: Buffer.alloc(0), pushed };
}

const oneChunk = (input: Buffer) => [input];
const bytes = (input: Buffer) => [...input].map((b) => Buffer.from([b]));
/** Every split into two chunks, the first possibly empty. */
const splits = (input: Buffer) =>
  Array.from({ length: input.length + 1 }, (_, k) => [input.subarray(0, k), input.subarray(k)]);

/** Each way of feeding an input: one chunk, byte by byte, and split at every offset. */
function feedings(input: Buffer): { label: string; chunks: Buffer[] }[] {
  return [
    { label: 'one chunk', chunks: oneChunk(input) },
    { label: 'byte by byte', chunks: bytes(input) },
    ...splits(input).map((chunks, k) => ({ label: `split at ${k}`, chunks })),
  ];
}

/** Asserts that every feeding of `input` gives the header, with exactly `trailing` left over. */
function assertParses(input: Buffer, trailing: Buffer, options?: ProxyHeaderParserOptions): ProxyHeader {
  let first: ProxyHeader | undefined;
  for (const { label, chunks } of feedings(input)) {
    const { result, rest } = run(chunks, options);
    assert.equal(result.done, true, `${label}: ${JSON.stringify(result)}`);
    assert.ok(result.done === true);
    assert.deepEqual(rest, trailing, label);
    assert.equal(result.value.length, input.length - trailing.length, label);
    first ??= result.value;
    assert.deepEqual(result.value, first, label);
  }
  assert.ok(first !== undefined);
  return first;
}

/** Asserts that every feeding of `input` is refused for `reason` (after `atByte` bytes, when given). */
function assertRefused(
  input: Buffer,
  reason: ProxyHeaderFailure,
  { atByte, options }: { atByte?: number; options?: ProxyHeaderParserOptions } = {},
): void {
  for (const { label, chunks } of feedings(input)) {
    const { result, pushed } = run(chunks, options);
    assert.equal(result.done, 'error', `${label}: ${JSON.stringify(result)}`);
    assert.ok(result.done === 'error');
    assert.equal(result.reason, reason, `${label}: ${result.message}`);
    assert.ok(result.message.length > 0);
    if (atByte !== undefined && label === 'byte by byte')
      assert.equal(pushed, atByte, `refused after ${pushed} bytes`);
  }
}

const ascii = (text: string) => Buffer.from(text, 'latin1');
const SERVICE = ascii('GET / HTTP/1.0\r\n\r\n');

describe('PROXY header parser: headers captured from HAProxy 2.6 (test/fixtures/proxy)', () => {
  const { frontendPort, serverPort } = captureConfig();
  const clientText = ascii(CLIENT_TEXT);

  test('v1 TCP4 (send-proxy), followed by the client bytes', () => {
    const input = fixture('haproxy-v1-tcp4');
    const header = assertParses(input, clientText);
    assert.equal(header.version, 1);
    assert.equal(header.command, 'proxy');
    assert.equal(header.family, 'tcp4');
    assert.equal(header.source?.address, '127.0.0.1');
    assert.equal(header.source?.family, 'IPv4');
    assert.ok((header.source?.port ?? 0) > 0);
    assert.deepEqual(header.destination, {
      address: '127.0.0.1',
      port: frontendPort.get('haproxy-v1-tcp4'),
      family: 'IPv4',
    });
    assert.deepEqual(header.tlvs.types, []);
    assert.equal(
      input.subarray(0, header.length).toString('latin1'),
      `PROXY TCP4 127.0.0.1 127.0.0.1 ${header.source?.port} ${header.destination?.port}\r\n`,
    );
  });

  test('v1 TCP6 (a client on ::1)', () => {
    const header = assertParses(fixture('haproxy-v1-tcp6'), clientText);
    assert.equal(header.family, 'tcp6');
    assert.equal(header.source?.address, '::1');
    assert.equal(header.source?.family, 'IPv6');
    assert.deepEqual(header.destination, {
      address: '::1',
      port: frontendPort.get('haproxy-v1-tcp6'),
      family: 'IPv6',
    });
  });

  test('v2 TCP4 (send-proxy-v2)', () => {
    const header = assertParses(fixture('haproxy-v2-tcp4'), clientText);
    assert.equal(header.version, 2);
    assert.equal(header.command, 'proxy');
    assert.equal(header.family, 'tcp4');
    assert.equal(header.length, 28);
    assert.equal(header.source?.address, '127.0.0.1');
    assert.deepEqual(header.destination, {
      address: '127.0.0.1',
      port: frontendPort.get('haproxy-v2-tcp4'),
      family: 'IPv4',
    });
    assert.deepEqual(header.tlvs, { types: [] });
  });

  test('v2 TCP6', () => {
    const header = assertParses(fixture('haproxy-v2-tcp6'), clientText);
    assert.equal(header.family, 'tcp6');
    assert.equal(header.length, 52);
    assert.equal(header.source?.address, '::1');
    assert.deepEqual(header.destination, {
      address: '::1',
      port: frontendPort.get('haproxy-v2-tcp6'),
      family: 'IPv6',
    });
  });

  test('v2 with proxy-v2-options crc32c,unique-id: the checksum verifies, the unique id reads', () => {
    const header = assertParses(fixture('haproxy-v2-tcp4-crc32c-unique-id'), clientText);
    assert.equal(header.family, 'tcp4');
    assert.deepEqual(header.tlvs.types, [0x03, 0x05]);
    assert.equal(typeof header.tlvs.crc32c, 'number');
    // unique-id-format %{+X}o %ci:%cp_%fi:%fp_%Ts_%rt:%pid: client and frontend address:port in hex.
    const port = (n: number | undefined) => (n ?? -1).toString(16).toUpperCase().padStart(4, '0');
    const match = /^7F000001:([0-9A-F]{4})_7F000001:([0-9A-F]{4})_[0-9A-F]+_[0-9A-F]+:[0-9A-F]+$/.exec(
      header.tlvs.uniqueId ?? '',
    );
    assert.ok(match !== null, header.tlvs.uniqueId);
    assert.equal(match[1], port(header.source?.port));
    assert.equal(match[2], port(frontendPort.get('haproxy-v2-tcp4-crc32c-unique-id')));
  });

  test('v1 health check (check-send-proxy): a TCP4 line with HAProxy`s own addresses, nothing after', () => {
    const header = assertParses(fixture('haproxy-v1-check'), Buffer.alloc(0));
    assert.equal(header.family, 'tcp4');
    assert.equal(header.source?.address, '127.0.0.1');
    assert.deepEqual(header.destination, {
      address: '127.0.0.1',
      port: serverPort.get('haproxy-v1-check'),
      family: 'IPv4',
    });
  });

  test('v2 health check: LOCAL, use the real endpoints', () => {
    const input = fixture('haproxy-v2-check-local');
    assert.deepEqual(input.subarray(12), Buffer.from([0x20, 0x00, 0x00, 0x00]));
    const header = assertParses(input, Buffer.alloc(0));
    assert.deepEqual(header, {
      version: 2,
      command: 'local',
      family: 'unknown',
      tlvs: { types: [] },
      length: 16,
    });
  });

  test('the captured CRC32C fails once any bit of the header changes', () => {
    const input = fixture('haproxy-v2-tcp4-crc32c-unique-id');
    const header = input.subarray(0, input.length - CLIENT_TEXT.length);
    // A bit in the unique id's value: only the checksum can notice.
    const flipped = Buffer.from(header);
    flipped[60] = (flipped[60] ?? 0) ^ 0x01;
    assertRefused(flipped, 'v2-crc32c', { atByte: header.length });
    const wrongSum = Buffer.from(header);
    wrongSum[32] = (wrongSum[32] ?? 0) ^ 0x80; // the checksum value is bytes 31-34
    assertRefused(wrongSum, 'v2-crc32c');
  });
});

describe('PROXY header parser: hand-made valid headers', () => {
  const v1 = [
    ['the spec`s example', 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n', '192.168.0.1', 56324],
    [
      'TCP4 longest (56 bytes)',
      'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n',
      '255.255.255.255',
      65535,
    ],
    ['zeros', 'PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n', '0.0.0.0', 0],
    [
      'TCP6 longest (104 bytes), upper case, canonical out',
      `PROXY TCP6 ${'FFFF:'.repeat(7)}FFFF ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`,
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      65535,
    ],
    [
      'TCP6 with leading zeros in groups',
      'PROXY TCP6 2001:0db8:0000:0000:0000:0000:0000:0001 ::1 1 2\r\n',
      '2001:db8::1',
      1,
    ],
    ['TCP6 v4-mapped, as Node prints it', 'PROXY TCP6 ::FFFF:7f00:1 ::1 1 2\r\n', '::ffff:127.0.0.1', 1],
    ['TCP6 with a dotted tail', 'PROXY TCP6 ::ffff:10.0.0.1 ::1 1 2\r\n', '::ffff:10.0.0.1', 1],
  ] as const;
  for (const [name, line, address, port] of v1) {
    test(`v1 ${name}`, () => {
      const header = assertParses(Buffer.concat([ascii(line), SERVICE]), SERVICE);
      assert.equal(header.length, line.length);
      assert.equal(header.source?.address, address);
      assert.equal(header.source?.port, port);
    });
  }

  test('v1 UNKNOWN, short and worst case (107 bytes): use the real endpoints', () => {
    for (const line of [
      'PROXY UNKNOWN\r\n',
      'PROXY UNKNOWN whatever the sender puts here!\r\n',
      `PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`,
    ]) {
      const header = assertParses(Buffer.concat([ascii(line), SERVICE]), SERVICE);
      assert.deepEqual(header, {
        version: 1,
        command: 'proxy',
        family: 'unknown',
        tlvs: { types: [] },
        length: line.length,
      });
    }
    assert.equal(
      `PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`.length,
      107,
    );
  });

  test('v2 TCP6 with a v4-mapped source', () => {
    const input = encodeV2({
      family: 0x21,
      addresses: ipv6Block('00000000000000000000ffffc0000201', '20010db8000000000000000000000001', 1234, 443),
    });
    const header = assertParses(Buffer.concat([input, SERVICE]), SERVICE);
    assert.deepEqual(header.source, { address: '::ffff:192.0.2.1', port: 1234, family: 'IPv6' });
    assert.deepEqual(header.destination, { address: '2001:db8::1', port: 443, family: 'IPv6' });
  });

  test('v2 TLVs: values read, every type listed in order, CRC32C verified', () => {
    const input = encodeV2({
      tlvs: [
        tlv(0x01, 'h2'),
        tlv(0x02, 'example.com'),
        tlv(0x04, Buffer.alloc(5)),
        tlv(0x05, 'id-123'),
        tlv(0x20, Buffer.from([0x01, 0, 0, 0, 0])),
        tlv(0x30, 'blue'),
        tlv(0xe0, Buffer.alloc(0)),
      ],
      crc32c: true,
    });
    const header = assertParses(Buffer.concat([input, SERVICE]), SERVICE);
    assert.deepEqual(header.tlvs.types, [0x01, 0x02, 0x04, 0x05, 0x20, 0x30, 0xe0, 0x03]);
    assert.equal(header.tlvs.alpn, 'h2');
    assert.equal(header.tlvs.authority, 'example.com');
    assert.equal(header.tlvs.uniqueId, 'id-123');
    assert.equal(header.tlvs.netns, 'blue');
    assert.equal(header.tlvs.crc32c, input.readUInt32BE(input.length - 4));
    assert.deepEqual(header.source, { address: '192.0.2.1', port: 56324, family: 'IPv4' });
  });

  test('v2 authority of 255 bytes and unique id of 128 bytes are the largest taken', () => {
    const input = encodeV2({ tlvs: [tlv(0x02, 'a'.repeat(255)), tlv(0x05, 'u'.repeat(128))] });
    assert.equal(assertParses(input, Buffer.alloc(0)).tlvs.authority?.length, 255);
    assertRefused(encodeV2({ tlvs: [tlv(0x02, 'a'.repeat(256))] }), 'v2-tlv');
    assertRefused(encodeV2({ tlvs: [tlv(0x05, 'u'.repeat(129))] }), 'v2-tlv');
  });

  test('v2 PROXY over UDP, UNIX or UNSPEC: accepted, no source (the real endpoints)', () => {
    for (const [family, size, name] of [
      [0x12, 12, 'udp4'],
      [0x22, 36, 'udp6'],
      [0x31, 216, 'unix-stream'],
      [0x32, 216, 'unix-dgram'],
      [0x00, 7, 'unknown'],
    ] as const) {
      const input = encodeV2({ family, addresses: Buffer.alloc(size, 0x41) });
      const header = assertParses(Buffer.concat([input, SERVICE]), SERVICE);
      assert.equal(header.command, 'proxy');
      assert.equal(header.family, name);
      assert.equal(header.source, undefined);
      assert.equal(header.destination, undefined);
    }
  });

  test('v2 UDP and UNIX still need their whole address block and whole TLVs', () => {
    assertRefused(encodeV2({ family: 0x31, addresses: Buffer.alloc(215) }), 'v2-length', { atByte: 16 });
    assertRefused(encodeV2({ family: 0x12, addresses: Buffer.alloc(13) }), 'v2-tlv');
  });

  test('v2 LOCAL: any family, whatever follows the length is skipped unread', () => {
    for (const family of [0x00, 0x11, 0x21, 0x31, 0xff]) {
      const input = encodeV2({ versionCommand: 0x20, family, addresses: Buffer.alloc(7, 0xee) });
      const header = assertParses(Buffer.concat([input, SERVICE]), SERVICE);
      assert.equal(header.command, 'local');
      assert.equal(header.source, undefined);
      assert.equal(header.length, 23);
    }
  });

  test('v2 at the length bound is taken; one more is refused as soon as the length arrives', () => {
    const at = (length: number) =>
      encodeV2({
        addresses: Buffer.concat([
          ipv4Block('10.0.0.1', '10.0.0.2', 1, 2),
          tlv(0x04, Buffer.alloc(length - 15)),
        ]),
      });
    assert.equal(
      assertParses(at(DEFAULT_PROXY_V2_MAX_LENGTH), Buffer.alloc(0)).length,
      16 + DEFAULT_PROXY_V2_MAX_LENGTH,
    );
    assertRefused(at(DEFAULT_PROXY_V2_MAX_LENGTH + 1), 'v2-too-long', { atByte: 16 });
    assertRefused(at(100), 'v2-too-long', { atByte: 16, options: { maxV2Length: 99 } });
    assert.equal(assertParses(at(100), Buffer.alloc(0), { maxV2Length: 100 }).length, 116);
  });
});

describe('PROXY header parser: refusals', () => {
  const refusals: [string, Buffer, ProxyHeaderFailure, number?][] = [
    ['HTTP instead of a header', ascii('GET / HTTP/1.1\r\n'), 'not-proxy', 1],
    ['an empty first byte', Buffer.from([0]), 'not-proxy', 1],
    ['PROXY without its space', ascii('PROXY\r\n'), 'not-proxy', 6],
    ['lower case proxy', ascii('proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n'), 'not-proxy', 1],
    [
      'a v2 signature cut short by other bytes',
      Buffer.concat([V2_SIGNATURE.subarray(0, 5), ascii('xyz')]),
      'not-proxy',
      6,
    ],
    ['v1 over 107 bytes', ascii(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`), 'v1-too-long', 107],
    ['v1 107 bytes with no CRLF', ascii(`PROXY UNKNOWN ${'x'.repeat(93)}`), 'v1-too-long', 107],
    ['v1 a LF alone', ascii('PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n'), 'v1-malformed', 31],
    ['v1 a CR alone', ascii('PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX'), 'v1-malformed', 32],
    ['v1 UNKNOWN with a lone LF inside', ascii('PROXY UNKNOWN a\nb\r\n'), 'v1-malformed', 16],
    ['v1 UNKNOWN with a NUL inside', ascii('PROXY UNKNOWN a\0b\r\n'), 'v1-malformed', 16],
    ['v1 two spaces', ascii('PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n'), 'v1-malformed', 12],
    ['v1 unknown protocol', ascii('PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n'), 'v1-malformed', 8],
    ['v1 TCP44', ascii('PROXY TCP44 1.2.3.4 1.2.3.4 1 2\r\n'), 'v1-malformed', 11],
    ['v1 UNKNOWNX', ascii('PROXY UNKNOWNX\r\n'), 'v1-malformed', 14],
    ['v1 TCP4 without addresses', ascii('PROXY TCP4\r\n'), 'v1-malformed', 11],
    ['v1 a missing port', ascii('PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n'), 'v1-malformed', 29],
    ['v1 a seventh field', ascii('PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n'), 'v1-malformed', 31],
    ['v1 trailing space', ascii('PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n'), 'v1-malformed', 31],
    ['v1 an IPv6 address in TCP4', ascii('PROXY TCP4 ::1 ::1 1 2\r\n'), 'v1-bad-address', 12],
    ['v1 an IPv4 address in TCP6', ascii('PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n'), 'v1-bad-address', 19],
    ['v1 a leading zero in IPv4', ascii('PROXY TCP4 192.168.0.01 1.2.3.4 1 2\r\n'), 'v1-bad-address', 24],
    ['v1 an octet over 255', ascii('PROXY TCP4 1.2.3.256 1.2.3.4 1 2\r\n'), 'v1-bad-address', 21],
    ['v1 three octets', ascii('PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n'), 'v1-bad-address', 17],
    ['v1 two ::', ascii('PROXY TCP6 1::2::3 ::1 1 2\r\n'), 'v1-bad-address', 19],
    ['v1 nine IPv6 groups', ascii('PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n'), 'v1-bad-address', 29],
    ['v1 an IPv6 zone', ascii('PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'), 'v1-bad-address', 19],
    ['v1 a leading zero in a port', ascii('PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n'), 'v1-bad-port', 30],
    ['v1 a port over 65535', ascii('PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n'), 'v1-bad-port', 35],
    ['v1 a signed port', ascii('PROXY TCP4 1.2.3.4 1.2.3.4 +1 2\r\n'), 'v1-bad-port', 28],
    ['v2 version 1', encodeV2({ versionCommand: 0x11 }), 'v2-bad-version', 13],
    ['v2 version 3', encodeV2({ versionCommand: 0x31 }), 'v2-bad-version', 13],
    ['v2 command 2', encodeV2({ versionCommand: 0x22 }), 'v2-bad-command', 13],
    ['v2 command 15', encodeV2({ versionCommand: 0x2f }), 'v2-bad-command', 13],
    ['v2 PROXY with family 0x41', encodeV2({ family: 0x41 }), 'v2-bad-family', 14],
    ['v2 PROXY with family 0x13', encodeV2({ family: 0x13 }), 'v2-bad-family', 14],
    ['v2 PROXY with family 0x10', encodeV2({ family: 0x10 }), 'v2-bad-family', 14],
    ['v2 length 65535', encodeV2({ length: 0xffff }), 'v2-too-long', 16],
    ['v2 TCP4 with length 11', encodeV2({ length: 11 }), 'v2-length', 16],
    ['v2 TCP4 with length 0', encodeV2({ length: 0 }), 'v2-length', 16],
    ['v2 TCP6 with length 35', encodeV2({ family: 0x21, length: 35 }), 'v2-length', 16],
    ['v2 TCP6 with a TCP4-sized block', encodeV2({ family: 0x21 }), 'v2-length', 16],
    ['v2 a cut TLV header', encodeV2({ tlvs: [Buffer.from([0x04, 0x00])] }), 'v2-tlv', 30],
    ['v2 a TLV that overruns', encodeV2({ tlvs: [tlv(0x04, Buffer.alloc(3), 4)] }), 'v2-tlv', 34],
    ['v2 a CRC32C TLV of 3 bytes', encodeV2({ tlvs: [tlv(0x03, Buffer.alloc(3))] }), 'v2-tlv'],
    ['v2 two CRC32C TLVs', encodeV2({ tlvs: [tlv(0x03, Buffer.alloc(4))], crc32c: true }), 'v2-tlv'],
    ['v2 two authorities', encodeV2({ tlvs: [tlv(0x02, 'a'), tlv(0x02, 'b')] }), 'v2-tlv'],
    ['v2 a wrong CRC32C', encodeV2({ crc32c: 0xdeadbeef }), 'v2-crc32c', 35],
    ['v2 a CRC32C of zero', encodeV2({ tlvs: [tlv(0x05, 'x')], crc32c: 0 }), 'v2-crc32c'],
  ];
  for (const [name, input, reason, atByte] of refusals) {
    test(`${name}: ${reason}${atByte === undefined ? '' : ` after byte ${atByte}`}`, () => {
      assertRefused(input, reason, atByte === undefined ? {} : { atByte });
    });
  }

  test('v2 lengths that lie: too long waits for more, then the extra bytes must be whole TLVs', () => {
    const real = encodeV2({ tlvs: [tlv(0x05, 'abc')] });
    for (let extra = 1; extra <= 40; extra++) {
      const lying = Buffer.from(real);
      lying.writeUInt16BE(real.length - 16 + extra, 14);
      // Only the header's own bytes: the parser waits for the rest.
      for (const feeding of feedings(lying))
        assert.equal(run(feeding.chunks).result.done, false, feeding.label);
      // With the service's bytes after it, they are read as TLVs that do not fit.
      const { result } = run([Buffer.concat([lying, SERVICE.subarray(0, 2), Buffer.alloc(extra)])]);
      assert.equal(result.done, 'error', `extra ${extra}`);
      assert.equal(result.done === 'error' && result.reason, 'v2-tlv', `extra ${extra}`);
    }
    // Shorter: the last TLV overruns, or (cut to the address block exactly) the TLV becomes service
    // bytes, or the address block no longer fits.
    for (let short = 1; short <= real.length - 16; short++) {
      const lying = Buffer.from(real);
      const length = real.length - 16 - short;
      lying.writeUInt16BE(length, 14);
      const { result } = run([lying]);
      if (length === 12) {
        assert.ok(result.done === true && result.unused === short, JSON.stringify(result));
      } else {
        const expected = length < 12 ? 'v2-length' : 'v2-tlv';
        assert.equal(result.done === 'error' && result.reason, expected, `short ${short}`);
      }
    }
  });
});

/** The parser's verdict on `input` agrees with the reference check (see test/helpers/proxy-header.ts). */
function assertAgreesWithReference(input: Buffer, context: string, options?: ProxyHeaderParserOptions): void {
  const maxV2Length = options?.maxV2Length ?? DEFAULT_PROXY_V2_MAX_LENGTH;
  const reference = referenceCheck(input, maxV2Length);
  for (const chunks of [oneChunk(input), bytes(input)]) {
    const { result } = run(chunks, options);
    const label = `${context} (${chunks.length} chunks): ${input.toString('hex')} -> ${JSON.stringify(result)}, reference ${JSON.stringify(reference)}`;
    if (result.done === true) {
      assert.equal(reference.valid, true, label);
      assert.ok(reference.valid === true);
      assert.equal(result.value.length, reference.length, label);
      assert.deepEqual(
        result.value.source === undefined
          ? undefined
          : { address: result.value.source.address, port: result.value.source.port },
        reference.source,
        label,
      );
    } else if (result.done === false) {
      assert.equal(reference.valid, 'incomplete', label);
    } else {
      // Refused: the reference agrees, or cannot tell yet (the parser refuses early).
      assert.notEqual(reference.valid, true, label);
    }
  }
}

describe('PROXY header parser: generated input', () => {
  const valid: [string, Buffer][] = [
    ['v1-tcp4', fixture('haproxy-v1-tcp4')],
    ['v1-tcp6', fixture('haproxy-v1-tcp6')],
    ['v2-tcp4', fixture('haproxy-v2-tcp4')],
    ['v2-tcp6', fixture('haproxy-v2-tcp6')],
    ['v2-crc32c', fixture('haproxy-v2-tcp4-crc32c-unique-id')],
    ['v2-local', fixture('haproxy-v2-check-local')],
    ['v1-unknown', ascii('PROXY UNKNOWN ::1 ::1 1 2\r\n')],
    ['v1-tcp6-long', ascii(`PROXY TCP6 ${'ffff:'.repeat(7)}ffff 1:0:0:1::1 65535 65535\r\n`)],
    [
      'v2-tlvs',
      encodeV2({
        tlvs: [tlv(0x02, 'example.com'), tlv(0x04, Buffer.alloc(2)), tlv(0x05, 'u')],
        crc32c: true,
      }),
    ],
    ['v2-unix', encodeV2({ family: 0x31, addresses: Buffer.alloc(216, 0x2f), tlvs: [tlv(0xea, 'vpce')] })],
  ];

  test('random bytes: refused or waiting for more, never accepted, never thrown', () => {
    const random = prng(0x5eed);
    for (let n = 0; n < 3000; n++) {
      const input = Buffer.from(
        Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)),
      );
      for (const chunks of [oneChunk(input), bytes(input)]) {
        const { result } = run(chunks);
        assert.notEqual(result.done, true, input.toString('hex'));
      }
    }
  });

  test('random bytes after a valid start: the parser agrees with the reference check', () => {
    const random = prng(42);
    const starts = [
      ascii('PROXY '),
      ascii('PROXY TCP4 '),
      ascii('PROXY UNKNOWN'),
      V2_SIGNATURE,
      Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11])]),
    ];
    for (let n = 0; n < 3000; n++) {
      const start = starts[n % starts.length] ?? Buffer.alloc(0);
      const alphabet = n % 2 === 0 ? ascii('0123456789.:abcdef \r\n') : undefined;
      const tail = Array.from({ length: Math.floor(random() * 120) }, () =>
        alphabet === undefined
          ? Math.floor(random() * 256)
          : (alphabet[Math.floor(random() * alphabet.length)] ?? 0),
      );
      assertAgreesWithReference(Buffer.concat([start, Buffer.from(tail)]), `random ${n}`, {
        maxV2Length: 300,
      });
    }
  });

  test('valid headers cut at every offset: always waiting for more, never accepted or refused', () => {
    for (const [name, input] of valid) {
      const length = parseLength(input);
      for (let cut = 0; cut < length; cut++) {
        const prefix = input.subarray(0, cut);
        for (const chunks of [oneChunk(prefix), bytes(prefix)]) {
          assert.deepEqual(run(chunks).result, { done: false }, `${name} cut at ${cut}`);
        }
      }
    }
  });

  test('every single bit flip of a valid header: refused, waiting, or still a header the spec allows', () => {
    for (const [name, input] of valid) {
      const length = parseLength(input);
      for (let bit = 0; bit < (length + 2) * 8 && bit < input.length * 8; bit++) {
        const flipped = Buffer.from(input);
        flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (0x80 >> (bit & 7));
        assertAgreesWithReference(flipped, `${name} bit ${bit}`);
      }
    }
  });

  test('pairs of random bit flips of v2 headers agree with the reference check too', () => {
    const random = prng(7);
    for (const [name, input] of valid.filter(([n]) => n.startsWith('v2'))) {
      for (let n = 0; n < 400; n++) {
        const flipped = Buffer.from(input);
        for (let k = 0; k < 2; k++) {
          const bit = Math.floor(random() * Math.min(input.length, parseLength(input) + 2) * 8);
          flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (0x80 >> (bit & 7));
        }
        assertAgreesWithReference(flipped, `${name} flips ${n}`);
      }
    }
  });
});

/** The header length of a valid input. */
function parseLength(input: Buffer): number {
  const result = parseProxyHeader(input);
  assert.ok(result.done === true, JSON.stringify(result));
  return result.value.length;
}

describe('PROXY header parser: API', () => {
  test('after an answer, pushing repeats it (a header leaves the whole new chunk unused)', () => {
    const parser = new ProxyHeaderParser();
    const first = parser.push(fixture('haproxy-v2-tcp4'));
    assert.equal(first.done, true);
    assert.equal(parser.bufferedBytes, 0);
    const again = parser.push(Buffer.from('more'));
    assert.ok(again.done === true && first.done === true);
    assert.deepEqual(again.value, first.value);
    assert.equal(again.unused, 4);
    const refusing = new ProxyHeaderParser();
    const refusal = refusing.push(ascii('GET'));
    assert.deepEqual(refusing.push(ascii('PROXY ')), refusal);
  });

  test('bufferedBytes grows with an unfinished header', () => {
    const parser = new ProxyHeaderParser();
    assert.equal(parser.bufferedBytes, 0);
    parser.push(ascii('PROXY TCP4 1.2'));
    assert.equal(parser.bufferedBytes, 14);
    parser.push(Buffer.alloc(0));
    assert.equal(parser.bufferedBytes, 14);
  });

  test('the result does not alias the input (the caller may reuse its buffer)', () => {
    const input = encodeV2({ tlvs: [tlv(0x02, 'example.com')] });
    const result = parseProxyHeader(input);
    input.fill(0);
    assert.ok(result.done === true);
    assert.equal(result.value.tlvs.authority, 'example.com');
    assert.equal(result.value.source?.address, '192.0.2.1');
  });

  test('proxyHeaderPrefix: results for readPrefix, a ProxyHeaderError with the reason for a refusal', () => {
    const parse = proxyHeaderPrefix();
    const input = fixture('haproxy-v1-tcp4');
    assert.deepEqual(parse(input.subarray(0, 10)), { done: false });
    const result = parse(input.subarray(10));
    assert.ok(result.done);
    assert.equal(result.unused, CLIENT_TEXT.length);
    const refuse = proxyHeaderPrefix({ maxV2Length: 100 });
    assert.throws(
      () => refuse(encodeV2({ length: 101 })),
      (error: unknown) =>
        error instanceof ProxyHeaderError &&
        error instanceof ProtocolError &&
        error.code === 'ERR_PROXY_HEADER' &&
        error.reason === 'v2-too-long' &&
        error.call === 'read' &&
        /over the limit of 100/.test(error.message),
    );
  });

  test('a bad maxV2Length is refused when the parser is built, naming it', () => {
    for (const bad of [-1, 65536, 1.5, Number.NaN]) {
      assert.throws(() => new ProxyHeaderParser({ maxV2Length: bad }), InvalidArgumentError);
    }
    assert.throws(() => new ProxyHeaderParser({ maxV2Length: 70000 }), /PROXY v2 max length '70000'/);
  });
});

describe('crc32c', () => {
  test('the standard check value and RFC 3720 test vectors', () => {
    assert.equal(crc32c(ascii('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
  });

  test('a range, and continuing over more bytes', () => {
    const data = ascii('xx123456789yy');
    assert.equal(crc32c(data, 2, 11), 0xe3069283);
    assert.equal(crc32c(ascii('56789'), 0, 5, crc32c(ascii('1234'))), 0xe3069283);
  });
});
