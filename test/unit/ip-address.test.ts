import assert from 'node:assert/strict';
import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import { describe, test } from 'node:test';
import { formatIPv4, formatIPv6, parseDecimal, parseIPv4, parseIPv6 } from '../../src/ip-address.js';
import { prng } from '../helpers/proxy-header.js';

describe('IP address literals', () => {
  test('IPv4: strict dotted quads', () => {
    assert.deepEqual(parseIPv4('192.168.0.1'), Uint8Array.of(192, 168, 0, 1));
    assert.deepEqual(parseIPv4('0.0.0.0'), Uint8Array.of(0, 0, 0, 0));
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.256',
      '1.2.3.-1',
      '1.2.3.+1',
      '1..3.4',
      ' 1.2.3.4',
      '0x1.2.3.4',
      '1.2.3.4 ',
    ]) {
      assert.equal(parseIPv4(bad), undefined, bad);
    }
  });

  test('IPv6: the same literals as node:net, without zones', () => {
    const cases = [
      '::',
      '::1',
      '1::',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
      '1::8',
      'FFFF::ffff',
      '::ffff:127.0.0.1',
      '1:2:3:4:5:6:1.2.3.4',
      '::1.2.3.4',
      '0000:0000::0001',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      ':1::',
      '1::2:',
      '12345::',
      'g::',
      '1.2.3.4',
      '1.2.3.4::',
      '::1.2.3',
      '::01.2.3.4',
      '::1.2.3.4:1',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::ffff:1.2.3.4.5',
      '',
      ':',
      '1',
      '[::1]',
      ' ::1',
      '::1 ',
    ];
    for (const text of cases) {
      assert.equal(parseIPv6(text) !== undefined, isIPv6(text), text);
    }
    assert.equal(parseIPv6('fe80::1%eth0'), undefined);
  });

  test('IPv6 text is exactly what Node prints, for random addresses and their spellings', () => {
    const random = prng(99);
    for (let n = 0; n < 5000; n++) {
      const words = Array.from({ length: 8 }, () => (random() < 0.5 ? 0 : Math.floor(random() * 0x10000)));
      if (n % 10 === 0) words.splice(0, 6, 0, 0, 0, 0, 0, 0xffff);
      if (n % 10 === 1) words.splice(0, 6, 0, 0, 0, 0, 0, 0);
      const full = words.map((w) => w.toString(16).padStart(4, random() < 0.5 ? '0' : '')).join(':');
      const spelled = random() < 0.5 ? full.toUpperCase() : full;
      const bytes = parseIPv6(spelled);
      assert.ok(bytes !== undefined, spelled);
      const expected = new SocketAddress({ address: spelled, family: 'ipv6' }).address;
      assert.equal(formatIPv6(bytes), expected, spelled);
      // Node's own text parses back to the same bytes.
      assert.deepEqual(parseIPv6(expected), bytes, expected);
    }
  });

  test('formatting at an offset', () => {
    const bytes = Uint8Array.of(9, 9, 10, 0, 0, 1);
    assert.equal(formatIPv4(bytes, 2), '10.0.0.1');
    assert.ok(isIPv4(formatIPv4(bytes, 2)));
    assert.equal(formatIPv6(Uint8Array.of(1, 2, ...(parseIPv6('2001:db8::1') ?? [])), 2), '2001:db8::1');
  });

  test('decimal numbers without leading zeros', () => {
    assert.equal(parseDecimal('0', 65535), 0);
    assert.equal(parseDecimal('65535', 65535), 65535);
    for (const bad of ['', '00', '01', '65536', '-1', '+1', '1e3', ' 1', '123456']) {
      assert.equal(parseDecimal(bad, 65535), undefined, bad);
    }
  });
});
