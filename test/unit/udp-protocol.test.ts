import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_UDP_PAYLOAD_IPV4, MAX_UDP_PAYLOAD_IPV6 } from '../../src/defaults.js';
import { MessageTooLongError } from '../../src/errors.js';
import { checkDatagramSize, helloMessageOf, maxUdpPayload } from '../../src/protocol/datagram.js';
import { ECHO_PROMPT, EchoLineSplitter, formatEchoLine, isQuitLine } from '../../src/protocol/echo-client.js';
import { lectureStep, type TraceEvent } from '../../src/trace/events.js';
import { formatTraceEvent } from '../../src/trace/schema.js';

/** Feeds `input` once as one chunk and once byte by byte; both must give the same lines. */
function splitBothWays(input: Buffer, maxBytes = 100): string[] {
  const results: string[][] = [];
  for (const chunks of [[input], [...input].map((b) => Buffer.from([b]))]) {
    const splitter = new EchoLineSplitter(maxBytes);
    const lines = chunks.flatMap((chunk) => splitter.push(chunk));
    const last = splitter.end();
    if (last !== undefined) lines.push(last);
    results.push(lines.map((line) => line.toString('utf8')));
  }
  assert.deepEqual(results[1], results[0]);
  return results[0] ?? [];
}

describe('datagram limits', () => {
  test('the largest payloads are 65,507 bytes over IPv4 and 65,527 over IPv6', () => {
    assert.equal(maxUdpPayload('IPv4'), 65_507);
    assert.equal(maxUdpPayload('IPv6'), 65_527);
    assert.equal(MAX_UDP_PAYLOAD_IPV4, 65_535 - 20 - 8);
    assert.equal(MAX_UDP_PAYLOAD_IPV6, 65_535 - 8);
  });

  test('checkDatagramSize accepts the limit and refuses one byte more, as sendto', () => {
    checkDatagramSize(0, 'IPv4');
    checkDatagramSize(65_507, 'IPv4');
    checkDatagramSize(65_527, 'IPv6');
    for (const [length, family] of [
      [65_508, 'IPv4'],
      [65_528, 'IPv6'],
    ] as const) {
      assert.throws(
        () => checkDatagramSize(length, family),
        (error: unknown) =>
          error instanceof MessageTooLongError &&
          error.code === 'ERR_MESSAGE_TOO_LONG' &&
          error.call === 'sendto' &&
          error.message.includes(`${length} bytes`),
      );
    }
  });

  test('helloMessageOf keeps the bytes before the first NUL, or all of them', () => {
    assert.equal(helloMessageOf(Buffer.from('Hello World!\0')).toString(), 'Hello World!');
    assert.equal(helloMessageOf(Buffer.from('Hi\0junk\0')).toString(), 'Hi');
    assert.equal(helloMessageOf(Buffer.from('no nul')).toString(), 'no nul');
    assert.equal(helloMessageOf(Buffer.alloc(0)).length, 0);
    assert.equal(helloMessageOf(Buffer.from([0])).length, 0);
  });
});

describe('EchoLineSplitter', () => {
  test('lines keep their newline, as fgets hands them to sendto', () => {
    assert.deepEqual(splitBothWays(Buffer.from('hello\nworld\n')), ['hello\n', 'world\n']);
  });

  test('an empty line is one newline; CRLF stays as it came', () => {
    assert.deepEqual(splitBothWays(Buffer.from('\n\r\nx\r\n')), ['\n', '\r\n', 'x\r\n']);
  });

  test('the last line without a newline comes out at the end of input', () => {
    assert.deepEqual(splitBothWays(Buffer.from('one\ntwo')), ['one\n', 'two']);
    assert.deepEqual(splitBothWays(Buffer.alloc(0)), []);
  });

  test('UTF-8 split across chunks is reassembled byte for byte', () => {
    assert.deepEqual(splitBothWays(Buffer.from('안녕하세요\n소켓\n')), ['안녕하세요\n', '소켓\n']);
  });

  test('a line of exactly maxBytes passes; one byte more is refused before it is complete', () => {
    assert.deepEqual(splitBothWays(Buffer.from('abcd\n'), 5), ['abcd\n']);
    for (const chunks of [[Buffer.from('abcde')], [Buffer.from('abc'), Buffer.from('de')]]) {
      const splitter = new EchoLineSplitter(4);
      assert.throws(
        () => {
          for (const chunk of chunks) splitter.push(chunk);
        },
        (error: unknown) => error instanceof MessageTooLongError && error.call === 'sendto',
      );
    }
  });

  test('after a refused line the splitter holds nothing (memory stays bounded)', () => {
    const splitter = new EchoLineSplitter(3);
    assert.throws(() => splitter.push(Buffer.from('toolong')), MessageTooLongError);
    assert.equal(splitter.end(), undefined);
    assert.deepEqual(
      splitter.push(Buffer.from('ok\n')).map((l) => l.toString()),
      ['ok\n'],
    );
  });
});

describe('echo client texts', () => {
  test('q and Q quit, alone on a line or at the end of input; other lines do not', () => {
    for (const quit of ['q\n', 'Q\n', 'q', 'Q\r\n']) assert.equal(isQuitLine(Buffer.from(quit)), true, quit);
    for (const line of ['\n', 'qq\n', ' q\n', 'quit\n', 'x\n', '']) {
      assert.equal(isQuitLine(Buffer.from(line)), false, JSON.stringify(line));
    }
  });

  test('the prompt is the textbook one', () => {
    assert.equal(ECHO_PROMPT, 'Insert message(q to quit): ');
  });

  test('a reply is printed after the prefix as it came; a missing newline is added', () => {
    assert.equal(formatEchoLine(Buffer.from('hi\n')).toString(), 'Message from server: hi\n');
    assert.equal(formatEchoLine(Buffer.from('hi')).toString(), 'Message from server: hi\n');
    assert.equal(formatEchoLine(Buffer.alloc(0)).toString(), 'Message from server: \n');
  });
});

describe('UDP trace texts', () => {
  const base = { transport: 'udp', endpoint: 1, time: 0 } as const;
  const remote = { address: '127.0.0.1', port: 5000, family: 'IPv4' } as const;
  const remote6 = { address: '::1', port: 5000, family: 'IPv6' } as const;
  const event = (role: 'server' | 'client', action: TraceEvent['action'], fields: Partial<TraceEvent> = {}) =>
    ({ ...base, role, action, step: lectureStep('udp', role, action), ...fields }) as TraceEvent;

  test('every step of the UDP flow has an English and a Korean line', () => {
    const cases: [TraceEvent, string, string][] = [
      [
        event('server', 'bind', { local: remote }),
        '[server] 2 bind(): address 127.0.0.1:5000 assigned',
        '[서버] 2 IP와 PORT번호의 할당 bind(): 127.0.0.1:5000',
      ],
      [
        event('server', 'recvfrom', { remote: remote6, bytes: 1 }),
        '[server] 3 recvfrom(): 1 byte from [::1]:5000',
        '[서버] 3 데이터 수신 recvfrom(): [::1]:5000에서 1바이트',
      ],
      [
        event('server', 'sendto', { remote, bytes: 13 }),
        '[server] 3 sendto(): 13 bytes to 127.0.0.1:5000',
        '[서버] 3 데이터 송신 sendto(): 127.0.0.1:5000로 13바이트',
      ],
      [
        event('server', 'drop', { remote, reason: 'rate limit' }),
        '[server] 3 sendto(): reply to 127.0.0.1:5000 not sent (rate limit)',
        '[서버] 3 데이터 송신 sendto(): 127.0.0.1:5000로 응답하지 않음 (전송률 제한)',
      ],
      [event('server', 'close'), '[server] 4 close(): socket closed', '[서버] 4 소켓 종료 close()'],
      [
        event('client', 'sendto', { remote, bytes: 0 }),
        '[client] 2 sendto(): 0 bytes to 127.0.0.1:5000',
        '[클라이언트] 2 데이터 송신 sendto(): 127.0.0.1:5000로 0바이트',
      ],
      [
        event('client', 'recvfrom', { remote, bytes: 13 }),
        '[client] 3 recvfrom(): 13 bytes from 127.0.0.1:5000',
        '[클라이언트] 3 데이터 수신 recvfrom(): 127.0.0.1:5000에서 13바이트',
      ],
      [event('client', 'close'), '[client] 4 close(): socket closed', '[클라이언트] 4 소켓 종료 close()'],
    ];
    for (const [e, en, ko] of cases) {
      assert.equal(formatTraceEvent(e, 'en'), en);
      assert.equal(formatTraceEvent(e, 'ko'), ko);
    }
  });
});
