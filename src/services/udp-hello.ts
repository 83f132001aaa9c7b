/**
 * The hello service over UDP: the server answers every datagram with the message and its NUL byte
 * (the same bytes the TCP server writes); the client sends one request and prints the reply.
 */
import { DEFAULT_HELLO_MESSAGE, DEFAULT_UDP_RETRIES, DEFAULT_UDP_TIMEOUT_MS } from '../defaults.js';
import { InvalidArgumentError } from '../errors.js';
import { checkDatagramSize, helloMessageOf } from '../protocol/datagram.js';
import { encodeHello, HelloEnd } from '../protocol/hello.js';
import { connectUdp, type UdpRetry } from '../transport/udp-client.js';
import { UdpServer, type UdpServerOptions } from '../transport/udp-server.js';
import type { HelloReply } from './hello.js';

/** Options of {@link createUdpHelloServer}. */
export interface UdpHelloServerOptions extends Omit<UdpServerOptions, 'onMessage'> {
  /**
   * The text sent back for every datagram.
   * @default 'Hello World!'
   */
  message?: string;
  /**
   * Send the NUL byte after the text, as the C server does (`sizeof(message)` counts it).
   * @default true
   */
  nul?: boolean;
}

/**
 * A UDP server that answers every datagram, whatever it holds (an empty one included), with the
 * hello message. Call `listen()` on the result.
 */
export function createUdpHelloServer(options: UdpHelloServerOptions): UdpServer {
  const message = options.message ?? DEFAULT_HELLO_MESSAGE;
  if (typeof message !== 'string') throw new InvalidArgumentError(`invalid message '${String(message)}'`);
  const payload = encodeHello(message, { nul: options.nul ?? true });
  // The reply may go to an IPv4 client even from an IPv6 socket: hold it to the IPv4 limit.
  try {
    checkDatagramSize(payload.length, 'IPv4');
  } catch {
    throw new InvalidArgumentError(
      `invalid message: ${payload.length} bytes do not fit in one UDP datagram (65507 bytes at most)`,
    );
  }
  return new UdpServer({ service: 'hello', ...options, onMessage: () => payload });
}

/** Options of {@link fetchUdpHello}. */
export interface FetchUdpHelloOptions {
  /** Server address: IPv4 or IPv6 literal or host name. */
  host: string;
  /** Server port. */
  port: number;
  /**
   * Milliseconds to wait for the reply before sending the request again.
   * @default 1000
   */
  timeout?: number;
  /**
   * How many times to send the request again after a timeout.
   * @default 3
   */
  retries?: number;
  /**
   * The request datagram's bytes; the hello server ignores them.
   * @default an empty datagram
   */
  request?: Uint8Array;
  /** Aborts the exchange. */
  signal?: AbortSignal;
  /** Called as each retry is sent (see `UdpRequestOptions.onRetry`). */
  onRetry?: (retry: UdpRetry) => void;
}

/**
 * socket, sendto, recvfrom, close: fetches the hello message from a UDP hello server, retrying on
 * timeouts. The message is the reply's bytes up to its first NUL. Rejects with the errors of
 * {@link connectUdp} and `UdpClient.request` (port unreachable, no reply, message too long, ...).
 */
export async function fetchUdpHello(options: FetchUdpHelloOptions): Promise<HelloReply> {
  const client = await connectUdp({ host: options.host, port: options.port, signal: options.signal });
  try {
    const reply = await client.request(options.request ?? new Uint8Array(0), {
      timeout: options.timeout ?? DEFAULT_UDP_TIMEOUT_MS,
      retries: options.retries ?? DEFAULT_UDP_RETRIES,
      signal: options.signal,
      ...(options.onRetry === undefined ? {} : { onRetry: options.onRetry }),
    });
    const message = helloMessageOf(reply);
    return {
      message,
      text: message.toString('utf8'),
      end: message.length < reply.length ? HelloEnd.Nul : HelloEnd.Eof,
    };
  } finally {
    await client.close();
  }
}
