/**
 * What both TLS sides share: what a completed handshake agreed on, and the one reason a failed one
 * is reported with (from OpenSSL's and Node's error codes, never from message text).
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { systemCodeOf, TlsFailure, TlsHandshakeError } from '../errors.js';
import type { TraceTls } from '../trace/schema.js';

/** What a handshake agreed on (the trace's `tls` field). */
export type TlsDetails = TraceTls;

/** The version, cipher, resumption and SNI of a socket whose handshake is done. */
export function tlsDetails(socket: TLSSocket, role: 'server' | 'client'): TlsDetails {
  const cipher = socket.getCipher();
  const servername =
    role === 'server' ? (socket as TLSSocket & { servername?: string | false }).servername : undefined;
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: cipher.standardName ?? cipher.name,
    resumed: socket.isSessionReused(),
    ...(typeof servername === 'string' && servername !== '' ? { servername } : {}),
  };
}

// OpenSSL's reasons for bytes that are not a TLS record at all: the peer speaks plain TCP.
const NOT_TLS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_HTTPS_PROXY_REQUEST',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_RECORD_LENGTH_MISMATCH',
  'ERR_SSL_WRONG_SSL_VERSION',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_RECORD_LAYER_FAILURE',
]);

// The peer went away during the handshake.
const CLOSED = new Set(['ECONNRESET', 'EPIPE', 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING']);

/**
 * The {@link TlsHandshakeError} for an error a TLSSocket reported during the handshake. `peer` is
 * the other side (`'client'` on a server): the one that did not speak TLS, or closed.
 */
export function handshakeFailure(error: unknown, peer: 'client' | 'server'): TlsHandshakeError {
  const code = systemCodeOf(error) ?? '';
  const call = peer === 'client' ? 'accept' : 'connect';
  if (NOT_TLS.has(code)) {
    return new TlsHandshakeError(`the ${peer} did not speak TLS (${code})`, {
      reason: TlsFailure.NotTls,
      cause: error,
      call,
    });
  }
  if (CLOSED.has(code) || (code === '' && isDisconnect(error))) {
    return new TlsHandshakeError(`the ${peer} closed the connection during the TLS handshake`, {
      reason: TlsFailure.Closed,
      cause: error,
      call,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TlsHandshakeError(`TLS handshake failed: ${message}${code === '' ? '' : ` (${code})`}`, {
    reason: TlsFailure.Protocol,
    cause: error,
    call,
  });
}

function isDisconnect(error: unknown): boolean {
  // Node's own "socket disconnected before secure TLS connection was established" has code ECONNRESET;
  // kept as a fallback for a cause without a code.
  return error instanceof Error && /disconnected|hang up/i.test(error.message);
}

/**
 * The reason a client's verification of `certificate` failed, from Node's `authorizationError`
 * code (OpenSSL's X509_V_ERR names, or Node's ERR_TLS_CERT_ALTNAME_INVALID): one line that names
 * it (expired, wrong name, self-signed, unknown issuer).
 */
export function verificationFailure(
  code: string,
  certificate: PeerCertificate | undefined,
  checked: string,
  cause?: unknown,
): TlsHandshakeError {
  const subject = certificate?.subject?.CN === undefined ? '' : ` (CN=${String(certificate.subject.CN)})`;
  const options = (reason: TlsFailure) => ({ reason, cause, call: 'connect' as const });
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return new TlsHandshakeError(
        `the server's certificate${subject} expired on ${certificate?.valid_to ?? '?'} (${code})`,
        options(TlsFailure.Expired),
      );
    case 'CERT_NOT_YET_VALID':
      return new TlsHandshakeError(
        `the server's certificate${subject} is not valid before ${certificate?.valid_from ?? '?'} (${code})`,
        options(TlsFailure.Expired),
      );
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'HOSTNAME_MISMATCH':
      return new TlsHandshakeError(
        `wrong name: the server's certificate is for ${certificate?.subjectaltname ?? `CN=${String(certificate?.subject?.CN ?? '?')}`}, not ${checked} (${code})`,
        options(TlsFailure.WrongName),
      );
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return new TlsHandshakeError(
        `unknown issuer: the server's certificate${subject} is self-signed and not trusted (${code})`,
        options(TlsFailure.SelfSigned),
      );
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return new TlsHandshakeError(
        `unknown issuer: the server's certificate${subject} is issued by ${issuerOf(certificate)}, not a trusted CA (${code})`,
        options(TlsFailure.UnknownIssuer),
      );
    default:
      return new TlsHandshakeError(
        `the server's certificate${subject} was not accepted (${code})`,
        options(TlsFailure.BadCertificate),
      );
  }
}

/** `CN=...` of a certificate's issuer, for messages. */
export function issuerOf(certificate: PeerCertificate | undefined): string {
  const issuer = certificate?.issuer;
  if (issuer === undefined) return '?';
  const parts = Object.entries(issuer).map(([key, value]) => `${key}=${String(value)}`);
  return parts.length === 0 ? '?' : parts.join(', ');
}
