/**
 * TLS as a pipeline stage of the TCP server: each accepted connection (after a PROXY header, if
 * that stage runs first) is wrapped in a server-side TLSSocket, and the service runs only once the
 * handshake is done, on the decrypted socket. A handshake that does not complete within the
 * handshake timeout, or that fails (a plaintext client, an alert), closes the connection unserved,
 * counted by reason; it holds nothing past the timeout.
 */
import { createSecureContext, type SecureContext, TLSSocket } from 'node:tls';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../defaults.js';
import { systemCodeOf, TlsFailure, TlsHandshakeError } from '../errors.js';
import { validateDuration } from '../validate.js';
import type { Connection, ConnectionStage } from './connection.js';
import { Tally } from './stats.js';
import type { ServerCredentials } from './tls-certificate.js';
import { handshakeFailure, type TlsDetails, tlsDetails } from './tls-details.js';

/** Options of a {@link TlsServerStage}. */
export interface TlsServerOptions {
  /** The certificate and key the server presents. */
  credentials: ServerCredentials;
  /** Most ms a handshake may take, from the accept. @default 10000 */
  handshakeTimeout?: number;
  /**
   * Called once for each failed handshake (after the stage has counted it), for a program that
   * says so in a line: the server's trace has it too.
   */
  onFailure?: (connection: Connection, error: TlsHandshakeError) => void;
  /** Called for each completed handshake, with what was agreed. */
  onHandshake?: (connection: Connection, details: TlsDetails) => void;
}

/**
 * The TLS stage (see the module's description). Counts handshakes (`handshakes`, `resumed`) and
 * failures by reason (`failed:not-tls`, `failed:timeout`, ...): see {@link TlsServerStage.stats}.
 */
export class TlsServerStage implements ConnectionStage {
  readonly name = 'tls';
  readonly #context: SecureContext;
  readonly #timeout: number;
  readonly #onFailure: TlsServerOptions['onFailure'];
  readonly #onHandshake: TlsServerOptions['onHandshake'];
  readonly #counts = new Tally();
  /** The certificate's SHA-256 fingerprint. */
  readonly fingerprint: string;

  constructor(options: TlsServerOptions) {
    this.#timeout = validateDuration(
      options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      'handshake timeout',
    );
    this.#context = createSecureContext({ cert: options.credentials.cert, key: options.credentials.key });
    this.fingerprint = options.credentials.fingerprint;
    this.#onFailure = options.onFailure;
    this.#onHandshake = options.onHandshake;
  }

  /** `handshakes`, `resumed` (of them, by a session ticket) and `failed:<reason>` counts. */
  stats(): Record<string, number> {
    return this.#counts.toRecord();
  }

  run(connection: Connection): Promise<void> {
    const raw = connection.socket;
    // Read the addresses while the socket is surely open: a failure's line names the client.
    void connection.remote;
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.#context });
    // The server listens for errors on the raw socket only; the TLS socket's (a bad record after
    // the handshake, a reset) are the connection's error code too, and never an unhandled event.
    secure.on('error', (error: Error) => {
      const tracked = raw as typeof raw & { errorCode?: string };
      tracked.errorCode ??= systemCodeOf(error) ?? error.message;
    });
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: TlsHandshakeError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        secure.off('secure', onSecure);
        secure.off('error', onError);
        secure.off('close', onClose);
        if (error === undefined) {
          const details = tlsDetails(secure, 'server');
          this.#counts.add('handshakes');
          if (details.resumed) this.#counts.add('resumed');
          connection.upgradeSocket(secure, details);
          this.#onHandshake?.(connection, details);
          resolve();
          return;
        }
        this.#counts.add(`failed:${error.reason}`);
        // The stage's caller destroys the raw socket; the TLS one goes with it.
        secure.destroy();
        this.#onFailure?.(connection, error);
        reject(error);
      };
      const onSecure = () => finish();
      const onError = (error: Error) => finish(handshakeFailure(error, 'client'));
      const onClose = () =>
        finish(
          new TlsHandshakeError('the client closed the connection during the TLS handshake', {
            reason: TlsFailure.Closed,
            call: 'accept',
          }),
        );
      const timer = setTimeout(
        () =>
          finish(
            new TlsHandshakeError(`no complete TLS handshake within ${this.#timeout} ms`, {
              reason: TlsFailure.Timeout,
              call: 'accept',
            }),
          ),
        this.#timeout,
      );
      secure.once('secure', onSecure);
      secure.once('error', onError);
      secure.once('close', onClose);
    });
  }
}
