/**
 * The Host header's parser, the request-target's, and the allowlist of an HTTP listener: the
 * DNS-rebinding cases a hostile tester tried (`127.evil.example`, `127.0.0.1.nip.io`,
 * `[::1].evil.com`, `[::1]evil.com:80`, `localhost.evil`), case, a trailing dot, ports, and the
 * targets that once gave 500 (`//[`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HostAllowlist, parseAllowedHost } from '../../src/policy/host-allowlist.js';
import { parseHttpHost, parseHttpTarget } from '../../src/protocol/http-request.js';

describe('parseHttpHost', () => {
  test('names, IPv4 and IPv6 literals, with and without a port', () => {
    assert.deepEqual(parseHttpHost('localhost'), { kind: 'name', name: 'localhost' });
    assert.deepEqual(parseHttpHost('LocalHost:8080'), { kind: 'name', name: 'localhost', port: 8080 });
    assert.deepEqual(parseHttpHost('127.0.0.1:80'), {
      kind: 'ipv4',
      bytes: new Uint8Array([127, 0, 0, 1]),
      port: 80,
    });
    const v6 = parseHttpHost('[::1]:9464');
    assert.equal(v6?.kind, 'ipv6');
    assert.equal(v6?.port, 9464);
    assert.deepEqual(parseHttpHost('[0:0:0:0:0:0:0:1]')?.kind, 'ipv6');
    assert.deepEqual(parseHttpHost('localhost.'), { kind: 'name', name: 'localhost.' });
    assert.deepEqual(parseHttpHost('view.example:0'), { kind: 'name', name: 'view.example', port: 0 });
  });

  test('a dotted quad that is not strict is a name, never an address', () => {
    for (const text of ['127.1', '127.0.0.01', '127.0.0.1.nip.io', '127.evil.example', '0x7f.0.0.1']) {
      assert.equal(parseHttpHost(text)?.kind, 'name', text);
    }
  });

  test('malformed: userinfo, a path, junk after ], zone ids, bad ports, spaces, empty', () => {
    for (const text of [
      '',
      ':80',
      '[::1].evil.com',
      '[::1]evil.com:80',
      '[::1',
      '[127.0.0.1]',
      '[v1.fe]',
      '[fe80::1%25eth0]',
      '::1',
      'user@localhost',
      'localhost/x',
      'localhost:',
      'localhost:80:80',
      'localhost:65536',
      'localhost:123456',
      'localhost: 80',
      'local host',
      'localhost:-1',
      'localhost:+80',
      'local%zzhost',
      'localhost#x',
      'localhost?x',
    ]) {
      assert.equal(parseHttpHost(text), undefined, JSON.stringify(text));
    }
  });
});

describe('parseHttpTarget', () => {
  test('origin-form paths and queries', () => {
    assert.deepEqual(parseHttpTarget('/', 'GET'), { path: '/', query: '' });
    assert.deepEqual(parseHttpTarget('/mermaid?id=1-2&lang=ko', 'GET'), {
      path: '/mermaid',
      query: 'id=1-2&lang=ko',
    });
    assert.deepEqual(parseHttpTarget('//state', 'GET'), { path: '//state', query: '' });
    assert.deepEqual(parseHttpTarget('/a%20b?q=/?x', 'GET'), { path: '/a%20b', query: 'q=/?x' });
  });

  test('the absolute-form carries its authority; the asterisk-form is for OPTIONS only', () => {
    assert.deepEqual(parseHttpTarget('http://localhost:8080/state?x=1', 'GET'), {
      path: '/state',
      query: 'x=1',
      authority: 'localhost:8080',
    });
    assert.deepEqual(parseHttpTarget('HTTP://127.0.0.1', 'GET'), {
      path: '/',
      query: '',
      authority: '127.0.0.1',
    });
    assert.deepEqual(parseHttpTarget('*', 'OPTIONS'), { path: '*', query: '' });
    assert.equal(parseHttpTarget('*', 'GET'), undefined);
  });

  test('malformed targets', () => {
    for (const target of [
      '',
      '//[',
      '/[',
      '/a b',
      '/%zz',
      '/%4',
      '/x#frag',
      'state',
      'https://localhost/',
      'http://user@localhost/',
      'http://[::1/',
      'http://localhost:99999/',
      'http:///state',
      '/\u00e9',
      '/\\',
      '/x?a=<b>',
    ]) {
      assert.equal(parseHttpTarget(target, 'GET'), undefined, JSON.stringify(target));
    }
  });
});

describe('HostAllowlist', () => {
  const allows = (list: HostAllowlist, text: string): boolean => {
    const host = parseHttpHost(text);
    assert.ok(host, `${text} parses`);
    return list.allows(host);
  };

  test('a loopback listener: localhost, 127.x.y.z and [::1], at its port or none', () => {
    const list = new HostAllowlist({ address: '127.0.0.1', port: 8080, bindHost: '127.0.0.1' });
    for (const text of [
      'localhost',
      'localhost:8080',
      'LOCALHOST:8080',
      '127.0.0.1:8080',
      '127.0.0.1',
      '127.255.3.4:8080',
      '[::1]:8080',
      '[0:0:0:0:0:0:0:1]',
    ]) {
      assert.equal(allows(list, text), true, text);
    }
    for (const text of [
      '127.evil.example:8080',
      '127.0.0.1.nip.io:8080',
      'localhost.evil:8080',
      'LOCALHOST.EVIL:8080',
      'evil.example',
      'localhost.:8080',
      'localhost:8081',
      '127.0.0.1:80',
      '[::1]:80',
      '127.1:8080',
      '127.0.0.01',
      '128.0.0.1',
      '0.0.0.0:8080',
      '[::ffff:127.0.0.1]:8080',
      '[::]:8080',
      '[::2]',
    ]) {
      assert.equal(allows(list, text), false, text);
    }
  });

  test("the bound address, the bind host's name, and the names given", () => {
    const bound = new HostAllowlist({ address: '192.0.2.7', port: 80, bindHost: '192.0.2.7' });
    assert.equal(allows(bound, '192.0.2.7'), true);
    assert.equal(allows(bound, '192.0.2.7:80'), true);
    assert.equal(allows(bound, '192.0.2.8'), false);
    const v6 = new HostAllowlist({ address: '2001:db8::7', port: 80, bindHost: '2001:db8::7' });
    assert.equal(allows(v6, '[2001:DB8:0::7]'), true);
    assert.equal(allows(v6, '[2001:db8::8]'), false);
    const named = new HostAllowlist({ address: '127.0.0.1', port: 80, bindHost: 'View.Example' });
    assert.equal(allows(named, 'view.example'), true);
    assert.equal(allows(named, 'view.example.evil'), false);
    const given = new HostAllowlist({
      address: '127.0.0.1',
      port: 80,
      names: ['pages.example', '192.0.2.9', '2001:db8::9', '[2001:db8::a]', 'trailing.example.'],
    });
    for (const text of ['pages.example', 'PAGES.example:80', '192.0.2.9', '[2001:db8::9]', '[2001:db8::a]']) {
      assert.equal(allows(given, text), true, text);
    }
    for (const text of [
      'pages.example.',
      'www.pages.example',
      'pages.exampl',
      '192.0.2.90',
      'trailing.example',
    ]) {
      assert.equal(allows(given, text), false, text);
    }
    assert.equal(allows(given, 'trailing.example.'), true);
  });

  test('a wildcard listener answers its loopback names only, until others are given', () => {
    for (const address of ['0.0.0.0', '::']) {
      const list = new HostAllowlist({ address, port: 80, bindHost: address });
      assert.equal(allows(list, 'localhost'), true);
      assert.equal(allows(list, '127.0.0.1'), true);
      assert.equal(allows(list, '[::1]'), true);
      assert.equal(allows(list, '0.0.0.0'), false, address);
      assert.equal(allows(list, '[::]'), false, address);
      assert.equal(allows(list, '192.0.2.7'), false, address);
      const named = new HostAllowlist({ address, port: 80, bindHost: address, names: ['192.0.2.7'] });
      assert.equal(allows(named, '192.0.2.7'), true, address);
    }
  });

  test('a name to allow is a host without a port', () => {
    for (const text of ['', 'a.example:80', '[::1]:80', 'user@a', 'a/b', 'a b', '*', '*.example']) {
      assert.throws(() => parseAllowedHost(text), { code: 'ERR_INVALID_ARG' }, JSON.stringify(text));
    }
    assert.deepEqual(parseAllowedHost('A.Example'), { kind: 'name', name: 'a.example' });
    assert.throws(() => new HostAllowlist({ address: '127.0.0.1', port: 1, names: ['x:1'] }), {
      message: /invalid allowed host 'x:1'/,
    });
  });
});
