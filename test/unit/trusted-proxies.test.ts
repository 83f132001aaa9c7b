import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { parseCidr, TrustedProxies } from '../../src/policy/trusted-proxies.js';
import { prng } from '../helpers/proxy-header.js';

describe('parseCidr', () => {
  test('blocks and bare addresses, in canonical form', () => {
    assert.deepEqual(parseCidr('127.0.0.1/32'), { family: 'IPv4', address: '127.0.0.1', prefixLength: 32 });
    assert.deepEqual(parseCidr('10.0.0.0/8'), { family: 'IPv4', address: '10.0.0.0', prefixLength: 8 });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { family: 'IPv4', address: '0.0.0.0', prefixLength: 0 });
    assert.deepEqual(parseCidr('192.0.2.7'), { family: 'IPv4', address: '192.0.2.7', prefixLength: 32 });
    assert.deepEqual(parseCidr('::1/128'), { family: 'IPv6', address: '::1', prefixLength: 128 });
    assert.deepEqual(parseCidr('::1'), { family: 'IPv6', address: '::1', prefixLength: 128 });
    assert.deepEqual(parseCidr('FD00::/8'), { family: 'IPv6', address: 'fd00::', prefixLength: 8 });
    assert.deepEqual(parseCidr('2001:0db8:0000::/32'), {
      family: 'IPv6',
      address: '2001:db8::',
      prefixLength: 32,
    });
    assert.deepEqual(parseCidr('::/0'), { family: 'IPv6', address: '::', prefixLength: 0 });
    assert.deepEqual(parseCidr('::ffff:10.0.0.0/104'), {
      family: 'IPv6',
      address: '::ffff:10.0.0.0',
      prefixLength: 104,
    });
  });

  test('bad blocks are refused with a message that names them', () => {
    const bad: [string, RegExp][] = [
      ['', /expected an address or CIDR block/],
      ['localhost', /expected an IPv4 or IPv6 address/],
      ['10.0.0.0/33', /prefix length must be a number from 0 to 32 for IPv4/],
      ['::/129', /from 0 to 128 for IPv6/],
      ['10.0.0.0/', /prefix length/],
      ['10.0.0.0/08', /prefix length/],
      ['10.0.0.0/-1', /prefix length/],
      ['10.0.0.0/8/8', /prefix length/],
      ['10.0.0.0/ 8', /prefix length/],
      [' 10.0.0.0/8', /expected an IPv4 or IPv6 address/],
      ['010.0.0.0/8', /expected an IPv4 or IPv6 address/],
      ['10.0.0/8', /expected an IPv4 or IPv6 address/],
      ['[::1]/128', /without brackets or zone/],
      ['fe80::1%eth0/128', /without brackets or zone/],
      ['10.1.2.3/8', /bits are set past the \/8 prefix; did you mean 10\.0\.0\.0\/8\?/],
      ['192.168.1.10/24', /did you mean 192\.168\.1\.0\/24\?/],
      ['fd00::1/8', /did you mean fd00::\/8\?/],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => parseCidr(text),
        (error: unknown) =>
          error instanceof InvalidArgumentError &&
          error.code === 'ERR_INVALID_ARG' &&
          error.message.startsWith(`invalid trusted proxy '${text}': `) &&
          message.test(error.message),
        text,
      );
    }
  });
});

describe('TrustedProxies', () => {
  test('IPv4 blocks, also for IPv4-mapped peers of a dual-stack socket', () => {
    const trusted = new TrustedProxies(['127.0.0.0/8', '10.0.0.0/9', '192.168.1.128/25', '203.0.113.5']);
    for (const peer of [
      '127.0.0.1',
      '127.255.255.255',
      '::ffff:127.0.0.1',
      '::FFFF:7f00:1',
      '10.127.0.1',
      '192.168.1.200',
      '203.0.113.5',
      '::ffff:203.0.113.5',
    ]) {
      assert.equal(trusted.isTrusted(peer), true, peer);
    }
    for (const peer of [
      '128.0.0.1',
      '10.128.0.1',
      '192.168.1.127',
      '203.0.113.4',
      '::1',
      '::7f00:1',
      '::ffff:128.0.0.1',
      '64:ff9b::7f00:1',
    ]) {
      assert.equal(trusted.isTrusted(peer), false, peer);
    }
  });

  test('IPv6 blocks; a zone id on the peer is ignored', () => {
    const trusted = new TrustedProxies(['::1/128', 'fd00::/8', 'fe80::/10', '2001:db8:0:0:8000::/65']);
    for (const peer of [
      '::1',
      '0:0:0:0:0:0:0:1',
      'fd12:3456::1',
      'fdff:ffff::',
      'fe80::1%eth0',
      'febf::1',
      '2001:db8::8000:0:0:1',
    ]) {
      assert.equal(trusted.isTrusted(peer), true, peer);
    }
    for (const peer of [
      '::2',
      'fe00::1',
      'fec0::1',
      '2001:db8::7fff:0:0:1',
      '127.0.0.1',
      '::ffff:127.0.0.1',
    ]) {
      assert.equal(trusted.isTrusted(peer), false, peer);
    }
  });

  test('an IPv6 block over ::ffff:0:0/96 covers IPv4 peers too (as Node`s BlockList does)', () => {
    const trusted = new TrustedProxies(['::ffff:0:0/96']);
    assert.equal(trusted.isTrusted('1.2.3.4'), true);
    assert.equal(trusted.isTrusted('::1'), false);
  });

  test('nobody is trusted by an empty list; nonsense is never trusted', () => {
    assert.equal(new TrustedProxies([]).isTrusted('127.0.0.1'), false);
    const all = new TrustedProxies(['0.0.0.0/0', '::/0']);
    for (const peer of [undefined, '', 'localhost', '1.2.3.4.5', '::1::', '1.2.3.4/32', '%eth0']) {
      assert.equal(all.isTrusted(peer), false, String(peer));
    }
  });

  test('ranges in canonical form; the first bad block fails the whole list', () => {
    assert.deepEqual(new TrustedProxies(['FD00::/8', '10.0.0.0/8', '::1']).ranges, [
      'fd00::/8',
      '10.0.0.0/8',
      '::1/128',
    ]);
    assert.throws(
      () => new TrustedProxies(['10.0.0.0/8', '10.0.0.1/8']),
      /invalid trusted proxy '10\.0\.0\.1\/8'/,
    );
  });

  test('agrees with node:net BlockList on random blocks and peers', () => {
    const random = prng(2024);
    const byte = () => (random() < 0.3 ? 0 : Math.floor(random() * 256));
    const v4 = () => Array.from({ length: 4 }, byte);
    const v6 = () => {
      const b = Array.from({ length: 16 }, byte);
      if (random() < 0.2) b.splice(0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff);
      return b;
    };
    const text6 = (b: number[]) =>
      Array.from({ length: 8 }, (_, i) => (((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0)).toString(16)).join(
        ':',
      );
    const mask = (b: number[], prefix: number) =>
      b.map((x, i) => x & ((0xff << (8 - Math.max(0, Math.min(8, prefix - 8 * i)))) & 0xff));
    for (let round = 0; round < 200; round++) {
      const blocks: string[] = [];
      const networks: { bytes: number[]; prefix: number; ipv4: boolean }[] = [];
      const reference = new BlockList();
      for (let k = 0; k < 3; k++) {
        const ipv4 = random() < 0.5;
        const prefix = Math.floor(random() * (ipv4 ? 33 : 129));
        const bytes = mask(ipv4 ? v4() : v6(), prefix);
        const address = ipv4 ? bytes.join('.') : text6(bytes);
        blocks.push(`${address}/${prefix}`);
        networks.push({ bytes, prefix, ipv4 });
        reference.addSubnet(address, prefix, ipv4 ? 'ipv4' : 'ipv6');
      }
      const trusted = new TrustedProxies(blocks);
      // Peers anywhere, and peers one bit away from a block's network, next to its prefix boundary.
      for (let p = 0; p < 60; p++) {
        let ipv4 = random() < 0.5;
        let bytes = ipv4 ? v4() : v6();
        const near = networks[p % networks.length];
        if (p % 2 === 0 && near !== undefined) {
          ipv4 = near.ipv4;
          bytes = [...near.bytes];
          const bit = Math.min(bytes.length * 8 - 1, Math.max(0, near.prefix - 2 + Math.floor(random() * 4)));
          bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) ^ (0x80 >> (bit & 7));
        }
        const peer = ipv4 ? bytes.join('.') : text6(bytes);
        const expected = reference.check(peer, ipv4 ? 'ipv4' : 'ipv6');
        assert.equal(trusted.isTrusted(peer), expected, `${peer} in ${blocks.join(', ')}`);
      }
      for (const block of blocks) {
        const [address = ''] = block.split('/');
        assert.equal(trusted.isTrusted(address), true, `${address} in ${block}`);
      }
    }
  });
});
