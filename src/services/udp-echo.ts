/**
 * The echo service over UDP (RFC 862): the server sends every datagram back byte for byte, an
 * empty one included; the client sends a message and waits for it to come back.
 */
import { DEFAULT_UDP_RETRIES, DEFAULT_UDP_TIMEOUT_MS } from '../defaults.js';
import { connectUdp, type UdpClient, type UdpRetry } from '../transport/udp-client.js';
import { UdpServer, type UdpServerOptions } from '../transport/udp-server.js';
import { validateDuration, validateInteger } from '../validate.js';

/** Options of {@link createUdpEchoServer}. */
export type UdpEchoServerOptions = Omit<UdpServerOptions, 'onMessage'>;

/** A UDP server that sends every datagram back to its sender unchanged. Call `listen()` on it. */
export function createUdpEchoServer(options: UdpEchoServerOptions): UdpServer {
  return new UdpServer({ service: 'echo', ...options, onMessage: (message) => message });
}

/** Options of {@link openUdpEchoClient}. */
export interface UdpEchoClientOptions {
  /** Server address: IPv4 or IPv6 literal or host name. */
  host: string;
  /** Server port. */
  port: number;
  /**
   * Milliseconds to wait for each reply before sending the message again.
   * @default 1000
   */
  timeout?: number;
  /**
   * How many times to send a message again after a timeout.
   * @default 3
   */
  retries?: number;
  /** Aborts connecting and every exchange. */
  signal?: AbortSignal;
  /** Called as each retry is sent (see `UdpRequestOptions.onRetry`). */
  onRetry?: (retry: UdpRetry) => void;
}

/** An echo client on one UDP socket: many messages, one reply each. */
export class UdpEchoClient {
  readonly #client: UdpClient;
  readonly #timeout: number;
  readonly #retries: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onRetry: ((retry: UdpRetry) => void) | undefined;
  #previous: Buffer | undefined;

  /** @internal Use {@link openUdpEchoClient}. */
  constructor(
    client: UdpClient,
    timeout: number,
    retries: number,
    signal: AbortSignal | undefined,
    onRetry?: (retry: UdpRetry) => void,
  ) {
    this.#client = client;
    this.#onRetry = onRetry;
    this.#timeout = timeout;
    this.#retries = retries;
    this.#signal = signal;
  }

  /** The largest message that fits in one datagram to this server. */
  get maxPayload(): number {
    return this.#client.maxPayload;
  }

  /**
   * Sends `message` as one datagram and resolves with the reply (with retries on timeouts). A
   * datagram equal to the previous message but not to this one is a late copy of the previous
   * reply (its request was sent twice): it is discarded rather than taken as this reply. Any other
   * datagram is the reply, even if it differs from the message (a server that is not an echo
   * server gets its answer printed, as the textbook client would).
   */
  echo(message: Uint8Array): Promise<Buffer> {
    const current = Buffer.from(message);
    const previous = this.#previous;
    this.#previous = current;
    return this.#client.request(current, {
      timeout: this.#timeout,
      retries: this.#retries,
      signal: this.#signal,
      ...(this.#onRetry === undefined ? {} : { onRetry: this.#onRetry }),
      accept:
        previous === undefined || previous.equals(current)
          ? undefined
          : (reply) => reply.equals(current) || !reply.equals(previous),
    });
  }

  /** Closes the socket. Safe to call more than once. */
  close(): Promise<void> {
    return this.#client.close();
  }

  /** Closes the socket (`await using client = ...`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** socket() and connect() for an echo exchange. Rejects with the errors of {@link connectUdp}. */
export async function openUdpEchoClient(options: UdpEchoClientOptions): Promise<UdpEchoClient> {
  const timeout = validateDuration(options.timeout ?? DEFAULT_UDP_TIMEOUT_MS, 'timeout');
  const retries = validateInteger(options.retries ?? DEFAULT_UDP_RETRIES, 'retries', 0, 1000);
  const client = await connectUdp({ host: options.host, port: options.port, signal: options.signal });
  return new UdpEchoClient(client, timeout, retries, options.signal, options.onRetry);
}
