/**
 * The client's TLS handshake over a connected TCP socket: verification of the server's certificate
 * by default (the system's CAs, or the ones given), SNI, a handshake timeout, and one reason for a
 * failure (expired, wrong name, self-signed, unknown issuer, not TLS, ...).
 */
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../defaults.js';
import {
  AbortError,
  InvalidArgumentError,
  type SocketStepsError,
  systemCodeOf,
  TlsFailure,
  TlsHandshakeError,
} from '../errors.js';
import { validateDuration } from '../validate.js';
import { fingerprintOf } from './tls-certificate.js';
import {
  handshakeFailure,
  issuerOf,
  type TlsDetails,
  tlsDetails,
  verificationFailure,
} from './tls-details.js';

/** TLS options of a client connection. */
export interface TlsClientOptions {
  /**
   * The name sent as SNI and checked against the certificate. @default the host, when it is a
   * name (an address is checked against the certificate's IP addresses, and no SNI is sent)
   */
  servername?: string;
  /** CA certificates (PEM) to trust instead of the system's: a self-signed server's own certificate works. */
  ca?: string | readonly string[];
  /**
   * Skip verifying the server's certificate (the trace and `details.fingerprint` still say which
   * one was accepted). @default false
   */
  insecure?: boolean;
  /** Most ms the handshake may take. @default 10000 */
  handshakeTimeout?: number;
  /** Called once the handshake is done and verified, with what it agreed on. */
  onHandshake?: (details: TlsDetails) => void;
  /** A session from an earlier handshake with this server, to resume (`TlsClientResult.session`). */
  session?: Buffer;
}

/** A socket whose handshake is done, and what it agreed on. */
export interface TlsClientResult {
  /** The TLS socket, paused: the caller reads. */
  socket: TLSSocket;
  /** Version, cipher, what was verified, the server certificate's fingerprint. */
  details: TlsDetails;
  /**
   * Resolves with the session the server handed over for resumption (TLS 1.3 sends it after the
   * handshake, with the first data), or undefined if none comes before the socket closes.
   */
  session(): Buffer | undefined;
}

/** Checks TLS client options when a client is made, naming the bad value. */
export function validateTlsClientOptions(options: TlsClientOptions): void {
  if (options.servername !== undefined && (options.servername === '' || isIP(options.servername) !== 0)) {
    throw new InvalidArgumentError(
      `invalid server name '${options.servername}' (SNI is a host name, not an address)`,
    );
  }
  validateDuration(options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, 'handshake timeout');
}

/**
 * The SNI name a client sends, and checks the certificate for, when none is given: a host name as
 * it was given, none for an IP address (the certificate is then checked for the address), and
 * `localhost` over a Unix socket (`host` undefined), which names no host: the server is on this
 * machine.
 */
export function defaultServername(host: string | undefined): string | undefined {
  if (host === undefined) return 'localhost';
  return isIP(host) === 0 ? host : undefined;
}

/**
 * Runs the TLS handshake over `socket` (connected to `host`, or undefined over a Unix socket). Resolves once it is done and the
 * server's certificate is verified (unless `insecure`); rejects with a {@link TlsHandshakeError}
 * whose `reason` names the failure. On failure the socket is destroyed.
 */
export function startTls(
  socket: Socket,
  host: string | undefined,
  options: TlsClientOptions,
  signal?: AbortSignal,
): Promise<TlsClientResult> {
  validateTlsClientOptions(options);
  const timeout = validateDuration(
    options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    'handshake timeout',
  );
  const servername = options.servername ?? defaultServername(host);
  // What the certificate must be for: the SNI name, else the address connected to.
  const checked = servername ?? host ?? 'localhost';
  const ca =
    options.ca === undefined ? undefined : typeof options.ca === 'string' ? [options.ca] : [...options.ca];
  let session: Buffer | undefined;
  const secure = connect({
    socket,
    ...(servername === undefined ? {} : { servername }),
    ...(ca === undefined ? {} : { ca }),
    ...(options.session === undefined ? {} : { session: options.session }),
    // Verified below, before anything is sent or read, so that the failure can name its reason
    // with the certificate in hand.
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  secure.on('session', (ticket: Buffer) => {
    session = ticket;
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: SocketStepsError | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      secure.off('secureConnect', onSecure);
      secure.off('error', onError);
      secure.off('close', onClose);
      if (error !== undefined) {
        secure.destroy();
        reject(error);
        return;
      }
      secure.pause();
      const certificate = secure.getPeerCertificate();
      const fingerprint = certificate.raw === undefined ? undefined : fingerprintOf(certificate.raw);
      const details: TlsDetails = {
        ...tlsDetails(secure, 'client'),
        ...(servername === undefined ? {} : { servername }),
        ...(options.insecure
          ? { insecure: true }
          : { verified: checked, issuer: issuerOf(certificate), customCa: ca !== undefined }),
        ...(fingerprint === undefined ? {} : { fingerprint }),
      };
      options.onHandshake?.(details);
      resolve({ socket: secure, details, session: () => session });
    };
    const onSecure = () => {
      if (options.insecure) {
        finish(undefined);
        return;
      }
      const certificate: PeerCertificate | undefined = secure.getPeerCertificate();
      const chainError = secure.authorizationError;
      if (chainError !== null && chainError !== undefined) {
        finish(verificationFailure(String(chainError), certificate, checked));
        return;
      }
      // The chain is trusted; now the name. A resumed session was checked when it was made.
      if (!secure.isSessionReused()) {
        const nameError = checkServerIdentity(checked, certificate);
        if (nameError !== undefined) {
          finish(
            verificationFailure(
              systemCodeOf(nameError) ?? 'ERR_TLS_CERT_ALTNAME_INVALID',
              certificate,
              checked,
              nameError,
            ),
          );
          return;
        }
      }
      finish(undefined);
    };
    const onError = (error: Error) => finish(handshakeFailure(error, 'server'));
    const onClose = () =>
      finish(
        new TlsHandshakeError('the server closed the connection during the TLS handshake', {
          reason: TlsFailure.Closed,
          call: 'connect',
        }),
      );
    const timer = setTimeout(
      () =>
        finish(
          new TlsHandshakeError(`no complete TLS handshake within ${timeout} ms`, {
            reason: TlsFailure.Timeout,
            call: 'connect',
          }),
        ),
      timeout,
    );
    const onAbort = () => finish(new AbortError('the TLS handshake was aborted', { call: 'connect' }));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    secure.once('secureConnect', onSecure);
    secure.once('error', onError);
    secure.once('close', onClose);
  });
}
