/**
 * The view's window on `ss`: each line of its real output parsed (IPv4, IPv6, IPv4-mapped,
 * link-local with a zone, wildcards, queues), the framer fed at once and byte by byte, and the
 * filter that names only the wanted sockets, shaped as a search on the client's port.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSsLine, SsFramer, type SsRow, ssFamily, ssFilter } from '../../src/view/ss.js';
import { SS_LISTEN_QUEUED, SS_MIXED, SS_WITH_HEADER } from '../fixtures/ss-output.js';

const row = (
  state: SsRow['state'],
  recvQ: number,
  sendQ: number,
  local: string,
  localPort: number,
  peer: string,
  peerPort: number,
): SsRow => ({
  state,
  recvQ,
  sendQ,
  localAddress: local,
  localPort,
  peerAddress: peer,
  peerPort,
});

const MIXED_ROWS: SsRow[] = [
  row('LISTEN', 0, 511, '127.0.0.1', 38971, '0.0.0.0', 0),
  row('ESTABLISHED', 0, 0, '127.0.0.1', 55778, '127.0.0.1', 38971),
  row('ESTABLISHED', 14, 0, '127.0.0.1', 38971, '127.0.0.1', 55778),
  row('CLOSE_WAIT', 0, 0, '127.0.0.1', 39166, '127.0.0.1', 39265),
  row('LISTEN', 0, 511, '::1', 34439, '::', 0),
  row('LISTEN', 0, 511, '*', 39265, '*', 0),
  row('LISTEN', 0, 511, 'fe80::fc:ff:fe00:1', 39589, '::', 0),
  row('FIN_WAIT2', 0, 0, '::ffff:127.0.0.1', 39265, '::ffff:127.0.0.1', 39166),
  row('ESTABLISHED', 0, 0, 'fe80::fc:ff:fe00:1', 39589, 'fe80::fc:ff:fe00:1', 45176),
  row('TIME_WAIT', 0, 0, '::1', 34439, '::1', 60316),
  row('ESTABLISHED', 0, 0, 'fe80::fc:ff:fe00:1', 45176, 'fe80::fc:ff:fe00:1', 39589),
];

describe("ss's output", () => {
  test('each captured line: state, queues, both ends (brackets, zone and wildcards removed)', () => {
    const lines = SS_MIXED.split('\n').filter((l) => l !== '');
    assert.deepEqual(
      lines.map((l) => parseSsLine(l)),
      MIXED_ROWS,
    );
    assert.deepEqual(parseSsLine(SS_LISTEN_QUEUED), row('LISTEN', 2, 511, '127.0.0.1', 35009, '0.0.0.0', 0));
  });

  test('not rows: the header, blanks, unknown shapes; an unknown state name is UNKNOWN', () => {
    for (const line of [
      'State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess',
      '',
      '   ',
      'ESTAB 0 0 127.0.0.1:80',
      'ESTAB x 0 127.0.0.1:80 127.0.0.1:5000',
      'ESTAB 0 0 127.0.0.1:99999 127.0.0.1:5000',
      'ESTAB 0 0 127.0.0.1 127.0.0.1:5000',
      'ESTAB 0 0 [::1:80 127.0.0.1:5000',
      'ESTAB 0 0 evil.example:80 127.0.0.1:5000',
    ]) {
      assert.equal(parseSsLine(line), undefined, JSON.stringify(line));
    }
    assert.equal(parseSsLine('SYN-LATER 0 0 127.0.0.1:80 127.0.0.1:5000')?.state, 'UNKNOWN');
    // With a Netid column (ss -an with more than one kind of socket), and IPv6 as old ss printed it.
    assert.deepEqual(
      parseSsLine('tcp   ESTAB 0 0 127.0.0.1:80 127.0.0.1:5000'),
      row('ESTABLISHED', 0, 0, '127.0.0.1', 80, '127.0.0.1', 5000),
    );
    assert.deepEqual(
      parseSsLine('TIME-WAIT 0 0 ::1:80 ::1:5000'),
      row('TIME_WAIT', 0, 0, '::1', 80, '::1', 5000),
    );
  });

  test('the framer: the same rows from one chunk and byte by byte; a last line without its newline', () => {
    const whole = new SsFramer();
    assert.deepEqual([...whole.push(Buffer.from(SS_MIXED)), ...whole.end()], MIXED_ROWS);
    const bytes = new SsFramer();
    const rows: SsRow[] = [];
    const input = Buffer.from(SS_MIXED.slice(0, -1));
    for (let i = 0; i < input.length; i++) rows.push(...bytes.push(input.subarray(i, i + 1)));
    assert.equal(rows.length, MIXED_ROWS.length - 1, 'the last line is not complete yet');
    rows.push(...bytes.end());
    assert.deepEqual(rows, MIXED_ROWS);
    const header = new SsFramer();
    assert.deepEqual(
      [...header.push(SS_WITH_HEADER), ...header.end()],
      [row('LISTEN', 2, 511, '127.0.0.1', 35009, '0.0.0.0', 0)],
    );
    assert.equal(header.skipped, 1, 'the header');
  });

  test('the framer drops a line longer than any ss prints, whole, and goes on', () => {
    const framer = new SsFramer();
    const long = `ESTAB 0 0 127.0.0.1:80 127.0.0.1:5000 ${'x'.repeat(5000)}`;
    const rows: SsRow[] = [];
    for (let i = 0; i < long.length; i += 700) rows.push(...framer.push(long.slice(i, i + 700)));
    rows.push(...framer.push('\nTIME-WAIT 0 0 127.0.0.1:80 127.0.0.1:5001\n'));
    assert.deepEqual(rows, [row('TIME_WAIT', 0, 0, '127.0.0.1', 80, '127.0.0.1', 5001)]);
    assert.equal(framer.skipped, 1);
  });
});

describe('the ss filter', () => {
  const v4 = (port: number) => ({ address: '127.0.0.1', port });

  test('one connection: both its rows by exact address and port, and the LISTEN row', () => {
    assert.equal(
      ssFilter([{ local: v4(9000), remote: v4(5000) }], [v4(9000)]),
      '( sport = :9000 and ( dst 127.0.0.1:5000 ) ) or ( dport = :9000 and ( src 127.0.0.1:5000 ) )' +
        ' or ( sport = :9000 and dport = :0 )',
    );
    assert.equal(ssFilter([], []), '', 'nothing to ask for');
  });

  test('IPv4-mapped clients as plain IPv4, IPv6 in brackets without a zone, a wildcard by port only', () => {
    assert.equal(
      ssFilter(
        [
          {
            local: { address: '::ffff:127.0.0.1', port: 80 },
            remote: { address: '::ffff:127.0.0.1', port: 5000 },
          },
          { local: { address: '::1', port: 80 }, remote: { address: '::1', port: 5001 } },
          { local: { address: 'fe80::1%eth0', port: 80 }, remote: { address: 'fe80::2%eth0', port: 5002 } },
          { local: { address: '::', port: 80 }, remote: { address: '', port: 5003 } },
        ],
        [],
      ),
      '( sport = :80 and ( dst 127.0.0.1:5000 or dst [::1]:5001 or dst [fe80::2]:5002 or dport = :5003 ) )' +
        ' or ( dport = :80 and ( src 127.0.0.1:5000 or src [::1]:5001 or src [fe80::2]:5002 or sport = :5003 ) )',
    );
  });

  test("many connections: a search on the client's port, so that the kernel rejects a socket in a few tests", () => {
    const connections = Array.from({ length: 300 }, (_, i) => ({
      local: v4(9000),
      remote: v4(60_000 - i * 7),
    }));
    const filter = ssFilter(connections, [v4(9000)]);
    // Every client end appears once per direction.
    assert.equal(filter.match(/dst 127\.0\.0\.1:\d+/g)?.length, 300);
    assert.equal(filter.match(/src 127\.0\.0\.1:\d+/g)?.length, 300);
    // The search's depth: the deepest nesting of parentheses stays logarithmic in the count.
    let depth = 0;
    let deepest = 0;
    for (const token of filter.split(' ')) {
      if (token === '(') deepest = Math.max(deepest, ++depth);
      if (token === ')') depth--;
    }
    assert.equal(depth, 0, 'balanced');
    assert.ok(deepest <= 2 + 2 * Math.ceil(Math.log2(300 / 4) + 1), `nesting ${deepest}`);
    // The five-connection case, as a reader can check it by eye.
    const five = [5005, 5001, 5004, 5002, 5003].map((port) => ({ local: v4(9000), remote: v4(port) }));
    assert.equal(
      ssFilter(five, []),
      '( sport = :9000 and ( ( dport < :5003 and ( dst 127.0.0.1:5001 or dst 127.0.0.1:5002 ) )' +
        ' or ( dport >= :5003 and ( dst 127.0.0.1:5003 or dst 127.0.0.1:5004 or dst 127.0.0.1:5005 ) ) ) )' +
        ' or ( dport = :9000 and ( ( sport < :5003 and ( src 127.0.0.1:5001 or src 127.0.0.1:5002 ) )' +
        ' or ( sport >= :5003 and ( src 127.0.0.1:5003 or src 127.0.0.1:5004 or src 127.0.0.1:5005 ) ) ) )',
    );
  });

  test('one address family where every end is of it (the kernel walks its table once per family)', () => {
    const c = (server: string, client: string) => ({
      local: { address: server, port: 80 },
      remote: { address: client, port: 5000 },
    });
    assert.equal(ssFamily([c('127.0.0.1', '127.0.0.1')], [v4(80)]), '4');
    assert.equal(ssFamily([c('::1', '::1')], [{ address: '::1', port: 80 }]), '6');
    assert.equal(ssFamily([c('127.0.0.1', '127.0.0.1')], [{ address: '::', port: 80 }]), undefined);
    assert.equal(ssFamily([c('::ffff:127.0.0.1', '::ffff:127.0.0.1')], []), undefined, 'mapped: both');
    assert.equal(ssFamily([c('fe80::1%eth0', 'fe80::2%eth0')], []), '6');
    assert.equal(ssFamily([c('127.0.0.1', '')], []), undefined);
    assert.equal(ssFamily([], []), undefined);
  });
});
