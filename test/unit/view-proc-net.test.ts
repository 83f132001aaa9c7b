import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeProcAddress,
  encodeProcAddress,
  formatIpv6,
  parseProcNetRow,
  parseProcNetTable,
  plainAddress,
  procEndpoint,
  rowEnds,
} from '../../src/view/proc-net.js';
import * as rows from '../fixtures/proc-net-rows.js';

describe('the /proc/net/tcp row parser', () => {
  test('IPv4 LISTEN on 0.0.0.0', () => {
    const row = parseProcNetRow(rows.IPV4_LISTEN);
    assert.ok(row);
    assert.equal(row.localAddress, '0.0.0.0');
    assert.equal(row.localPort, 2024);
    assert.equal(row.remoteAddress, '0.0.0.0');
    assert.equal(row.remotePort, 0);
    assert.equal(row.state, 'LISTEN');
    assert.equal(row.inode, '1495');
  });

  test("a LISTEN row's rx_queue is the accept queue's depth", () => {
    const row = parseProcNetRow(rows.IPV4_LISTEN_QUEUED);
    assert.equal(row?.state, 'LISTEN');
    assert.equal(row?.rxQueue, 2);
    assert.equal(row?.localAddress, '127.0.0.1');
    assert.equal(row?.localPort, 46037);
  });

  test('IPv4 TIME_WAIT, inode 0 (no process holds it)', () => {
    const row = parseProcNetRow(rows.IPV4_TIME_WAIT);
    assert.deepEqual(
      row && [row.localAddress, row.localPort, row.remoteAddress, row.remotePort, row.state, row.inode],
      ['127.0.0.1', 0xac88, '127.0.0.1', 0x8e0d, 'TIME_WAIT', '0'],
    );
  });

  test('IPv4 CLOSE_WAIT', () => {
    assert.equal(parseProcNetRow(rows.IPV4_CLOSE_WAIT)?.state, 'CLOSE_WAIT');
    assert.equal(parseProcNetRow(rows.IPV4_CLOSE_WAIT)?.localPort, 0xcc4a);
  });

  test('IPv6 ::1, LISTEN and TIME_WAIT with inode 0', () => {
    const listen = parseProcNetRow(rows.IPV6_LISTEN);
    assert.equal(listen?.localAddress, '::1');
    assert.equal(listen?.remoteAddress, '::');
    assert.equal(listen?.state, 'LISTEN');
    const tw = parseProcNetRow(rows.IPV6_TIME_WAIT);
    assert.deepEqual(
      tw && [tw.localAddress, tw.localPort, tw.remoteAddress, tw.remotePort, tw.state, tw.inode],
      ['::1', 0x987d, '::1', 0xbd7e, 'TIME_WAIT', '0'],
    );
  });

  test('IPv4-mapped IPv6 rows of a dual-stack server', () => {
    const row = parseProcNetRow(rows.IPV4_MAPPED_FIN_WAIT2);
    assert.equal(row?.localAddress, '::ffff:127.0.0.1');
    assert.equal(row?.remoteAddress, '::ffff:127.0.0.1');
    assert.equal(plainAddress(row?.remoteAddress ?? ''), '127.0.0.1');
    assert.equal(row?.state, 'FIN_WAIT2');
    assert.equal(parseProcNetRow(rows.IPV6_ANY_LISTEN)?.localAddress, '::');
  });

  test('headers and malformed lines are not rows', () => {
    assert.equal(parseProcNetRow(rows.HEADER_TCP), undefined);
    assert.equal(parseProcNetRow(rows.HEADER_TCP6), undefined);
    assert.equal(parseProcNetRow(''), undefined);
    assert.equal(parseProcNetRow('   0: 0100007F:XYZW 00000000:0000 0A 0:0 0 0 0 0 1'), undefined);
    const table = parseProcNetTable([rows.HEADER_TCP, rows.IPV4_LISTEN, rows.IPV4_TIME_WAIT, ''].join('\n'));
    assert.equal(table.length, 2);
  });

  test('rowEnds gives the raw address pair without parsing the rest', () => {
    assert.deepEqual(rowEnds(rows.IPV4_TIME_WAIT), { local: '0100007F:AC88', remote: '0100007F:8E0D' });
    assert.deepEqual(rowEnds(rows.IPV4_MAPPED_FIN_WAIT2), {
      local: '0000000000000000FFFF00000100007F:B3D5',
      remote: '0000000000000000FFFF00000100007F:CC4A',
    });
    assert.equal(rowEnds(rows.HEADER_TCP), undefined);
  });

  test("encoding an address gives every form the tables print it in, the rows' own keys", () => {
    assert.deepEqual(encodeProcAddress('127.0.0.1'), ['0100007F', '0000000000000000FFFF00000100007F']);
    assert.deepEqual(encodeProcAddress('::ffff:127.0.0.1'), encodeProcAddress('127.0.0.1'));
    assert.deepEqual(encodeProcAddress('::1'), ['00000000000000000000000001000000']);
    assert.deepEqual(encodeProcAddress('::'), ['0'.repeat(32)]);
    assert.deepEqual(encodeProcAddress('127.0.0.1', 'BE'), ['7F000001', '00000000000000000000FFFF7F000001']);
    assert.deepEqual(encodeProcAddress('not an address'), []);
    const row = parseProcNetRow(rows.IPV4_MAPPED_FIN_WAIT2);
    assert.ok(procEndpoint('127.0.0.1', 0xb3d5).includes(row?.localKey ?? ''));
    assert.ok(procEndpoint('127.0.0.1', 0xcc4a).includes(rowEnds(rows.IPV4_CLOSE_WAIT)?.local ?? ''));
    assert.ok(procEndpoint('::1', 0x987d).includes(parseProcNetRow(rows.IPV6_TIME_WAIT)?.localKey ?? ''));
  });

  test('decoding and formatting addresses', () => {
    assert.equal(decodeProcAddress('0100007F'), '127.0.0.1');
    assert.equal(decodeProcAddress('7F000001', 'BE'), '127.0.0.1');
    assert.equal(decodeProcAddress('B80D0120000000000000000001000000'), '2001:db8::1');
    assert.throws(() => decodeProcAddress('123'), RangeError);
    assert.equal(formatIpv6([0xfe, 0x80, ...Array(13).fill(0), 1]), 'fe80::1');
    assert.equal(formatIpv6([0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]), '1:0:2::3');
  });
});
