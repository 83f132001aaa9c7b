/**
 * A small DER (ASN.1) writer for one kind of certificate: a self-signed ECDSA P-256 server
 * certificate for a test server (what `ncat --ssl` makes at start-up). Pure: it turns the fields
 * into the TBSCertificate's bytes, and the TBSCertificate and a signature into the certificate's
 * bytes; the key and the signing belong to the caller (node:crypto), so that this module imports
 * nothing from Node and can be tested byte by byte.
 *
 * RFC 5280 names every structure written here: Certificate, TBSCertificate, Name, Validity,
 * Extension (subjectAltName, basicConstraints, keyUsage, extKeyUsage).
 */
import { InvalidArgumentError } from '../errors.js';
import { parseIPv4, parseIPv6 } from '../ip-address.js';

/** The fields of a self-signed server certificate. */
export interface ServerCertificateFields {
  /** The serial number, big-endian, 1 to 20 bytes (RFC 5280 4.1.2.2). A leading 1 bit is made positive. */
  serial: Uint8Array;
  /** The subject's and issuer's common name (CN). */
  commonName: string;
  /** Host names for the subjectAltName extension (`localhost`). */
  dnsNames: readonly string[];
  /** IPv4 or IPv6 literals for the subjectAltName extension (`127.0.0.1`, `::1`). */
  ipAddresses: readonly string[];
  /** Start of validity. */
  notBefore: Date;
  /** End of validity. */
  notAfter: Date;
  /** The subject's public key as DER SubjectPublicKeyInfo (`key.export({ type: 'spki', format: 'der' })`). */
  subjectPublicKeyInfo: Uint8Array;
}

// Object identifiers, as their dotted numbers.
const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

// Universal and context tags used here.
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  utcTime: 0x17,
  generalizedTime: 0x18,
  // [2] IMPLICIT IA5String and [7] IMPLICIT OCTET STRING of GeneralName.
  dnsName: 0x82,
  ipAddress: 0x87,
} as const;

/** One DER element: tag, definite length (short or long form), contents. */
export function derElement(tag: number, contents: Uint8Array): Uint8Array {
  const length = contents.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  out.set(contents, header.length);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A SEQUENCE of the given elements. */
export function derSequence(...elements: Uint8Array[]): Uint8Array {
  return derElement(TAG.sequence, concat(elements));
}

/**
 * A non-negative INTEGER from big-endian bytes: leading zero bytes dropped (DER is minimal), and
 * one 0x00 put back in front of a leading 1 bit, which would otherwise make it negative.
 */
export function derUnsignedInteger(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const body = bytes.subarray(start);
  const first = body[0] ?? 0;
  const contents =
    body.length === 0 ? Uint8Array.of(0) : first & 0x80 ? concat([Uint8Array.of(0), body]) : body;
  return derElement(TAG.integer, contents);
}

/** An OBJECT IDENTIFIER from its dotted form (`2.5.4.3`). */
export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const [first, second, ...rest] = arcs;
  if (
    first === undefined ||
    second === undefined ||
    arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0)
  ) {
    throw new InvalidArgumentError(`invalid object identifier '${dotted}'`);
  }
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    // Base 128, most significant group first, every group but the last with its top bit set.
    const groups = [arc % 128];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) groups.unshift((n % 128) | 0x80);
    bytes.push(...groups);
  }
  return derElement(TAG.oid, Uint8Array.from(bytes));
}

/** A BIT STRING of whole bytes (no unused bits). */
export function derBitString(bytes: Uint8Array): Uint8Array {
  return derElement(TAG.bitString, concat([Uint8Array.of(0), bytes]));
}

/**
 * A Time (RFC 5280 4.1.2.5): UTCTime `YYMMDDHHMMSSZ` for the years 1950 to 2049, GeneralizedTime
 * `YYYYMMDDHHMMSSZ` otherwise. Whole seconds, in UTC.
 */
export function derTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) {
    throw new InvalidArgumentError(`invalid certificate date '${String(date)}'`);
  }
  const two = (n: number) => String(n).padStart(2, '0');
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  const utc = year >= 1950 && year < 2050;
  const text = utc ? `${two(year % 100)}${rest}` : `${String(year).padStart(4, '0')}${rest}`;
  return derElement(utc ? TAG.utcTime : TAG.generalizedTime, new TextEncoder().encode(text));
}

function name(commonName: string): Uint8Array {
  const cn = derSequence(
    derOid(OID.commonName),
    derElement(TAG.utf8String, new TextEncoder().encode(commonName)),
  );
  return derSequence(derElement(TAG.set, cn));
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return derSequence(
    derOid(oid),
    ...(critical ? [derElement(TAG.boolean, Uint8Array.of(0xff))] : []),
    derElement(TAG.octetString, value),
  );
}

function ipBytes(address: string): Uint8Array {
  const bytes = parseIPv4(address) ?? parseIPv6(address);
  if (bytes !== undefined) return Uint8Array.from(bytes);
  throw new InvalidArgumentError(`invalid IP address '${address}' for a certificate`);
}

const ALGORITHM = derSequence(derOid(OID.ecdsaWithSha256));

/**
 * The TBSCertificate (the part that is signed) of a v3 self-signed server certificate: issuer and
 * subject `CN=commonName`, signed with ecdsa-with-SHA256, and the extensions subjectAltName (the
 * names and addresses), basicConstraints CA:FALSE (critical), keyUsage digitalSignature
 * (critical) and extKeyUsage serverAuth.
 */
export function encodeTbsCertificate(fields: ServerCertificateFields): Uint8Array {
  if (fields.serial.length < 1 || fields.serial.length > 20) {
    throw new InvalidArgumentError(`invalid serial number length ${fields.serial.length} (1 to 20 bytes)`);
  }
  if (fields.dnsNames.length + fields.ipAddresses.length === 0) {
    throw new InvalidArgumentError('a server certificate needs at least one name or address');
  }
  const altNames = derSequence(
    ...fields.dnsNames.map((dns) => derElement(TAG.dnsName, new TextEncoder().encode(dns))),
    ...fields.ipAddresses.map((ip) => derElement(TAG.ipAddress, ipBytes(ip))),
  );
  const extensions = [
    extension(OID.subjectAltName, false, altNames),
    extension(OID.basicConstraints, true, derSequence()),
    // digitalSignature is bit 0: one byte, 7 unused bits.
    extension(OID.keyUsage, true, derElement(TAG.bitString, Uint8Array.of(0x07, 0x80))),
    extension(OID.extKeyUsage, false, derSequence(derOid(OID.serverAuth))),
  ];
  const serial = Uint8Array.from(fields.serial);
  return derSequence(
    // [0] EXPLICIT version: v3 is 2.
    derElement(0xa0, derUnsignedInteger(Uint8Array.of(2))),
    derUnsignedInteger(serial),
    ALGORITHM,
    name(fields.commonName),
    derSequence(derTime(fields.notBefore), derTime(fields.notAfter)),
    name(fields.commonName),
    fields.subjectPublicKeyInfo,
    // [3] EXPLICIT extensions.
    derElement(0xa3, derSequence(...extensions)),
  );
}

/** The Certificate: the TBSCertificate, its algorithm and its DER ECDSA signature. */
export function encodeCertificate(tbsCertificate: Uint8Array, signature: Uint8Array): Uint8Array {
  return derSequence(tbsCertificate, ALGORITHM, derBitString(signature));
}

/** PEM text of DER bytes (`-----BEGIN CERTIFICATE-----`, base64 in lines of 64). */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A SHA-256 fingerprint's bytes as `openssl x509 -fingerprint -sha256` prints them: `AB:CD:...`. */
export function formatFingerprint(digest: Uint8Array): string {
  return Array.from(digest, (byte) => byte.toString(16).toUpperCase().padStart(2, '0')).join(':');
}
