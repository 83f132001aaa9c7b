import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import { ipVersion } from '../../src/validate.js';

test('ipVersion gives the answers of node:net isIP, without importing it', () => {
  const cases = [
    '127.0.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '256.0.0.1',
    '1.2.3',
    '01.2.3.4',
    '1.2.3.4.5',
    '',
    '::',
    '::1',
    '1::',
    'fe80::1',
    'fe80::1%eth0',
    'fe80::1%',
    '::ffff:127.0.0.1',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::',
    '1::2::3',
    ':::',
    '12345::',
    'g::1',
    '::ffff:1.2.3',
    '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    'localhost',
    '[::1]',
    ' ::1',
    '::1 ',
    '1:2:3:4:5:6:7',
  ];
  for (const text of cases) assert.equal(ipVersion(text), isIP(text), JSON.stringify(text));
});
