/**
 * A server's certificate and key for TLS: read from PEM files, or made at start-up as a
 * self-signed ECDSA P-256 certificate for `localhost`, `127.0.0.1` and `::1` (what `ncat --ssl`
 * does). The key is made and the certificate signed with node:crypto; its bytes are written by the
 * pure DER writer of src/protocol/x509-writer.ts. Nothing here needs an `openssl` binary.
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { SELF_SIGNED_DNS_NAMES, SELF_SIGNED_IP_ADDRESSES, SELF_SIGNED_VALIDITY_DAYS } from '../defaults.js';
import { InvalidArgumentError } from '../errors.js';
import {
  encodeCertificate,
  encodeTbsCertificate,
  formatFingerprint,
  toPem,
} from '../protocol/x509-writer.js';

/** A certificate and its private key, as PEM text. */
export interface ServerCredentials {
  /** The certificate (chain) in PEM. */
  cert: string;
  /** The private key in PEM (PKCS#8 for a made one). */
  key: string;
  /** The leaf certificate's SHA-256 fingerprint, `AB:CD:...` (as `openssl x509 -fingerprint -sha256`). */
  fingerprint: string;
}

/** Options of {@link createSelfSignedCredentials}. */
export interface SelfSignedOptions {
  /** Host names the certificate is for. @default ['localhost'] */
  dnsNames?: readonly string[];
  /** Addresses the certificate is for. @default ['127.0.0.1', '::1'] */
  ipAddresses?: readonly string[];
  /** Start of validity. @default one hour ago (clocks of client and server may differ a little) */
  notBefore?: Date;
  /** End of validity. @default 365 days after now */
  notAfter?: Date;
}

/**
 * Makes an ECDSA P-256 key and a self-signed certificate for it (CN and subjectAltName from the
 * options; CA:FALSE; keyUsage digitalSignature; extKeyUsage serverAuth; 16 random bytes of serial).
 */
export function createSelfSignedCredentials(options: SelfSignedOptions = {}): ServerCredentials {
  const dnsNames = options.dnsNames ?? SELF_SIGNED_DNS_NAMES;
  const ipAddresses = options.ipAddresses ?? SELF_SIGNED_IP_ADDRESSES;
  const now = Date.now();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  // Positive and of full length: clear the top bit, keep the first byte non-zero.
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  const tbs = encodeTbsCertificate({
    serial,
    commonName: dnsNames[0] ?? ipAddresses[0] ?? 'localhost',
    dnsNames,
    ipAddresses,
    notBefore: options.notBefore ?? new Date(now - 3_600_000),
    notAfter: options.notAfter ?? new Date(now + SELF_SIGNED_VALIDITY_DAYS * 86_400_000),
    subjectPublicKeyInfo: publicKey.export({ type: 'spki', format: 'der' }),
  });
  // ECDSA signatures from node:crypto are DER (r, s) by default: what X.509 carries.
  const der = encodeCertificate(tbs, sign('sha256', tbs, privateKey));
  return {
    cert: toPem(der),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint: fingerprintOf(der),
  };
}

/** The SHA-256 fingerprint of a certificate's DER bytes, `AB:CD:...`. */
export function fingerprintOf(der: Uint8Array): string {
  return formatFingerprint(createHash('sha256').update(der).digest());
}

/**
 * Credentials from PEM text read from files: the first certificate is the leaf whose fingerprint
 * is reported. Fails with an {@link InvalidArgumentError} naming what is wrong.
 */
export function credentialsFromPem(cert: string, key: string): ServerCredentials {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    throw new InvalidArgumentError(`the certificate is not a PEM certificate (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (!leaf.checkPrivateKey(keyObjectOf(key))) {
    throw new InvalidArgumentError('the key does not belong to the certificate');
  }
  return { cert, key, fingerprint: fingerprintOf(leaf.raw) };
}

function keyObjectOf(key: string) {
  try {
    // createPrivateKey is where a bad PEM key says so; X509Certificate takes only a KeyObject.
    return createPrivateKey(key);
  } catch (error) {
    throw new InvalidArgumentError(`the key is not a PEM private key (${(error as Error).message})`, {
      cause: error,
    });
  }
}
