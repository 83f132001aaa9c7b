/**
 * The DER writer and the self-signed certificate made with it: DER primitives byte for byte (from
 * X.690's own examples and known encodings), and the certificate parsed back by Node's
 * X509Certificate and by openssl (`x509 -text`, `verify`), for its names, addresses, extensions,
 * validity and signature.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  derElement,
  derOid,
  derTime,
  derUnsignedInteger,
  encodeCertificate,
  encodeTbsCertificate,
  formatFingerprint,
  toPem,
} from '../../src/protocol/x509-writer.js';
import { createSelfSignedCredentials, credentialsFromPem } from '../../src/transport/tls-certificate.js';
import { needs, TOOLS, toolPath } from '../helpers/tools.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('DER primitives', () => {
  test('lengths: short form below 128, long form from 128 on', () => {
    assert.equal(hex(derElement(0x04, new Uint8Array(3))), '0403000000');
    assert.equal(hex(derElement(0x04, new Uint8Array(127))).slice(0, 4), '047f');
    assert.equal(hex(derElement(0x04, new Uint8Array(128))).slice(0, 6), '048180');
    assert.equal(hex(derElement(0x04, new Uint8Array(300))).slice(0, 8), '0482012c');
  });

  test('unsigned integers are minimal and never negative', () => {
    assert.equal(hex(derUnsignedInteger(Uint8Array.of(2))), '020102');
    assert.equal(hex(derUnsignedInteger(Uint8Array.of(0, 0, 5))), '020105');
    assert.equal(hex(derUnsignedInteger(Uint8Array.of(0x80))), '02020080');
    assert.equal(hex(derUnsignedInteger(Uint8Array.of(0))), '020100');
  });

  test('object identifiers, base 128 (X.690 8.19)', () => {
    assert.equal(hex(derOid('2.5.4.3')), '0603550403');
    assert.equal(hex(derOid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
    assert.equal(hex(derOid('1.3.6.1.5.5.7.3.1')), '06082b06010505070301');
    assert.throws(() => derOid('1'), InvalidArgumentError);
  });

  test('times: UTCTime to 2049, GeneralizedTime from 2050', () => {
    const utc = derTime(new Date(Date.UTC(2026, 11, 7, 8, 5, 9)));
    assert.equal(Buffer.from(utc).toString('latin1'), '\u0017\u000d261207080509Z');
    const generalized = derTime(new Date(Date.UTC(2050, 0, 1, 0, 0, 0)));
    assert.equal(Buffer.from(generalized).toString('latin1'), '\u0018\u000f20500101000000Z');
  });

  test('PEM lines of 64 and fingerprints as openssl prints them', () => {
    const pem = toPem(new Uint8Array(100).fill(0xff));
    const lines = pem.trimEnd().split('\n');
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
    assert.equal(lines[1]?.length, 64);
    assert.equal(lines.at(-1), '-----END CERTIFICATE-----');
    assert.equal(formatFingerprint(Uint8Array.of(0xab, 0x0c, 0x01)), 'AB:0C:01');
  });
});

describe('a self-signed certificate', () => {
  const made = createSelfSignedCredentials();
  const cert = new X509Certificate(made.cert);

  test('Node parses it: names, addresses, issuer, validity, and its signature verifies', () => {
    assert.equal(cert.subject, 'CN=localhost');
    assert.equal(cert.issuer, 'CN=localhost');
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkHost('example.com'), undefined);
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('::1'), '::1');
    assert.equal(cert.checkIP('127.0.0.2'), undefined);
    assert.equal(cert.ca, false);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.verify(cert.publicKey), true);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(new Date(cert.validFrom).getTime() <= Date.now());
    assert.ok(new Date(cert.validTo).getTime() > Date.now() + 300 * 86_400_000);
    assert.equal(cert.fingerprint256, made.fingerprint);
    assert.equal(cert.checkPrivateKey(createPrivateKey(made.key)), true);
  });

  test('every certificate has its own key and serial number', () => {
    const other = new X509Certificate(createSelfSignedCredentials().cert);
    assert.notEqual(other.serialNumber, cert.serialNumber);
    assert.notEqual(other.fingerprint256, cert.fingerprint256);
    assert.equal(other.verify(cert.publicKey), false);
  });

  test('a changed byte breaks the signature', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const tbs = encodeTbsCertificate({
      serial: Uint8Array.of(0x01, 0x02),
      commonName: 'test.invalid',
      dnsNames: ['test.invalid'],
      ipAddresses: [],
      notBefore: new Date(Date.UTC(2020, 0, 1)),
      notAfter: new Date(Date.UTC(2060, 0, 1)),
      subjectPublicKeyInfo: publicKey.export({ type: 'spki', format: 'der' }),
    });
    const good = new X509Certificate(Buffer.from(encodeCertificate(tbs, sign('sha256', tbs, privateKey))));
    assert.equal(good.verify(publicKey), true);
    assert.equal(good.serialNumber, '0102');
    assert.equal(new Date(good.validTo).getUTCFullYear(), 2060);
    const forged = Uint8Array.from(tbs);
    // The last byte of the TBSCertificate is inside the extKeyUsage OID: still parseable, no longer signed.
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 0x01;
    const bad = new X509Certificate(Buffer.from(encodeCertificate(forged, sign('sha256', tbs, privateKey))));
    assert.equal(bad.verify(publicKey), false);
  });

  test('bad fields are refused with the value named', () => {
    const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    const fields = {
      serial: Uint8Array.of(1),
      commonName: 'x',
      dnsNames: ['x'],
      ipAddresses: [],
      notBefore: new Date(),
      notAfter: new Date(),
      subjectPublicKeyInfo: spki,
    };
    assert.throws(() => encodeTbsCertificate({ ...fields, serial: new Uint8Array(21) }), /serial/);
    assert.throws(() => encodeTbsCertificate({ ...fields, ipAddresses: ['300.1.1.1'] }), /'300\.1\.1\.1'/);
    assert.throws(() => encodeTbsCertificate({ ...fields, dnsNames: [] }), /at least one/);
  });

  test('PEM files that do not match are refused', () => {
    const other = createSelfSignedCredentials();
    assert.throws(() => credentialsFromPem(made.cert, other.key), /does not belong/);
    assert.throws(() => credentialsFromPem('not a certificate', made.key), /not a PEM certificate/);
  });

  test('openssl reads it and verifies it against itself', needs(TOOLS.openssl), () => {
    const dir = mkdtempSync(join(tmpdir(), 'socket-steps-x509-'));
    try {
      const file = join(dir, 'cert.pem');
      writeFileSync(file, made.cert);
      const openssl = toolPath(TOOLS.openssl);
      const text = spawnSync(openssl, ['x509', '-in', file, '-noout', '-text', '-fingerprint', '-sha256'], {
        encoding: 'utf8',
      });
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /Version: 3 \(0x2\)/);
      assert.match(text.stdout, /Signature Algorithm: ecdsa-with-SHA256/);
      assert.match(text.stdout, /DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
      assert.match(text.stdout, /Basic Constraints: critical\n\s+CA:FALSE/);
      assert.match(text.stdout, /Key Usage: critical\n\s+Digital Signature\n/);
      assert.match(text.stdout, /TLS Web Server Authentication/);
      assert.match(text.stdout, new RegExp(`sha256 Fingerprint=${made.fingerprint}`));
      const verify = spawnSync(
        openssl,
        ['verify', '-CAfile', file, '-purpose', 'sslserver', '-verify_hostname', 'localhost', file],
        { encoding: 'utf8' },
      );
      assert.equal(verify.status, 0, verify.stderr);
      assert.equal(verify.stdout, `${file}: OK\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
