/**
 * The quote of the day (RFC 865) over TCP and UDP: the server sends a quote (each client the
 * next of its quotes, in turn); the client prints it.
 */
import { DEFAULT_QUOTE, decodeQuote, QOTD_MAX_BYTES, QuoteBook } from '../protocol/qotd.js';
import type { TcpServer } from '../transport/tcp-server.js';
import { UdpServer, type UdpServerOptions } from '../transport/udp-server.js';
import {
  type ClassicClientOptions,
  type ClassicUdpClientOptions,
  createOneShotServer,
  type OneShotServerOptions,
  readUntilClose,
  requestUdp,
} from './one-shot.js';

/** The quotes of a qotd server. */
export interface QuoteOptions {
  /**
   * The quotes, handed out in turn; each under 512 bytes with CR LF line endings, without
   * control characters (see `encodeQuote`).
   * @default [DEFAULT_QUOTE], a line of the lecture
   */
  quotes?: readonly string[];
}

/** Options of {@link createQotdServer}. */
export interface QotdServerOptions extends OneShotServerOptions, QuoteOptions {}

/** A TCP server that sends each client the next quote and closes. Call `listen()`. */
export function createQotdServer(options: QotdServerOptions): TcpServer {
  const book = new QuoteBook(options.quotes ?? [DEFAULT_QUOTE]);
  return createOneShotServer('qotd', options, () => book.next());
}

/** socket, connect, read until the server closes, close: the quote, with LF line endings. */
export async function fetchQuote(options: ClassicClientOptions): Promise<string> {
  // A server may overstep the RFC's 512 a little; a client reads a screenful at most.
  return decodeQuote(await readUntilClose(options, 8 * QOTD_MAX_BYTES, 'a quote'));
}

/** Options of {@link createUdpQotdServer}. */
export interface UdpQotdServerOptions extends Omit<UdpServerOptions, 'onMessage'>, QuoteOptions {}

/**
 * A UDP server that answers every datagram with the next quote: an amplifier (a few hundred
 * bytes for an empty datagram), so it keeps the rate limit's default and answers no source port
 * below 1024. Call `listen()`.
 */
export function createUdpQotdServer(options: UdpQotdServerOptions): UdpServer {
  const book = new QuoteBook(options.quotes ?? [DEFAULT_QUOTE]);
  return new UdpServer({ service: 'qotd', minSourcePort: 1024, ...options, onMessage: () => book.next() });
}

/** sendto an empty datagram, recvfrom the quote. */
export async function fetchUdpQuote(options: ClassicUdpClientOptions): Promise<string> {
  return decodeQuote(await requestUdp(options));
}
